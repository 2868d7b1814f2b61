package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// ForgotPage asks for the address to send a reset link to.
type ForgotPage struct {
	Page
	// CanMail is false when the server has no SMTP settings: then only an
	// admin can make a reset link (commonplace account reset-link NAME).
	CanMail bool
	Sent    bool
	Email   string
}

// ResetPage is where a reset link leads: choose a new password.
type ResetPage struct {
	Page
	Token string
	Error string
}

func (w *Web) forgotForm(c echo.Context) error {
	return w.render(c, http.StatusOK, "forgot", ForgotPage{Page: w.page(c, "Forgot your password?"), CanMail: w.mail != nil})
}

// forgot sends a reset link if the address belongs to an account, and
// answers the same either way, so that the form does not tell who has an
// account here.
func (w *Web) forgot(c echo.Context) error {
	if w.mail == nil {
		return w.forgotForm(c)
	}
	email := strings.TrimSpace(c.FormValue("email"))
	page := ForgotPage{Page: w.page(c, "Forgot your password?"), CanMail: true, Sent: true, Email: email}
	// The same budget as sign-in attempts: one mail per try.
	if !w.svc.AllowAttempt(c.RealIP(), email) {
		return echo.NewHTTPError(http.StatusTooManyRequests, "Too many attempts. Try again in a few minutes.")
	}
	ctx := c.Request().Context()
	acct, err := w.db.GetAccountByEmail(ctx, email)
	switch {
	case errors.Is(err, storage.ErrNotFound) || err == nil && acct.Disabled:
	case err != nil:
		return err
	default:
		token, err := w.svc.IssueLink(ctx, acct, storage.LinkReset)
		if err != nil {
			return err
		}
		link := w.cfg.BaseURL() + "/auth/password/reset?token=" + token
		if err := w.mail.Send(ctx, acct.Email, "Choose a new password on "+w.domain, fmt.Sprintf(
			"Hello %s,\n\nSomeone asked to reset your password on %s. To choose a new one, open this link within two hours:\n\n%s\n\nIf it was not you, ignore this e-mail: your password stays as it is.\n",
			acct.Actor.Username, w.domain, link)); err != nil {
			w.log.Error("send reset e-mail", "account", acct.Actor.Username, "error", err)
		}
	}
	return w.render(c, http.StatusOK, "forgot", page)
}

func (w *Web) resetForm(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, http.StatusOK, "reset", ResetPage{Page: w.page(c, "Choose a new password"), Token: c.QueryParam("token")})
}

func (w *Web) reset(c echo.Context) error {
	token := c.FormValue("token")
	again := func(status int, msg string) error {
		return w.render(c, status, "reset", ResetPage{Page: w.page(c, "Choose a new password"), Token: token, Error: msg})
	}
	if c.FormValue("password") != c.FormValue("password_confirmation") {
		return again(http.StatusUnprocessableEntity, "The two passwords differ.")
	}
	_, err := w.svc.ResetPassword(c.Request().Context(), token, c.FormValue("password"))
	if errors.Is(err, federation.ErrInvalid) {
		return again(http.StatusUnprocessableEntity, reason(err))
	} else if err != nil {
		return err
	}
	w.clearSessionCookie(c)
	return w.render(c, http.StatusOK, "notice", NoticePage{
		Page: w.page(c, "Password changed"), Heading: "Your password is changed",
		Lines:    []string{"Every browser that was signed in to your account has been signed out."},
		LinkText: "Sign in", LinkURL: "/auth/sign_in",
	})
}
