package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/oauth"
)

// The authorize page of OAuth 2 as Mastodon speaks it: an app sends the
// member's browser here; the member signs in and consents, and the
// browser goes back to the app with a code that the app exchanges at the
// client API's /oauth/token.

// OAuthAuthorize is the sign-in and consent page: an app asks for a
// member's permission.
type OAuthAuthorize struct {
	Page
	AppName, AppWebsite string
	Scopes              []string
	Username            string
	Error               string
	// Params are the authorization request's parameters, sent back with
	// the form.
	Params map[string]string
	// Password offers the password fields; OIDCName, if set, the button
	// that signs in through the identity provider and comes back here
	// (ReturnTo) to authorize.
	Password bool
	OIDCName string
	ReturnTo string
}

// OAuthCode shows an authorization code to paste into an app that has no
// redirect URI (urn:ietf:wg:oauth:2.0:oob).
type OAuthCode struct {
	Page
	AppName, Code string
}

// authRequest reads an authorization request for the form and its
// submission alike. When it returns no request, the answer (an error, or
// the redirect that tells the app what was wrong) is in err.
func (w *Web) authRequest(c echo.Context) (*oauth.Request, error) {
	get := c.QueryParam
	if c.Request().Method == http.MethodPost {
		get = c.FormValue
	}
	r, oauthErr, err := oauth.ParseRequest(c.Request().Context(), w.db, get)
	if errors.Is(err, federation.ErrInvalid) {
		// A browser, not an app, reads this answer.
		return nil, echo.NewHTTPError(http.StatusBadRequest, strings.TrimPrefix(err.Error(), federation.ErrInvalid.Error()+": "))
	} else if err != nil {
		return nil, err
	}
	if oauthErr != "" {
		// Shown, not sent to the app's redirect URI: anyone can register
		// an app, and a redirect on an error nobody consented to would
		// make this server an open redirector (RFC 9700 §4.11.2).
		return nil, echo.NewHTTPError(http.StatusBadRequest, oauth.Describe(oauthErr))
	}
	return r, nil
}

// authorizeForm is GET /oauth/authorize.
func (w *Web) authorizeForm(c echo.Context) error {
	r, err := w.authRequest(c)
	if r == nil {
		return err
	}
	return w.renderAuthorize(c, http.StatusOK, r, "", "")
}

func (w *Web) renderAuthorize(c echo.Context, status int, r *oauth.Request, username, message string) error {
	page := OAuthAuthorize{
		Page:    w.page(c, "Authorize "+r.App.Name),
		AppName: r.App.Name, AppWebsite: r.App.Website, Scopes: r.Scopes,
		Username: username, Error: message, Params: r.Params(),
		Password: w.cfg.PasswordSignIn, OIDCName: w.oidcName(),
	}
	if page.OIDCName != "" {
		q := url.Values{}
		for k, v := range page.Params {
			q.Set(k, v)
		}
		page.ReturnTo = "/oauth/authorize?" + q.Encode()
	}
	dropFormAction(c)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, status, "oauth_authorize", page)
}

// dropFormAction removes form-action from the page's CSP, as Mastodon
// does on this page: browsers apply form-action to the redirect that
// follows the POST, and Chromium refuses it for apps' own schemes
// (Tusky's oauth2redirect://) whatever source list names them. The rest
// of the policy (no scripts, no frames) stays.
func dropFormAction(c echo.Context) {
	res := c.Response()
	res.Before(func() {
		h := res.Header()
		csp := h.Get("Content-Security-Policy")
		if csp == "" {
			return
		}
		var kept []string
		for _, d := range strings.Split(csp, ";") {
			if d = strings.TrimSpace(d); d != "" && !strings.HasPrefix(d, "form-action") {
				kept = append(kept, d)
			}
		}
		h.Set("Content-Security-Policy", strings.Join(kept, "; "))
	})
}

// allowFormAction adds origin to the form-action of the page's CSP.
func allowFormAction(c echo.Context, origin string) {
	res := c.Response()
	res.Before(func() {
		h := res.Header()
		csp := h.Get("Content-Security-Policy")
		if csp == "" || origin == "" {
			return
		}
		ds := strings.Split(csp, ";")
		for i, d := range ds {
			if d = strings.TrimSpace(d); strings.HasPrefix(d, "form-action ") {
				ds[i] = " " + d + " " + origin
			}
		}
		h.Set("Content-Security-Policy", strings.TrimSpace(strings.Join(ds, ";")))
	})
}

// authorizeSubmit is POST /oauth/authorize: sign in and consent in one
// step. The CSRF middleware has checked the form.
func (w *Web) authorizeSubmit(c echo.Context) error {
	r, err := w.authRequest(c)
	if r == nil {
		return err
	}
	if c.FormValue("decision") == "deny" {
		return c.Redirect(http.StatusFound, r.RedirectURL(url.Values{"error": {"access_denied"}}))
	}
	ctx := c.Request().Context()
	// A browser signed in to the web consents without typing its password
	// again; otherwise the form signs it in, to the web too.
	acct, err := w.account(c)
	if err != nil {
		return err
	}
	if acct == nil && !w.cfg.PasswordSignIn {
		return w.renderAuthorize(c, http.StatusForbidden, r, "", "Sign-in with a password is turned off on this server: sign in with "+w.cfg.OIDCName+".")
	}
	if acct == nil {
		username := strings.TrimSpace(c.FormValue("username"))
		acct, err = w.svc.SignIn(ctx, c.RealIP(), username, c.FormValue("password"))
		switch {
		case errors.Is(err, federation.ErrTooManyAttempts):
			return w.renderAuthorize(c, http.StatusTooManyRequests, r, username, tooMany(c, err))
		case errors.Is(err, federation.ErrUnauthorized):
			return w.renderAuthorize(c, http.StatusUnauthorized, r, username, "Invalid username or password.")
		case errors.Is(err, federation.ErrForbidden):
			return w.renderAuthorize(c, http.StatusForbidden, r, username, reason(err))
		case err != nil:
			return err
		}
		if err := w.startSession(c, acct); err != nil {
			return err
		}
	}
	code, err := oauth.IssueCode(ctx, w.db, r, acct, w.now())
	if err != nil {
		return err
	}
	if r.Redirect == oauth.OOBRedirect {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return w.render(c, http.StatusOK, "oauth_code", OAuthCode{
			Page: w.page(c, "Authorization code"), AppName: r.App.Name, Code: code,
		})
	}
	return c.Redirect(http.StatusFound, r.RedirectURL(url.Values{"code": {code}}))
}
