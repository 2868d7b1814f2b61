package mastoapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Lists: a member's own groupings of accounts, each with a timeline.

func listEntity(l storage.List) List {
	return List{ID: id(l.ID), Title: l.Title, RepliesPolicy: l.RepliesPolicy, Exclusive: l.Exclusive}
}

func (a *API) listParam(c echo.Context, name string) (*storage.List, error) {
	n, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil {
		return nil, errNotFound
	}
	return a.db.GetList(c.Request().Context(), viewerID(c), n)
}

// lists is GET /api/v1/lists.
func (a *API) lists(c echo.Context) error {
	ls, err := a.db.ListLists(c.Request().Context(), viewerID(c))
	if err != nil {
		return err
	}
	out := []List{}
	for _, l := range ls {
		out = append(out, listEntity(l))
	}
	return c.JSON(http.StatusOK, out)
}

// getList is GET /api/v1/lists/:id.
func (a *API) getList(c echo.Context) error {
	l, err := a.listParam(c, "id")
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, listEntity(*l))
}

// saveList is POST /api/v1/lists and PUT /api/v1/lists/:id.
func (a *API) saveList(update bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.params(c)
		if err != nil {
			return err
		}
		l := &storage.List{ActorID: viewerID(c), RepliesPolicy: "list"}
		if update {
			if l, err = a.listParam(c, "id"); err != nil {
				return err
			}
		}
		if p.has("title") || !update {
			l.Title = strings.TrimSpace(p.Get("title"))
		}
		if p.has("replies_policy") {
			l.RepliesPolicy = p.Get("replies_policy")
		}
		if p.has("exclusive") {
			l.Exclusive = p.bool("exclusive")
		}
		if err := a.svc.SaveList(c.Request().Context(), l); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, listEntity(*l))
	}
}

// deleteList is DELETE /api/v1/lists/:id.
func (a *API) deleteList(c echo.Context) error {
	l, err := a.listParam(c, "id")
	if err != nil {
		return err
	}
	if err := a.svc.DeleteList(c.Request().Context(), viewer(c), l.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}

// listAccounts is GET, POST and DELETE /api/v1/lists/:id/accounts. GET
// with limit=0 lists every account, as Mastodon.
func (a *API) listAccounts(c echo.Context) error {
	l, err := a.listParam(c, "id")
	if err != nil {
		return err
	}
	p, err := a.params(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if c.Request().Method == http.MethodGet {
		pg, err := a.pageOf(c)
		if err != nil && p.Get("limit") != "0" {
			return err
		}
		if p.Get("limit") == "0" {
			pg = storage.Page{}
		}
		actors, err := a.db.ListMembersPage(ctx, l.ID, pg)
		if err != nil {
			return err
		}
		ids := make([]int64, len(actors))
		for i := range actors {
			ids[i] = actors[i].ID
		}
		return a.renderAccountPage(c, pg, actors, ids)
	}
	var ids []int64
	for _, v := range p.list("account_ids") {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errNotFound
		}
		ids = append(ids, n)
	}
	if c.Request().Method == http.MethodPost {
		err = a.svc.AddToList(ctx, viewer(c), l.ID, ids)
	} else {
		err = a.svc.RemoveFromList(ctx, viewer(c), l.ID, ids)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, struct{}{})
}

// listTimeline is GET /api/v1/timelines/list/:list_id.
func (a *API) listTimeline(c echo.Context) error {
	l, err := a.listParam(c, "list_id")
	if err != nil {
		return err
	}
	pg, err := a.pageOf(c)
	if err != nil {
		return err
	}
	communityPost := func(o *storage.Object) bool { return o.CommunityActor != nil && o.InReplyToURI == "" }
	return a.statusPageIn(c, "home", storage.StatusFilter{ListID: l.ID, ViewerID: viewerID(c), VisibleTo: viewer(c), Page: pg}, communityPost)
}
