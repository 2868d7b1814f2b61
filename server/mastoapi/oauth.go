package mastoapi

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/web"
)

// OAuth 2 as Mastodon speaks it: apps register with POST /api/v1/apps,
// send the member's browser to GET /oauth/authorize (a login and consent
// form rendered here), receive a code at their redirect URI and exchange
// it at POST /oauth/token, with PKCE (S256) when they have no secret to
// keep. client_credentials gives an app token; /oauth/revoke ends a token.

const (
	oobRedirect  = "urn:ietf:wg:oauth:2.0:oob"
	codeLifetime = 10 * time.Minute
	maxAppName   = 100
	maxRedirects = 10
)

// createApp is POST /api/v1/apps.
func (a *API) createApp(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(p.Get("client_name"))
	if name == "" || utf8.RuneCountInString(name) > maxAppName {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Application name must be 1 to %d characters", maxAppName)
	}
	var uris []string
	for _, v := range p.list("redirect_uris") {
		for _, u := range strings.Fields(v) {
			if !slices.Contains(uris, u) {
				uris = append(uris, u)
			}
		}
	}
	if len(uris) == 0 || len(uris) > maxRedirects {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Redirect URI can't be blank")
	}
	for _, u := range uris {
		if !validRedirect(u) {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: Redirect URI must be an absolute URI")
		}
	}
	scopes, err := ParseScopes(p.Get("scopes"))
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Scopes: %v", err)
	}
	website := strings.TrimSpace(p.Get("website"))
	if website != "" {
		if u, err := url.Parse(website); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: Website must be an http(s) URL")
		}
	}
	secret := newSecret()
	app := &storage.OAuthApp{
		ClientID: newSecret(), ClientSecretHash: hashSecret(secret), Name: name, Website: website,
		RedirectURIs: strings.Join(uris, "\n"), Scopes: strings.Join(scopes, " "),
	}
	if err := a.db.CreateOAuthApp(c.Request().Context(), app); err != nil {
		return err
	}
	out := appEntity(app)
	out.ClientID, out.ClientSecret = app.ClientID, secret
	zero := 0
	out.ClientSecretExpiresAt = &zero
	return c.JSON(http.StatusOK, out)
}

