package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// TagPage lists the posts with a hashtag.
type TagPage struct {
	Page
	Tag   string
	Posts []Post
	Next  string
}

// SearchPage finds communities, people and posts.
type SearchPage struct {
	Page
	Query       string
	Communities []Community
	People      []Person
	Posts       []Post
	// Remote is a person or community on another server found by its
	// address (signed-in members only).
	Remote *Person
	Error  string
}

const searchLimit = 20

func (w *Web) tag(c echo.Context) error {
	tag := strings.ToLower(c.Param("name"))
	if tag == "" || utf8.RuneCountInString(tag) > federation.MaxTagLen || len(federation.TextHashtags("#"+tag)) != 1 {
		return echo.NewHTTPError(http.StatusNotFound, "no such tag")
	}
	ctx := c.Request().Context()
	before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
	objs, err := w.db.ListStatuses(ctx, storage.StatusFilter{Tag: tag, HideLimited: true, Page: storage.Page{MaxID: before, Limit: communityPagePosts + 1}})
	if err != nil {
		return err
	}
	page := TagPage{Page: w.page(c, "#"+tag), Tag: tag}
	if len(objs) > communityPagePosts {
		objs = objs[:communityPagePosts]
		page.Next = "/tags/" + tag + "?before=" + strconv.FormatInt(objs[len(objs)-1].ID, 10)
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if page.Posts, err = w.postViews(ctx, objs, me); err != nil {
		return err
	}
	return w.render(c, http.StatusOK, "tag", page)
}

// search looks in this instance first: communities, people, posts. An
// address like name@server is resolved on its server for signed-in
// members, so that visitors cannot make this server fetch for them.
func (w *Web) search(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	page := SearchPage{Page: w.page(c, "Search"), Query: q}
	if q == "" {
		return w.render(c, http.StatusOK, "search", page)
	}
	if utf8.RuneCountInString(q) > 200 {
		page.Error = "Search for at most 200 characters."
		return w.render(c, http.StatusUnprocessableEntity, "search", page)
	}
	ctx := c.Request().Context()
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	coms, err := w.db.SearchCommunities(ctx, q, searchLimit)
	if err != nil {
		return err
	}
	for i := range coms {
		if coms[i].Visibility == storage.VisibilityPublic {
			page.Communities = append(page.Communities, w.communityView(&coms[i], 0))
		}
	}
	people, err := w.db.SearchActors(ctx, strings.TrimPrefix(q, "@"), searchLimit)
	if err != nil {
		return err
	}
	for i := range people {
		if people[i].Type == storage.TypePerson {
			page.People = append(page.People, w.person(&people[i]))
		}
	}
	objs, err := w.db.ListStatuses(ctx, storage.StatusFilter{Query: q, HideLimited: true, Page: storage.Page{Limit: searchLimit}})
	if err != nil {
		return err
	}
	if page.Posts, err = w.postViews(ctx, objs, me); err != nil {
		return err
	}
	if me != nil && strings.Count(strings.TrimPrefix(q, "@"), "@") == 1 {
		a, err := w.svc.ResolveHandle(ctx, q)
		switch {
		case err == nil:
			p := w.person(a)
			page.Remote = &p
		case errors.Is(err, federation.ErrInvalid), errors.Is(err, federation.ErrForbidden), errors.Is(err, storage.ErrNotFound):
			page.Error = "No one was found at " + q + "."
		default:
			w.log.Info("resolve address in search", "query", q, "error", err)
			page.Error = "The server of " + q + " did not answer."
		}
	}
	return w.render(c, http.StatusOK, "search", page)
}
