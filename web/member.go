package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// MemberPage is a member's page.
type MemberPage struct {
	Page
	Name        string
	DisplayName string
	Handle      string
	Summary     []string
}

// Member renders the page of a local member, whose URL server has
// negotiated.
func (w *Web) Member(c echo.Context, a *storage.Actor) error {
	title := a.DisplayName
	if title == "" {
		title = a.Username
	}
	page := MemberPage{
		Page: w.page(c, title), Name: a.Username, DisplayName: a.DisplayName,
		Handle: "@" + a.Username + "@" + w.domain, Summary: paragraphs(a.Summary),
	}
	page.Alternate = a.URI
	return w.render(c, http.StatusOK, "member", page)
}