// validRedirect accepts absolute URIs (app schemes included) and the
// out-of-band marker, never script-carrying schemes.
func validRedirect(s string) bool {
	if s == oobRedirect {
		return true
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || u.Fragment != "" {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "javascript", "data", "vbscript", "file":
		return false
	case "http", "https":
		return u.Host != ""
	}
	return true
}

// verifyApp is GET /api/v1/apps/verify_credentials.
func (a *API) verifyApp(c echo.Context) error {
	t := currentToken(c)
	if t.App == nil {
		return errorf(http.StatusUnprocessableEntity, "This token was not issued to an application")
	}
	return c.JSON(http.StatusOK, appEntity(t.App))
}

// authRequest is a validated authorization request.
type authRequest struct {
	app                        *storage.OAuthApp
	redirect, state            string
	scopes                     []string
	challenge, challengeMethod string
}

// parseAuthRequest checks an authorization request. Errors the app can be
// told about are returned as a redirect; those that make the redirect
// untrustworthy (unknown app, unregistered redirect URI) are shown to the
// member instead.
func (a *API) parseAuthRequest(c echo.Context, p params) (*authRequest, string, error) {
	app, err := a.db.GetOAuthAppByClientID(c.Request().Context(), p.Get("client_id"))
	if isNotFound(err) {
		return nil, "", errorf(http.StatusBadRequest, "The client is unknown: check the app's client_id.")
	} else if err != nil {
		return nil, "", err
	}
	registered := strings.Split(app.RedirectURIs, "\n")
	redirect := p.Get("redirect_uri")
	if redirect == "" && len(registered) == 1 {
		redirect = registered[0]
	}
	if !slices.Contains(registered, redirect) {
		return nil, "", errorf(http.StatusBadRequest, "The redirect URI is not registered for this app.")
	}
	r := &authRequest{app: app, redirect: redirect, state: p.Get("state")}
	if p.Get("response_type") != "code" {
		return r, "unsupported_response_type", nil
	}
	scopes, err := ParseScopes(p.Get("scope"))
	if err != nil || !subsetOf(scopes, strings.Fields(app.Scopes)) {
		return r, "invalid_scope", nil
	}
	r.scopes = scopes
	r.challenge, r.challengeMethod = p.Get("code_challenge"), p.Get("code_challenge_method")
	if r.challenge != "" {
		if r.challengeMethod == "" {
			r.challengeMethod = "plain"
		}
		// Only S256: "plain" would hand the verifier to anyone who sees
		// the authorization request.
		if r.challengeMethod != "S256" || len(r.challenge) < 43 || len(r.challenge) > 128 {
			return r, "invalid_request", nil
		}
	}
	return r, "", nil
}

func (r *authRequest) hidden() map[string]string {
	h := map[string]string{
		"client_id": r.app.ClientID, "redirect_uri": r.redirect, "response_type": "code",
		"scope": strings.Join(r.scopes, " "),
	}
	if r.state != "" {
		h["state"] = r.state
	}
	if r.challenge != "" {
		h["code_challenge"], h["code_challenge_method"] = r.challenge, r.challengeMethod
	}
	return h
}

// redirectWith sends the browser back to the app with query values.
func (r *authRequest) redirectWith(c echo.Context, v url.Values) error {
	if r.state != "" {
		v.Set("state", r.state)
	}
	u, _ := url.Parse(r.redirect)
	q := u.Query()
	for k, vs := range v {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	return c.Redirect(http.StatusFound, u.String())
}

// authRequest reads an authorization request for the form and its
// submission alike. When it returns no request, the answer (an error, or
// the redirect that tells the app what was wrong) is in err.
func (a *API) authRequest(c echo.Context) (params, *authRequest, error) {
	p, err := a.params(c)
	if err != nil {
		return p, nil, err
	}
	r, oauthErr, err := a.parseAuthRequest(c, p)
	if err != nil {
		return p, nil, err
	}
	if oauthErr != "" {
		return p, nil, r.redirectWith(c, url.Values{"error": {oauthErr}})
	}
	return p, r, nil
}

// authorizeForm is GET /oauth/authorize: the login and consent page.
func (a *API) authorizeForm(c echo.Context) error {
	_, r, err := a.authRequest(c)
	if r == nil {
		return err
	}
	return a.renderAuthorize(c, http.StatusOK, r, "", "")
}

func (a *API) renderAuthorize(c echo.Context, status int, r *authRequest, username, message string) error {
	token, _ := c.Get(csrfKey).(string)
	page := web.OAuthAuthorize{
		Page:    web.Page{Title: "Authorize " + r.app.Name, Domain: a.domain},
		AppName: r.app.Name, AppWebsite: r.app.Website, Scopes: r.scopes,
		Username: username, Error: message, CSRF: token, Hidden: r.hidden(),
	}
	a.dropFormAction(c)
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return a.render(c, status, "oauth_authorize", page)
}

// dropFormAction removes form-action from the page's CSP, as Mastodon
// does on this page: browsers apply form-action to the redirect that
// follows the POST, and Chromium refuses it for apps' own schemes
// (Tusky's oauth2redirect://) whatever source list names them. The rest
// of the policy (no scripts, no frames) stays.
func (a *API) dropFormAction(c echo.Context) {
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

func (a *API) render(c echo.Context, status int, page string, data any) error {
	var buf bytes.Buffer
	if err := a.pages.Render(&buf, page, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// authorizeSubmit is POST /oauth/authorize: log in and consent in one
// step. The CSRF middleware has checked the form's token.
func (a *API) authorizeSubmit(c echo.Context) error {
	p, r, err := a.authRequest(c)
	if r == nil {
		return err
	}
	if p.Get("decision") == "deny" {
		return r.redirectWith(c, url.Values{"error": {"access_denied"}})
	}
	username := strings.TrimSpace(p.Get("username"))
	if ok, _, _ := a.logins.take(a.clientIP(c)+"\x00"+strings.ToLower(username), a.now()); !ok {
		return a.renderAuthorize(c, http.StatusTooManyRequests, r, username, "Too many login attempts. Try again in a few minutes.")
	}
	acct, err := a.login(c, username, p.Get("password"))
	if err != nil {
		return err
	}
	if acct == nil {
		return a.renderAuthorize(c, http.StatusUnauthorized, r, username, "Invalid username or password.")
	}
	code := newSecret()
	err = a.db.CreateOAuthCode(c.Request().Context(), &storage.OAuthCode{
		CodeHash: hashSecret(code), AppID: r.app.ID, AccountID: acct.ID, RedirectURI: r.redirect,
		Scopes: strings.Join(r.scopes, " "), CodeChallenge: r.challenge, CodeChallengeMethod: r.challengeMethod,
		ExpiresAt: a.now().Add(codeLifetime).UTC(),
	})
	if err != nil {
		return err
	}
	if r.redirect == oobRedirect {
		c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
		return a.render(c, http.StatusOK, "oauth_code", web.OAuthCode{
			Page: web.Page{Title: "Authorization code", Domain: a.domain}, AppName: r.app.Name, Code: code,
		})
	}
	return r.redirectWith(c, url.Values{"code": {code}})
}

// login checks a member's credentials. The password is always checked
// against some argon2id hash, so the time taken does not tell whether the
// account exists.
func (a *API) login(c echo.Context, username, password string) (*storage.Account, error) {
	ctx := c.Request().Context()
	var (
		acct *storage.Account
		err  error
	)
	switch {
	case username == "" || len(password) > federation.MaxPasswordLen:
		err = storage.ErrNotFound
	case strings.Contains(username, "@"):
		acct, err = a.db.GetAccountByEmail(ctx, username)
	default:
		acct, err = a.db.GetAccountByUsername(ctx, username)
	}
	if err != nil && !isNotFound(err) {
		return nil, err
	}
	if err != nil {
		// Same cost as a wrong password: no telling which names exist.
		federation.CheckPassword(nil, password)
		return nil, nil
	}
	if !federation.CheckPassword(acct, password) {
		return nil, nil
	}
	return acct, nil
}

// errorsAsPage shows a failed authorization request to the member as a
// page, since a browser, not an app, reads the answer.
func (a *API) errorsAsPage(h echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		err := h(c)
		var ae *apiError
		if errors.As(err, &ae) {
			return a.render(c, ae.status, "error", web.ErrorPage{
				Page: web.Page{Title: http.StatusText(ae.status), Domain: a.domain}, Status: ae.status, Message: ae.msg,
			})
		}
		return err
	}
}

const (
	csrfKey    = "mastoapi.csrf"
	csrfCookie = "commonplace_csrf"
	csrfField  = "authenticity_token"
)

// csrf guards the login form with a double-submit token: a random value
// in an HttpOnly, SameSite=Lax cookie scoped to /oauth that the form must
// send back. Another site can make a browser post the form but can
// neither read nor set the cookie, so it cannot repeat the value. It
// needs no server state, so any replica can check it.
func (a *API) csrf() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token := ""
			if ck, err := c.Cookie(csrfCookie); err == nil && len(ck.Value) == 43 {
				token = ck.Value
			}
			if c.Request().Method == http.MethodPost {
				sent := c.FormValue(csrfField)
				if token == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(token)) != 1 {
					return errorf(http.StatusForbidden, "The form expired or was not sent from this site. Go back, reload the page and try again.")
				}
			}
			if token == "" {
				token = newSecret()
			}
			c.SetCookie(&http.Cookie{
				Name: csrfCookie, Value: token, Path: "/oauth", MaxAge: 3600,
				HttpOnly: true, Secure: a.cfg.Protocol == "https", SameSite: http.SameSiteLaxMode,
			})
			c.Set(csrfKey, token)
			return next(c)
		}
	}
}

