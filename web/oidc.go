package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/openid"
	"github.com/commonplace/commonplace/storage"
)

// Sign-in through the institution's OpenID provider. The sign-in page's
// button posts to /auth/oidc, which sends the browser to the provider
// with a fresh state, nonce and PKCE verifier, kept in the database with
// the hash of a random value in this browser's cookie. The provider sends
// the browser back to /auth/oidc/callback; the state is taken once, from
// the same browser only, the ID token checked (package openid), and the
// identity signed in to its account (federation.SignInIdentity).

const (
	oidcCookieTLS   = "__Host-commonplace_oidc"
	oidcCookiePlain = "commonplace_oidc"
	// oidcLoginLifetime is how long a person has at the provider.
	oidcLoginLifetime = 10 * time.Minute
	// oidcChoiceLifetime is how long a verified identity waits for its
	// owner to choose a name.
	oidcChoiceLifetime = 15 * time.Minute
)

// OIDCChoosePage asks a person signing in for the first time for a name,
// when the one derived from their identity is taken.
type OIDCChoosePage struct {
	Page
	Token, Username, Error string
}

// heldIdentity is what a sign-in keeps while its owner chooses a name.
type heldIdentity struct {
	Identity  federation.Identity
	Suggested string
}

func (w *Web) oidcCookie() string {
	if w.cfg.Protocol == "https" {
		return oidcCookieTLS
	}
	return oidcCookiePlain
}

func (w *Web) oidcRules() federation.OIDCRules {
	r := federation.OIDCRules{
		CreateAccounts: w.cfg.OIDCCreateAccounts, LinkByEmail: w.cfg.OIDCLinkByEmail, EmailDomains: w.cfg.OIDCEmailDomains,
	}
	for _, g := range w.cfg.OIDCGroups {
		// Validated with the config; a bad rule cannot get this far.
		if rule, err := federation.ParseGroupRule(g); err == nil {
			r.Groups = append(r.Groups, rule)
		}
	}
	return r
}

// browserBinding is this browser's sign-in cookie value, set if missing.
// A browser keeps its value while it has one, so that two tabs signing in
// at once do not undo each other.
func (w *Web) browserBinding(c echo.Context) string {
	if ck, err := c.Cookie(w.oidcCookie()); err == nil && len(ck.Value) >= 32 && len(ck.Value) <= 100 {
		return ck.Value
	}
	v := randomToken()
	c.SetCookie(&http.Cookie{
		Name: w.oidcCookie(), Value: v, Path: "/", MaxAge: int(oidcChoiceLifetime / time.Second),
		HttpOnly: true, Secure: w.cfg.Protocol == "https", SameSite: http.SameSiteLaxMode,
	})
	return v
}

