package mastoapi

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation/oauth"
	"github.com/commonplace/commonplace/storage"
)

const tokenKey = "mastoapi.token"

// IssueToken mints an access token for a local member with the given
// scopes (space-separated), for scripts: the `account token` command.
// It returns the token; only its hash is stored.
func IssueToken(ctx context.Context, db *storage.DB, username, scopes string) (string, error) {
	list, err := oauth.ParseScopes(scopes)
	if err != nil {
		return "", err
	}
	acct, err := db.GetAccountByUsername(ctx, username)
	if err != nil {
		return "", fmt.Errorf("account %q: %w", username, err)
	}
	if acct.Disabled {
		return "", fmt.Errorf("account %q is disabled", username)
	}
	token := oauth.NewSecret()
	err = db.CreateOAuthToken(ctx, &storage.OAuthToken{
		TokenHash: oauth.HashSecret(token), AccountID: &acct.ID, Scopes: strings.Join(list, " "),
	})
	return token, err
}

// authenticate reads the bearer token, if any. No token is (nil, nil); a
// token that is unknown, revoked or whose account is disabled is an error.
func (a *API) authenticate(c echo.Context) (*storage.OAuthToken, error) {
	if t, ok := c.Get(tokenKey).(*storage.OAuthToken); ok {
		return t, nil
	}
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	if h == "" {
		// Browsers cannot set headers on a WebSocket: streaming takes the
		// token where they can put it (streaming.go).
		if t := streamingToken(c.Request()); t != "" {
			h = "Bearer " + t
		} else {
			return nil, nil
		}
	}
	scheme, raw, ok := strings.Cut(h, " ")
	raw = strings.TrimSpace(raw)
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" || len(raw) > 512 {
		return nil, errUnauthorized
	}
	tok, err := a.db.GetOAuthToken(c.Request().Context(), oauth.HashSecret(raw))
	if err != nil {
		if isNotFound(err) {
			return nil, errUnauthorized
		}
		return nil, err
	}
	if tok.Account != nil && (tok.Account.Disabled || tok.Account.Actor == nil) {
		return nil, errUnauthorized
	}
	if err := a.db.TouchOAuthToken(c.Request().Context(), tok.ID, a.now()); err != nil {
		a.log.Warn("record token use", "error", err)
	}
	c.Set(tokenKey, tok)
	return tok, nil
}

// member is the server's Viewer hook: the local account of the request's
// bearer token, or nil without one or for an application's own token (an
// invalid token is no member either; the API's guard answers it).
func (a *API) member(c echo.Context) (*storage.Account, error) {
	scheme, _, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
	if !strings.EqualFold(scheme, "Bearer") && streamingToken(c.Request()) == "" {
		return nil, nil
	}
	tok, err := a.authenticate(c)
	if err == errUnauthorized || tok == nil {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return tok.Account, nil
}

// viewer is the member the request acts for, or nil.
func viewer(c echo.Context) *storage.Actor {
	t, _ := c.Get(tokenKey).(*storage.OAuthToken)
	if t == nil || t.Account == nil {
		return nil
	}
	return t.Account.Actor
}

func viewerID(c echo.Context) int64 {
	if v := viewer(c); v != nil {
		return v.ID
	}
	return 0
}

func currentToken(c echo.Context) *storage.OAuthToken {
	t, _ := c.Get(tokenKey).(*storage.OAuthToken)
	return t
}

const isoTime = "2006-01-02T15:04:05.000Z"

func iso(t time.Time) string { return t.UTC().Format(isoTime) }