// tokenError is an OAuth error body (RFC 6749 section 5.2).
func tokenError(status int, code, description string) error {
	return &apiError{status: status, msg: code, description: description}
}

// clientAuth identifies the app at the token and revoke endpoints by
// client_id and client_secret (in the form or HTTP Basic). secretOK
// reports whether the secret was sent and right.
func (a *API) clientAuth(c echo.Context, p params) (app *storage.OAuthApp, secretOK bool, err error) {
	id, secret := p.Get("client_id"), p.Get("client_secret")
	if u, pw, ok := c.Request().BasicAuth(); ok && id == "" {
		id, secret = u, pw
	}
	app, err = a.db.GetOAuthAppByClientID(c.Request().Context(), id)
	if isNotFound(err) || id == "" {
		return nil, false, tokenError(http.StatusUnauthorized, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
	} else if err != nil {
		return nil, false, err
	}
	if secret == "" {
		return app, false, nil
	}
	if !sameHash(secret, app.ClientSecretHash) {
		return nil, false, tokenError(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
	}
	return app, true, nil
}

// token is POST /oauth/token.
func (a *API) token(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	p, err := a.params(c)
	if err != nil {
		return err
	}
	grant := p.Get("grant_type")
	if grant != "authorization_code" && grant != "client_credentials" {
		return tokenError(http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
	}
	app, secretOK, err := a.clientAuth(c, p)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	tok := &storage.OAuthToken{AppID: &app.ID}
	switch grant {
	case "client_credentials":
		if !secretOK {
			return tokenError(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		}
		scopes, err := ParseScopes(p.Get("scope"))
		if err != nil || !subsetOf(scopes, strings.Fields(app.Scopes)) {
			return tokenError(http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown, or malformed.")
		}
		tok.Scopes = strings.Join(scopes, " ")
	case "authorization_code":
		invalidGrant := tokenError(http.StatusBadRequest, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
		code, err := a.db.UseOAuthCode(ctx, hashSecret(p.Get("code")), a.now())
		if isNotFound(err) {
			return invalidGrant
		} else if err != nil {
			return err
		}
		redirect := p.Get("redirect_uri")
		if redirect == "" {
			redirect = code.RedirectURI
		}
		if code.AppID != app.ID || redirect != code.RedirectURI {
			return invalidGrant
		}
		verifier := p.Get("code_verifier")
		switch {
		case code.CodeChallenge != "":
			if !pkceMatches(verifier, code.CodeChallenge) {
				return invalidGrant
			}
		case !secretOK:
			// Without PKCE only the app's secret proves who asks.
			return tokenError(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		}
		tok.AccountID, tok.Scopes = &code.AccountID, code.Scopes
	}
	access := newSecret()
	tok.TokenHash = hashSecret(access)
	if err := a.db.CreateOAuthToken(ctx, tok); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, Token{
		AccessToken: access, TokenType: "Bearer", Scope: tok.Scopes, CreatedAt: tok.CreatedAt.Unix(),
	})
}

// pkceMatches checks a code verifier against an S256 challenge (RFC 7636).
func pkceMatches(verifier, challenge string) bool {
	if len(verifier) < 43 || len(verifier) > 128 {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

// revoke is POST /oauth/revoke (RFC 7009): an app ends one of its tokens.
// An unknown token is not an error.
func (a *API) revoke(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	app, secretOK, err := a.clientAuth(c, p)
	if err != nil {
		return err
	}
	if !secretOK {
		return tokenError(http.StatusForbidden, "unauthorized_client", "You are not authorized to revoke this token")
	}
	if _, err := a.db.RevokeOAuthToken(c.Request().Context(), app.ID, hashSecret(p.Get("token")), a.now()); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}
