package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
)

// SignInPage is the sign-in form.
type SignInPage struct {
	Page
	Username string
	ReturnTo string
	Error    string
	// CanReset tells whether the server can send a reset link by e-mail.
	CanReset bool
	// Password offers the password form; OIDCName, if set, the button
	// that signs in through the institution's identity provider.
	Password bool
	OIDCName string
}

func (w *Web) signInForm(c echo.Context) error {
	if s, err := w.session(c); err != nil || s != nil {
		if err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return w.renderSignIn(c, http.StatusOK, "", "")
}

func (w *Web) renderSignIn(c echo.Context, status int, username, message string) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	if w.oidc != nil {
		// The button's POST is answered with a redirect to the provider,
		// which browsers check against form-action.
		allowFormAction(c, w.oidc.AuthOrigin())
	}
	return w.render(c, status, "sign_in", SignInPage{
		Page: w.page(c, "Sign in"), Username: username, ReturnTo: localPath(c.FormValue("return_to")),
		Error: message, CanReset: w.mail != nil && w.cfg.PasswordSignIn,
		Password: w.cfg.PasswordSignIn, OIDCName: w.oidcName(),
	})
}

// oidcName is the identity provider's name for its button, or "" when
// none is configured.
func (w *Web) oidcName() string {
	if w.oidc == nil {
		return ""
	}
	return w.cfg.OIDCName
}

// errNoPasswords answers the password forms when the admin has turned
// password sign-in off.
var errNoPasswords = echo.NewHTTPError(http.StatusForbidden,
	"Sign-in with a password is turned off on this server: sign in with your organisation's account from the sign-in page.")

// passwordsOn wraps the handlers of password forms.
func (w *Web) passwordsOn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !w.cfg.PasswordSignIn {
			return errNoPasswords
		}
		return next(c)
	}
}

// signIn checks the form through the same Service.SignIn, with the same
// throttling, as the OAuth authorize page.
func (w *Web) signIn(c echo.Context) error {
	username := strings.TrimSpace(c.FormValue("username"))
	acct, err := w.svc.SignIn(c.Request().Context(), c.RealIP(), username, c.FormValue("password"))
	switch {
	case errors.Is(err, federation.ErrTooManyAttempts):
		return w.renderSignIn(c, http.StatusTooManyRequests, username, tooMany(c, err))
	case errors.Is(err, federation.ErrUnauthorized):
		return w.renderSignIn(c, http.StatusUnauthorized, username, "Invalid username or password.")
	case errors.Is(err, federation.ErrUnconfirmed):
		msg := "Confirm your e-mail address first: follow the link we sent to it."
		if w.mail != nil {
			if err := w.sendConfirmation(c.Request().Context(), acct); err != nil {
				w.log.Error("send confirmation e-mail", "account", acct.Actor.Username, "error", err)
			} else {
				msg = "Confirm your e-mail address first: we have sent the link to " + acct.Email + " again."
			}
		}
		return w.renderSignIn(c, http.StatusForbidden, username, msg)
	case errors.Is(err, federation.ErrForbidden):
		return w.renderSignIn(c, http.StatusForbidden, username, reason(err))
	case err != nil:
		return err
	}
	if err := w.startSession(c, acct); err != nil {
		return err
	}
	to := localPath(c.FormValue("return_to"))
	if to == "" {
		to = "/"
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// signOut ends this browser's session.
func (w *Web) signOut(c echo.Context) error {
	s, err := w.session(c)
	if err != nil {
		return err
	}
	if s != nil {
		if err := w.svc.EndSession(c.Request().Context(), s.Account, s.ID); err != nil {
			return err
		}
	}
	w.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/")
}

// localPath accepts only a path on this site as a place to return to, so
// that the sign-in form cannot send people elsewhere.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || len(p) > 2000 {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Host != "" || u.Scheme != "" {
		return ""
	}
	return p
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// tooMany tells a client refused by a sign-in limit when to try again
// (Retry-After) and why, in words for the page.
func tooMany(c echo.Context, err error) string {
	var limited *federation.RateLimited
	if errors.As(err, &limited) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(limited.RetryAfterSeconds()))
		return reason(err)
	}
	return "Too many sign-in attempts. Try again in a few minutes."
}

// reason is the part of a federation error worded for people.
func reason(err error) string {
	s := err.Error()
	for _, kind := range []error{federation.ErrInvalid, federation.ErrForbidden, federation.ErrUnauthorized, federation.ErrHeld, federation.ErrTooManyAttempts} {
		s = strings.TrimPrefix(s, kind.Error()+": ")
	}
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
