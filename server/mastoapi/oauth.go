package mastoapi

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation/oauth"
	"github.com/commonplace/commonplace/storage"
)

// OAuth 2 as Mastodon speaks it: apps register with POST /api/v1/apps,
// send the member's browser to GET /oauth/authorize (the web front end's
// sign-in and consent page, package web), receive a code at their
// redirect URI and exchange it at POST /oauth/token, with PKCE (S256)
// when they have no secret to keep. client_credentials gives an app
// token; /oauth/revoke ends a token. What both doors share is in
// federation/oauth.

const (
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
		if !oauth.ValidRedirect(u) {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: Redirect URI must be an absolute URI")
		}
	}
	scopes, err := oauth.ParseScopes(p.Get("scopes"))
	if err != nil {
		return errorf(http.StatusUnprocessableEntity, "Validation failed: Scopes: %v", err)
	}
	website := strings.TrimSpace(p.Get("website"))
	if website != "" {
		if u, err := url.Parse(website); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return errorf(http.StatusUnprocessableEntity, "Validation failed: Website must be an http(s) URL")
		}
	}
	secret := oauth.NewSecret()
	app := &storage.OAuthApp{
		ClientID: oauth.NewSecret(), ClientSecretHash: oauth.HashSecret(secret), Name: name, Website: website,
		RedirectURIs: strings.Join(uris, "\n"), Scopes: strings.Join(scopes, " "),
	}
	if err := a.db.CreateOAuthApp(c.Request().Context(), app); err != nil {
		return err
	}
	out := appEntity(app)
	out.VapidKey = a.vapidKey
	out.ClientID, out.ClientSecret = app.ClientID, secret
	zero := 0
	out.ClientSecretExpiresAt = &zero
	return c.JSON(http.StatusOK, out)
}

// verifyApp is GET /api/v1/apps/verify_credentials.
func (a *API) verifyApp(c echo.Context) error {
	t := currentToken(c)
	if t.App == nil {
		return errorf(http.StatusUnprocessableEntity, "This token was not issued to an application")
	}
	out := appEntity(t.App)
	out.VapidKey = a.vapidKey
	return c.JSON(http.StatusOK, out)
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
	if !oauth.SameHash(secret, app.ClientSecretHash) {
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
	access := oauth.NewSecret()
	tok := &storage.OAuthToken{AppID: &app.ID, TokenHash: oauth.HashSecret(access)}
	switch grant {
	case "client_credentials":
		if !secretOK {
			return tokenError(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		}
		scopes, err := oauth.ParseScopes(p.Get("scope"))
		if err != nil || !oauth.SubsetOf(scopes, strings.Fields(app.Scopes)) {
			return tokenError(http.StatusBadRequest, "invalid_scope", "The requested scope is invalid, unknown, or malformed.")
		}
		tok.Scopes = strings.Join(scopes, " ")
	case "authorization_code":
		invalidGrant := tokenError(http.StatusBadRequest, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
		// The checks run inside the exchange, so that the token exists
		// once the code is spent and a second exchange can revoke it.
		check := func(code *storage.OAuthCode) error {
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
			return nil
		}
		if _, err := a.db.ExchangeOAuthCode(ctx, oauth.HashSecret(p.Get("code")), a.now(), check, tok); isNotFound(err) {
			return invalidGrant
		} else if err != nil {
			return err
		}
		return a.tokenIssued(c, access, tok)
	}
	if err := a.db.CreateOAuthToken(ctx, tok); err != nil {
		return err
	}
	return a.tokenIssued(c, access, tok)
}

func (a *API) tokenIssued(c echo.Context, access string, tok *storage.OAuthToken) error {
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
	ctx := c.Request().Context()
	hash := oauth.HashSecret(p.Get("token"))
	tok, _ := a.db.GetOAuthToken(ctx, hash)
	revoked, err := a.db.RevokeOAuthToken(ctx, app.ID, hash, a.now())
	if err != nil {
		return err
	}
	if revoked && tok != nil && tok.ID > 0 {
		// Streaming connections that use the token close, on every replica.
		if err := a.svc.TokenRevoked(ctx, tok.ID); err != nil {
			a.log.Warn("tell streaming of a revoked token", "err", err)
		}
	}
	return c.JSON(http.StatusOK, struct{}{})
}
