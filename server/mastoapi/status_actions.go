package mastoapi

import (
	"html"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// What a member does to a status besides writing it: boost, bookmark,
// pin; and what apps read about one: its source, its edits, who liked or
// boosted it.

// statusSource is GET /api/v1/statuses/:id/source: the plain text the
// editor starts from (Tusky, Phanpy). A remote post has no source here:
// its text is its content without markup.
func (a *API) statusSource(c echo.Context) error {
	o, err := a.objectParam(c)
	if err != nil {
		return err
	}
	text := o.Source
	if text == "" && !o.Local {
		text = html.UnescapeString(tagsRe.ReplaceAllString(o.Content, ""))
	}
	return c.JSON(http.StatusOK, StatusSource{ID: id(o.ID), Text: text, SpoilerText: o.Summary})
}

// statusHistory is GET /api/v1/statuses/:id/history: every version,
// oldest first, the current one last. A post never edited has one.
func (a *API) statusHistory(c echo.Context) error {
	o, err := a.objectParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	edits, err := a.db.ListObjectEdits(ctx, o.ID)
	if err != nil {
		return err
	}
	r := a.renderer(c)
	author := o.AuthorActor
	if author == nil {
		if author, err = a.db.GetActorByID(ctx, o.AuthorActorID); err != nil {
			return err
		}
	}
	account, err := r.account(author)
	if err != nil {
		return err
	}
	version := func(name, summary, content string, sensitive bool, at string) StatusEdit {
		if name != "" {
			content = "<p><strong>" + html.EscapeString(name) + "</strong></p>" + content
		}
		return StatusEdit{Content: content, SpoilerText: summary, Sensitive: sensitive || summary != "", CreatedAt: at,
			Account: account, MediaAttachments: []any{}, Emojis: []Emoji{}}
	}
	out := make([]StatusEdit, 0, len(edits)+1)
	for _, e := range edits {
		out = append(out, version(e.Name, e.Summary, e.Content, e.Sensitive, iso(e.CreatedAt)))
	}
	at := o.PublishedAt
	if o.EditedAt != nil {
		at = *o.EditedAt
	}
	out = append(out, version(o.Name, o.Summary, o.Content, o.Sensitive, iso(at)))
	return c.JSON(http.StatusOK, out)
}

// reblog is POST /api/v1/statuses/:id/reblog: a boost to the member's own
// followers. Mastodon answers with the reblog wrapping the status.
func (a *API) reblog(c echo.Context) error {
	o, err := a.objectParam(c)
	if err != nil {
		return err
	}
	if _, err := a.svc.Reblog(c.Request().Context(), viewer(c), o.URI); err != nil {
		return err
	}
	r, err := a.db.GetReblog(c.Request().Context(), viewerID(c), o.ID)
	if err != nil {
		return err
	}
	o.Boost = r
	return a.renderStatus(c, o)
}

// unreblog is POST /api/v1/statuses/:id/unreblog.
func (a *API) unreblog(c echo.Context) error {
	o, err := a.objectParam(c)
	if err != nil {
		return err
	}
	if _, err := a.svc.Unreblog(c.Request().Context(), viewer(c), o.URI); err != nil {
		return err
	}
	return a.renderStatus(c, o)
}

// markStatus is bookmark/unbookmark and pin/unpin.
func (a *API) markStatus(mark func(*federation.Service) func(echo.Context, *storage.Object) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		o, err := a.objectParam(c)
		if err != nil {
			return err
		}
		if err := mark(a.svc)(c, o); err != nil {
			return err
		}
		return a.renderStatus(c, o)
	}
}

func bookmarkAs(on bool) func(*federation.Service) func(echo.Context, *storage.Object) error {
	return func(s *federation.Service) func(echo.Context, *storage.Object) error {
		return func(c echo.Context, o *storage.Object) error {
			_, err := s.Bookmark(c.Request().Context(), viewer(c), o.URI, on)
			return err
		}
	}
}

func pinAs(on bool) func(*federation.Service) func(echo.Context, *storage.Object) error {
	return func(s *federation.Service) func(echo.Context, *storage.Object) error {
		return func(c echo.Context, o *storage.Object) error {
			_, err := s.Pin(c.Request().Context(), viewer(c), o.URI, on)
			return err
		}
	}
}