// oidcStart is POST /auth/oidc: leave for the provider.
func (w *Web) oidcStart(c echo.Context) error {
	if w.oidc == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Sign-in through an identity provider is not set up here.")
	}
	ctx := c.Request().Context()
	req, err := w.oidc.Start(ctx)
	if err != nil {
		w.log.Error("start sign-in through the identity provider", "error", err)
		return w.renderSignIn(c, http.StatusBadGateway, "", "The identity provider cannot be reached just now. Try again in a few minutes.")
	}
	now := w.now()
	err = w.db.CreateOIDCLogin(ctx, &storage.OIDCLogin{
		StateHash: sha256Hex(req.State), BrowserHash: sha256Hex(w.browserBinding(c)),
		Nonce: req.Nonce, Verifier: req.Verifier, ReturnTo: localPath(c.FormValue("return_to")),
		CreatedAt: now, ExpiresAt: now.Add(oidcLoginLifetime),
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.Redirect(http.StatusSeeOther, req.URL)
}

var errStaleSignIn = echo.NewHTTPError(http.StatusBadRequest,
	"This sign-in has expired, was already used or was started in another browser. Start again from the sign-in page.")

// oidcCallback is GET /auth/oidc/callback: the provider's answer.
func (w *Web) oidcCallback(c echo.Context) error {
	if w.oidc == nil {
		return echo.NewHTTPError(http.StatusNotFound, "Sign-in through an identity provider is not set up here.")
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	ctx := c.Request().Context()
	ck, err := c.Cookie(w.oidcCookie())
	state := c.QueryParam("state")
	if err != nil || state == "" {
		return errStaleSignIn
	}
	l, err := w.db.UseOIDCLogin(ctx, sha256Hex(state), sha256Hex(ck.Value), w.now())
	if errors.Is(err, storage.ErrNotFound) {
		return errStaleSignIn
	} else if err != nil {
		return err
	}
	if e := c.QueryParam("error"); e != "" {
		w.db.DeleteOIDCLogin(ctx, l.ID)
		w.log.Info("identity provider refused a sign-in", "error", e, "description", c.QueryParam("error_description"))
		return w.renderSignIn(c, http.StatusUnauthorized, "", "Your organisation's sign-in did not sign you in. Try again.")
	}
	claims, err := w.oidc.Finish(ctx, c.QueryParam("code"), l.Verifier, l.Nonce)
	if err != nil {
		w.db.DeleteOIDCLogin(ctx, l.ID)
		if errors.Is(err, openid.ErrRefused) {
			w.log.Warn("identity provider's answer refused", "error", err)
			return w.renderSignIn(c, http.StatusUnauthorized, "", "The answer of your organisation's sign-in could not be checked, so you are not signed in. Try again; if it happens again, tell the admin.")
		}
		w.log.Error("finish sign-in through the identity provider", "error", err)
		return w.renderSignIn(c, http.StatusBadGateway, "", "The identity provider cannot be reached just now. Try again in a few minutes.")
	}
	id := federation.Identity{
		Issuer: claims.Issuer, Subject: claims.Subject, Username: claims.Username, Name: claims.Name,
		Email: claims.Email, EmailVerified: claims.EmailVerified, Groups: claims.Groups, GroupsKnown: claims.GroupsKnown,
	}
	acct, suggested, err := w.svc.SignInIdentity(ctx, id, w.oidcRules())
	switch {
	case errors.Is(err, federation.ErrChooseName):
		token := randomToken()
		held, err := json.Marshal(heldIdentity{Identity: id, Suggested: suggested})
		if err != nil {
			return err
		}
		if err := w.db.HoldOIDCLogin(ctx, l.ID, sha256Hex(token), string(held), w.now().Add(oidcChoiceLifetime)); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/auth/oidc/choose?token="+urlQueryEscape(token))
	case errors.Is(err, federation.ErrForbidden), errors.Is(err, federation.ErrInvalid):
		w.db.DeleteOIDCLogin(ctx, l.ID)
		return w.renderSignIn(c, http.StatusForbidden, "", reason(err))
	case err != nil:
		return err
	}
	return w.oidcSignedIn(c, l, acct)
}

// oidcSignedIn ends a sign-in through the provider: the browser gets a
// session and goes where it was going.
func (w *Web) oidcSignedIn(c echo.Context, l *storage.OIDCLogin, acct *storage.Account) error {
	if err := w.db.DeleteOIDCLogin(c.Request().Context(), l.ID); err != nil {
		return err
	}
	if err := w.startSession(c, acct); err != nil {
		return err
	}
	to := l.ReturnTo
	if to == "" {
		to = "/"
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// heldChoice is the sign-in waiting for a name that the form names, from
// this browser only.
func (w *Web) heldChoice(c echo.Context, token string) (*storage.OIDCLogin, *heldIdentity, error) {
	ck, err := c.Cookie(w.oidcCookie())
	if err != nil || token == "" || len(token) > 100 {
		return nil, nil, errStaleSignIn
	}
	l, err := w.db.GetOIDCChoice(c.Request().Context(), sha256Hex(token), sha256Hex(ck.Value), w.now())
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, errStaleSignIn
	} else if err != nil {
		return nil, nil, err
	}
	var h heldIdentity
	if err := json.Unmarshal([]byte(l.Claims), &h); err != nil {
		return nil, nil, err
	}
	return l, &h, nil
}

// oidcChooseForm is GET /auth/oidc/choose.
func (w *Web) oidcChooseForm(c echo.Context) error {
	token := c.QueryParam("token")
	_, h, err := w.heldChoice(c, token)
	if err != nil {
		return err
	}
	return w.renderChoose(c, http.StatusOK, token, h.Suggested, "")
}

func (w *Web) renderChoose(c echo.Context, status int, token, username, msg string) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, status, "oidc_choose", OIDCChoosePage{
		Page: w.page(c, "Choose your name"), Token: token, Username: username, Error: msg,
	})
}

// oidcChoose is POST /auth/oidc/choose: create the account with the name
// chosen.
func (w *Web) oidcChoose(c echo.Context) error {
	token := c.FormValue("token")
	l, h, err := w.heldChoice(c, token)
	if err != nil {
		return err
	}
	username := strings.ToLower(strings.TrimSpace(c.FormValue("username")))
	acct, err := w.svc.CreateIdentityAccount(c.Request().Context(), h.Identity, w.oidcRules(), username)
	switch {
	case errors.Is(err, storage.ErrConflict):
		return w.renderChoose(c, http.StatusConflict, token, username, "That name is already taken. Choose another.")
	case errors.Is(err, federation.ErrInvalid):
		return w.renderChoose(c, http.StatusUnprocessableEntity, token, username, reason(err))
	case errors.Is(err, federation.ErrForbidden):
		return w.renderSignIn(c, http.StatusForbidden, "", reason(err))
	case err != nil:
		return err
	}
	return w.oidcSignedIn(c, l, acct)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
