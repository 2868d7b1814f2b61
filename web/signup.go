package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// SignUpPage is the sign-up form.
type SignUpPage struct {
	Page
	// Mode is the registration mode: closed, invite, approval or open.
	Mode                    string
	Username, Email, Reason string
	Invite                  string
	Error                   string
}

// NoticePage says what happened and what to do next, after a form.
type NoticePage struct {
	Page
	Heading string
	Lines   []string
	// Link is an optional next step.
	LinkText, LinkURL string
}

func (w *Web) rules(mode string) federation.RegistrationRules {
	return federation.RegistrationRules{Mode: mode, Confirm: w.mail != nil}
}

// registrations is the registration mode in force: an admin's choice at
// /admin/settings, or else the configured one.
func (w *Web) registrationMode(c echo.Context) (string, error) {
	return w.svc.RegistrationMode(c.Request().Context(), w.cfg.Registrations)
}

func (w *Web) signUpForm(c echo.Context) error {
	mode, err := w.registrationMode(c)
	if err != nil {
		return err
	}
	page := SignUpPage{Page: w.page(c, "Sign up"), Mode: mode, Invite: c.QueryParam("invite")}
	status := http.StatusOK
	if page.Mode == federation.RegistrationClosed {
		status = http.StatusForbidden
	}
	return w.render(c, status, "sign_up", page)
}

func (w *Web) signUp(c echo.Context) error {
	mode, err := w.registrationMode(c)
	if err != nil {
		return err
	}
	in := federation.Registration{
		Username: strings.TrimSpace(c.FormValue("username")), Email: strings.TrimSpace(c.FormValue("email")),
		Password: c.FormValue("password"), Reason: c.FormValue("reason"), Invite: c.FormValue("invite"),
		From: c.RealIP(),
	}
	again := func(status int, msg string) error {
		return w.render(c, status, "sign_up", SignUpPage{
			Page: w.page(c, "Sign up"), Mode: mode,
			Username: in.Username, Email: in.Email, Reason: in.Reason, Invite: in.Invite, Error: msg,
		})
	}
	if c.FormValue("password") != c.FormValue("password_confirmation") {
		return again(http.StatusUnprocessableEntity, "The two passwords differ.")
	}
	ctx := c.Request().Context()
	acct, err := w.svc.Register(ctx, in, w.rules(mode))
	switch {
	case errors.Is(err, federation.ErrTooManyAttempts):
		return again(http.StatusTooManyRequests, tooMany(c, err))
	case errors.Is(err, storage.ErrConflict):
		return again(http.StatusConflict, "That name or e-mail address is already taken.")
	case errors.Is(err, federation.ErrInvalid), errors.Is(err, federation.ErrForbidden):
		return again(http.StatusUnprocessableEntity, reason(err))
	case err != nil:
		return err
	}
	notice := NoticePage{Page: w.page(c, "Welcome"), Heading: "Welcome, " + acct.Actor.Username}
	if w.mail != nil {
		if err := w.sendConfirmation(ctx, acct); err != nil {
			w.log.Error("send confirmation e-mail", "account", acct.Actor.Username, "error", err)
			notice.Lines = append(notice.Lines, "We could not send the confirmation e-mail just now. Sign in later to have it sent again.")
		} else {
			notice.Lines = append(notice.Lines, "We sent a link to "+acct.Email+". Follow it to confirm your address.")
		}
	}
	if !acct.Approved {
		notice.Lines = append(notice.Lines, "An administrator will look at your request. You can sign in once it is approved.")
	}
	if acct.Approved && w.mail == nil {
		// Nothing to wait for: in you come.
		if err := w.startSession(c, acct); err != nil {
			return err
		}
		return c.Redirect(http.StatusSeeOther, "/")
	}
	notice.LinkText, notice.LinkURL = "Back to the communities", "/"
	return w.render(c, http.StatusOK, "notice", notice)
}

// sendConfirmation mails a confirmation link.
func (w *Web) sendConfirmation(ctx context.Context, acct *storage.Account) error {
	token, err := w.svc.IssueLink(ctx, acct, storage.LinkConfirm)
	if err != nil {
		return err
	}
	link := w.cfg.BaseURL() + "/auth/confirm?token=" + token
	return w.mail.Send(ctx, acct.Email, "Confirm your e-mail address on "+w.domain, fmt.Sprintf(
		"Hello %s,\n\nTo confirm that this is your address on %s, open this link within two days:\n\n%s\n\nIf you did not sign up, ignore this e-mail.\n",
		acct.Actor.Username, w.domain, link))
}

// confirm is the link in the confirmation e-mail.
func (w *Web) confirm(c echo.Context) error {
	acct, err := w.svc.ConfirmEmail(c.Request().Context(), c.QueryParam("token"))
	if errors.Is(err, federation.ErrInvalid) {
		return echo.NewHTTPError(http.StatusBadRequest, reason(err))
	} else if err != nil {
		return err
	}
	notice := NoticePage{Page: w.page(c, "Address confirmed"), Heading: "Your address is confirmed"}
	if acct.Approved {
		notice.LinkText, notice.LinkURL = "Sign in", "/auth/sign_in"
	} else {
		notice.Lines = []string{"An administrator will look at your request. You can sign in once it is approved."}
	}
	return w.render(c, http.StatusOK, "notice", notice)
}
