package mastoapi

import (
	"context"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// homeTimeline is GET /api/v1/timelines/home: the posts of the
// communities the member follows, each shown as the community's reblog
// (as Mastodon shows a group's boost), the posts and replies of the people
// they follow, as themselves, the member's own posts, and the boosts by
// the member and the people they follow, each a reblog with the boost's
// own id.
func (a *API) homeTimeline(c echo.Context) error {
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	me := viewer(c)
	return a.statusPageIn(c, "home", storage.StatusFilter{HomeOf: me.ID, Boosts: true, ViewerID: me.ID, VisibleTo: me, Page: pg}, a.homeReblog(c.Request().Context(), me))
}

// homeReblog reports whether a post in me's home timeline shows as its
// community's reblog: a top-level post of a community me follows. A post
// of a followed person in a community the member does not follow is shown
// as the person's, not as that community's boost.
func (a *API) homeReblog(ctx context.Context, me *storage.Actor) func(o *storage.Object) bool {
	followsCommunity := map[int64]bool{}
	return func(o *storage.Object) bool {
		if o.CommunityActor == nil || o.InReplyToURI != "" || o.CommunityActor.ID == me.ID {
			return false
		}
		if o.AuthorActorID == me.ID {
			return true
		}
		f, known := followsCommunity[o.CommunityActor.ID]
		if !known {
			m, err := a.db.GetMembership(ctx, o.CommunityActor.ID, me.ID)
			f = err == nil && m.State == storage.StateAccepted
			followsCommunity[o.CommunityActor.ID] = f
		}
		return f
	}
}

// publicTimeline is GET /api/v1/timelines/public (local, remote).
func (a *API) publicTimeline(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	if p.bool("only_media") {
		return emptyList(c)
	}
	// As on Mastodon, limited servers stay out of the public timelines.
	f := storage.StatusFilter{Page: pg, HideLimited: true, ViewerID: viewerID(c)}
	switch {
	case p.bool("local"):
		f.Origin = "local"
	case p.bool("remote"):
		f.Origin = "remote"
	}
	return a.statusPageIn(c, "public", f, nil)
}

// tagTimeline is GET /api/v1/timelines/tag/:hashtag.
func (a *API) tagTimeline(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	tag := strings.ToLower(strings.TrimPrefix(c.Param("hashtag"), "#"))
	if tag == "" || p.bool("only_media") {
		return emptyList(c)
	}
	f := storage.StatusFilter{Page: pg, Tag: tag, HideLimited: true, ViewerID: viewerID(c)}
	switch {
	case p.bool("local"):
		f.Origin = "local"
	case p.bool("remote"):
		f.Origin = "remote"
	}
	return a.statusPageIn(c, "public", f, nil)
}
