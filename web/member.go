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
	Communities []Person
	Posts       []Post
}

// Member renders the page of a local member, whose URL server has
// negotiated.
func (w *Web) Member(c echo.Context, a *storage.Actor) error {
	return w.withCSRF(c, func() error { return w.renderMember(c, a) })
}

func (w *Web) renderMember(c echo.Context, a *storage.Actor) error {
	title := a.DisplayName
	if title == "" {
		title = a.Username
	}
	page := MemberPage{
		Page: w.page(c, title), Name: a.Username, DisplayName: a.DisplayName,
		Handle: "@" + a.Username + "@" + w.domain, Summary: paragraphs(a.Summary),
	}
	page.Alternate = a.URI
	ctx := c.Request().Context()
	coms, err := w.db.FollowingPage(ctx, a.ID, 0, 100)
	if err != nil {
		return err
	}
	for _, m := range coms {
		if m.State == storage.StateAccepted && m.CommunityActor != nil && m.CommunityActor.Type == storage.TypeGroup {
			page.Communities = append(page.Communities, w.person(m.CommunityActor))
		}
	}
	viewer, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	// As Mastodon's profile: unlisted posts too, and what the viewer may
	// read.
	objs, err := w.db.ListStatuses(ctx, storage.StatusFilter{AuthorActorID: a.ID, VisibleTo: viewer, Unlisted: true,
		Page: storage.Page{Limit: communityPagePosts}})
	if err != nil {
		return err
	}
	if page.Posts, err = w.postViews(ctx, objs, viewer); err != nil {
		return err
	}
	return w.render(c, http.StatusOK, "member", page)
}
