package web

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// Sessions: a signed-in browser holds a random token in an HttpOnly,
// SameSite=Lax cookie; the database holds its hash (federation.Service
// StartSession and Session), so every replica knows it and a member can
// end it from settings.

const (
	sessionKey = "web.session"
	// Without https the __Host- prefix cannot be used (it needs Secure).
	sessionCookieTLS   = "__Host-commonplace_session"
	sessionCookiePlain = "commonplace_session"
)

// Viewer is the signed-in member a page is shown to.
type Viewer struct {
	Name, Handle, DisplayName string
	Admin                     bool
	// SessionID is the session the page is shown in.
	SessionID int64
}

func (w *Web) sessionCookie() string {
	if w.cfg.Protocol == "https" {
		return sessionCookieTLS
	}
	return sessionCookiePlain
}

// session is the request's live session, or nil when no one is signed
// in. It is looked up once per request, on first use, so that pages
// routed by server (the actor pages) find it as pages routed here do.
func (w *Web) session(c echo.Context) (*storage.Session, error) {
	if s, ok := c.Get(sessionKey).(*storage.Session); ok {
		return s, nil
	}
	ck, err := c.Cookie(w.sessionCookie())
	if err != nil {
		return nil, nil
	}
	s, err := w.svc.Session(c.Request().Context(), ck.Value)
	if errors.Is(err, storage.ErrNotFound) {
		w.clearSessionCookie(c)
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	c.Set(sessionKey, s)
	return s, nil
}

// account is the signed-in member's account, or nil.
func (w *Web) account(c echo.Context) (*storage.Account, error) {
	s, err := w.session(c)
	if s == nil || err != nil {
		return nil, err
	}
	return s.Account, nil
}

// signedIn wraps handlers for members only: visitors are sent to the
// sign-in page, which brings them back.
func (w *Web) signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s, err := w.session(c)
		if err != nil {
			return err
		}
		if s == nil {
			if c.Request().Method != http.MethodGet {
				return echo.NewHTTPError(http.StatusUnauthorized, "Sign in first.")
			}
			return c.Redirect(http.StatusSeeOther, "/auth/sign_in?return_to="+urlQueryEscape(c.Request().URL.RequestURI()))
		}
		return next(c)
	}
}

// adminOnly wraps handlers for the instance's admins.
func (w *Web) adminOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return w.signedIn(func(c echo.Context) error {
		if a, _ := w.account(c); a == nil || !a.Admin {
			return echo.NewHTTPError(http.StatusForbidden, "Only the server's admins can see this page.")
		}
		return next(c)
	})
}

// startSession signs the browser in as acct.
func (w *Web) startSession(c echo.Context, acct *storage.Account) error {
	token, err := w.svc.StartSession(c.Request().Context(), acct, c.Request().UserAgent(), c.RealIP())
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name: w.sessionCookie(), Value: token, Path: "/", MaxAge: int(federation.SessionLifetime / time.Second),
		HttpOnly: true, Secure: w.cfg.Protocol == "https", SameSite: http.SameSiteLaxMode,
	})
	return nil
}

func (w *Web) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{
		Name: w.sessionCookie(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: w.cfg.Protocol == "https", SameSite: http.SameSiteLaxMode,
	})
}

// viewer describes the signed-in member for the page's header.
func (w *Web) viewer(c echo.Context) *Viewer {
	s, _ := w.session(c)
	if s == nil {
		return nil
	}
	a := s.Account
	return &Viewer{
		Name: a.Actor.Username, Handle: "@" + a.Actor.Username + "@" + w.domain, DisplayName: a.Actor.DisplayName,
		Admin: a.Admin, SessionID: s.ID,
	}
}
