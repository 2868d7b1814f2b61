package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Home is the front page. Visitors see the public communities, what they
// are about and how to join; a signed-in member sees the posts of their
// communities and of the people they follow, and their notifications.
type Home struct {
	Page
	Communities []Community
	// Feed is the member's home timeline; Next pages it.
	Feed          []Post
	Next          string
	Notifications []Notification
}

// Notification is one line of what happened to the member.
type Notification struct {
	Text, Path string
	At         string
}

// maxHomeCommunities bounds the list of communities until it has paging.
const maxHomeCommunities = 500

func (w *Web) home(c echo.Context) error {
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if me == nil {
		return w.communities(c)
	}
	ctx := c.Request().Context()
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	objs, err := w.db.ListStatuses(ctx, storage.StatusFilter{HomeOf: me.ID, VisibleTo: me, Page: storage.Page{MaxID: before, Limit: communityPagePosts + 1}})
	if err != nil {
		return err
	}
	page := Home{Page: w.page(c, "Home")}
	if len(objs) > communityPagePosts {
		objs = objs[:communityPagePosts]
		page.Next = "/?before=" + strconv.FormatInt(objs[len(objs)-1].ID, 10)
	}
	if page.Feed, err = w.postViews(ctx, objs, me); err != nil {
		return err
	}
	if page.Notifications, err = w.notifications(c, me); err != nil {
		return err
	}
	return w.render(c, http.StatusOK, "home", page)
}

// communities lists the public communities.
func (w *Web) communities(c echo.Context) error {
	all, err := w.db.ListCommunities(c.Request().Context(), maxHomeCommunities)
	if err != nil {
		return err
	}
	page := Home{Page: w.page(c, "Communities")}
	for i := range all {
		if all[i].Visibility == storage.VisibilityPublic {
			page.Communities = append(page.Communities, w.communityView(&all[i], 0))
		}
	}
	return w.render(c, http.StatusOK, "communities", page)
}