// markedStatuses is GET /api/v1/bookmarks and /api/v1/favourites: paged
// by the bookmark's or like's id, as Mastodon does (Link header only).
func (a *API) markedStatuses(table string) echo.HandlerFunc {
	return func(c echo.Context) error {
		pg, err := a.pageOf(c)
		if err != nil {
			return err
		}
		page, err := a.db.ListMarked(c.Request().Context(), table, viewerID(c), viewer(c), pg)
		if err != nil {
			return err
		}
		out, err := a.renderer(c).statusesOf(page.Objects, nil)
		if err != nil {
			return err
		}
		if n := len(page.RowIDs); n > 0 {
			a.setLink(c, pg, page.RowIDs[0], page.RowIDs[n-1], n)
		}
		return c.JSON(http.StatusOK, out)
	}
}

// statusActors is GET /api/v1/statuses/:id/favourited_by and
// reblogged_by.
func (a *API) statusActors(table string) echo.HandlerFunc {
	return func(c echo.Context) error {
		o, err := a.objectParam(c)
		if err != nil {
			return err
		}
		pg, err := a.pageOf(c)
		if err != nil {
			return err
		}
		actors, rowIDs, err := a.db.ActorsWho(c.Request().Context(), table, o.ID, pg)
		if err != nil {
			return err
		}
		return a.renderAccountPage(c, pg, actors, rowIDs)
	}
}

// renderAccountPage renders a page of accounts with its Link header.
func (a *API) renderAccountPage(c echo.Context, pg storage.Page, actors []storage.Actor, rowIDs []int64) error {
	r := a.renderer(c)
	out := []*Account{}
	for i := range actors {
		acc, err := r.account(&actors[i])
		if err != nil {
			return err
		}
		out = append(out, acc)
	}
	if n := len(rowIDs); n > 0 {
		a.setLink(c, pg, rowIDs[0], rowIDs[n-1], n)
	}
	return c.JSON(http.StatusOK, out)
}

// statusesByID is GET /api/v1/statuses?id[]=: several statuses at once,
// unknown or hidden ones left out.
func (a *API) statusesByID(c echo.Context) error {
	p, err := a.params(c)
	if err != nil {
		return err
	}
	var ids []int64
	for _, v := range p.list("id") {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && len(ids) < maxPageLimit*2 {
			ids = append(ids, n)
		}
	}
	objs, err := a.db.ListObjectsByIDs(c.Request().Context(), ids)
	if err != nil {
		return err
	}
	byID := map[int64]storage.Object{}
	for _, o := range objs {
		// Each one the viewer may read, as GET /api/v1/statuses/:id.
		if ok, err := a.db.CanSee(c.Request().Context(), viewer(c), &o); err != nil {
			return err
		} else if ok {
			byID[o.ID] = o
		}
	}
	var ordered []storage.Object
	for _, n := range ids {
		if o, ok := byID[n]; ok {
			ordered = append(ordered, o)
			delete(byID, n)
		}
	}
	out, err := a.renderer(c).statusesOf(ordered, nil)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// pinnedStatuses is GET /api/v1/accounts/:id/statuses?pinned=true: a
// member's pinned posts, most recently pinned first (a community pins
// nothing yet).
func (a *API) pinnedStatuses(c echo.Context, actor *storage.Actor) error {
	page, err := a.db.ListMarked(c.Request().Context(), "pins", actor.ID, viewer(c), storage.Page{Limit: federation.MaxPins})
	if err != nil {
		return err
	}
	out, err := a.renderer(c).statusesOf(page.Objects, nil)
	if err != nil {
		return err
	}
	for _, s := range out {
		s.Pinned = ptr(true)
	}
	return c.JSON(http.StatusOK, out)
}

// muteConversation is POST /api/v1/statuses/:id/mute and /unmute: no
// more notifications about the thread.
func (a *API) muteConversation(on bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		o, err := a.objectParam(c)
		if err != nil {
			return err
		}
		if err := a.svc.MuteConversation(c.Request().Context(), viewer(c), o, on); err != nil {
			return err
		}
		return a.renderStatus(c, o)
	}
}
