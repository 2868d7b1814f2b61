package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
)

// SettingsPage is where members change their profile and password and
// see and end their sessions.
type SettingsPage struct {
	Page
	DisplayName, Bio string
	Sessions         []SessionView
	// Notice says what the last form did; Error what went wrong.
	Notice, Error string
}

// SessionView is one signed-in browser in the settings.
type SessionView struct {
	ID            int64
	Browser, IP   string
	Created, Seen time.Time
	Current       bool
}

var settingsNotices = map[string]string{
	"profile":  "Your profile is saved.",
	"password": "Your password is changed. Your other browsers have been signed out.",
	"session":  "That browser is signed out.",
}

func (w *Web) settings(c echo.Context) error {
	return w.renderSettings(c, http.StatusOK, settingsNotices[c.QueryParam("saved")], "")
}

func (w *Web) renderSettings(c echo.Context, status int, notice, errMsg string) error {
	s, err := w.session(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	list, err := w.db.ListSessions(ctx, s.AccountID, w.now())
	if err != nil {
		return err
	}
	a := s.Account.Actor
	page := SettingsPage{Page: w.page(c, "Settings"), DisplayName: a.DisplayName, Bio: a.Summary, Notice: notice, Error: errMsg}
	for _, x := range list {
		page.Sessions = append(page.Sessions, SessionView{
			ID: x.ID, Browser: browserName(x.UserAgent), IP: x.IP, Created: x.CreatedAt, Seen: x.LastSeenAt, Current: x.ID == s.ID,
		})
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, status, "settings", page)
}

func (w *Web) saveProfile(c echo.Context) error {
	acct, err := w.account(c)
	if err != nil {
		return err
	}
	name, bio := c.FormValue("display_name"), c.FormValue("bio")
	_, err = w.svc.UpdateProfile(c.Request().Context(), acct.Actor, federation.ProfileUpdate{DisplayName: &name, Note: &bio})
	if errors.Is(err, federation.ErrInvalid) {
		return w.renderSettings(c, http.StatusUnprocessableEntity, "", reason(err))
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings?saved=profile")
}

func (w *Web) changePassword(c echo.Context) error {
	s, err := w.session(c)
	if err != nil {
		return err
	}
	if !federation.CheckPassword(s.Account, c.FormValue("current_password")) {
		return w.renderSettings(c, http.StatusUnprocessableEntity, "", "Your current password is not right.")
	}
	if c.FormValue("password") != c.FormValue("password_confirmation") {
		return w.renderSettings(c, http.StatusUnprocessableEntity, "", "The two new passwords differ.")
	}
	err = w.svc.SetPassword(c.Request().Context(), s.Account, c.FormValue("password"), s.ID)
	if errors.Is(err, federation.ErrInvalid) {
		return w.renderSettings(c, http.StatusUnprocessableEntity, "", reason(err))
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/settings?saved=password")
}

func (w *Web) endSession(c echo.Context) error {
	s, err := w.session(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "no such session")
	}
	if err := w.svc.EndSession(c.Request().Context(), s.Account, id); err != nil {
		return err
	}
	if id == s.ID {
		w.clearSessionCookie(c)
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return c.Redirect(http.StatusSeeOther, "/settings?saved=session#sessions")
}

// browserName is a short, human name for a user agent.
func browserName(ua string) string {
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chromium"},
		{"Safari/", "Safari"}, {"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			return b.name
		}
	}
	if ua == "" {
		return "Unknown browser"
	}
	if r := []rune(ua); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return ua
}
