package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
)

// RegistrationsPage lists the sign-ups waiting for an admin, and makes
// invitation links.
type RegistrationsPage struct {
	Page
	Mode    string
	Pending []PendingAccount
	Notice  string
	// InviteURL is the invitation link just made, shown once.
	InviteURL string
}

// PendingAccount is a sign-up waiting for approval.
type PendingAccount struct {
	Name, Email, Reason string
	Confirmed           bool
	Created             time.Time
}

const maxPendingShown = 200

func (w *Web) registrations(c echo.Context) error {
	return w.renderRegistrations(c, c.QueryParam("done"), "")
}

func (w *Web) renderRegistrations(c echo.Context, done, invite string) error {
	list, err := w.db.ListPendingAccounts(c.Request().Context(), maxPendingShown)
	if err != nil {
		return err
	}
	mode, err := w.registrationMode(c)
	if err != nil {
		return err
	}
	page := RegistrationsPage{Page: w.page(c, "Sign-ups waiting for approval"), Mode: mode, InviteURL: invite}
	switch done {
	case "approved":
		page.Notice = "Approved: they can sign in now."
	case "rejected":
		page.Notice = "Refused: the account is removed."
	}
	for _, a := range list {
		page.Pending = append(page.Pending, PendingAccount{
			Name: a.Actor.Username, Email: a.Email, Reason: a.Reason, Confirmed: a.ConfirmedAt != nil, Created: a.CreatedAt,
		})
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return w.render(c, http.StatusOK, "admin_registrations", page)
}

func (w *Web) decideRegistration(c echo.Context) error {
	approve := c.FormValue("decision") == "approve"
	acct, err := w.account(c)
	if err != nil {
		return err
	}
	if _, err := w.svc.DecideRegistration(c.Request().Context(), federation.WebOperator(acct), c.Param("name"), approve); err != nil {
		return err
	}
	done := "rejected"
	if approve {
		done = "approved"
	}
	return c.Redirect(http.StatusSeeOther, "/admin/registrations?done="+done)
}

// createInvite makes an invitation link for up to uses people, good for
// a week.
func (w *Web) createInvite(c echo.Context) error {
	acct, err := w.account(c)
	if err != nil {
		return err
	}
	uses := 1
	if c.FormValue("uses") == "10" {
		uses = 10
	}
	token, err := w.svc.CreateInvite(c.Request().Context(), acct, uses, 7*24*time.Hour)
	if err != nil {
		return err
	}
	return w.renderRegistrations(c, "", w.cfg.BaseURL()+"/auth/sign_up?invite="+token)
}
