package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// ThreadPage is a post with its replies as a tree and who liked it.
type ThreadPage struct {
	Page
	Post    Post
	Likers  []Person
	Replies []*Reply
	// Error and Text bring back a refused reply.
	Error, Text string
	// Editing shows the edit form for the post.
	Editing bool
	// Shown is how many replies the tree shows when it stops short of
	// the thread (0 when it does not).
	Shown int
	// Question: the post is a question; Answer is its accepted answer,
	// shown before the replies; CanAccept: the viewer may accept one.
	Question  bool
	Answer    *Post
	CanAccept bool
	// Mod is what the viewer can do as a moderator (nil: nothing).
	Mod *PostModeration
	// Curate is what a curator of the post's community may do with it.
	Curate *CurateForm
	// Related are posts of the community like this one (shared tags,
	// then words of its title).
	Related []Post
	// Poll is the post's poll, if it has one (polls.go).
	Poll *PollView
	// Visibilities are the reply form's choices of who may read it.
	Visibilities []VisibilityChoice
}

// Reply is a reply in the tree, with its own replies down to maxDepth;
// below that, More says how many more wait behind a "continue" link.
type Reply struct {
	Post
	Children []*Reply
	More     int
	// CanAccept offers the viewer to accept this reply as the question's
	// answer (or to withdraw it), with the form's CSRF token.
	CanAccept bool
	CSRF      string
}

const (
	// maxThread bounds the posts of one thread a page reads.
	maxThread = 1000
	// maxDepth is how deep the tree goes before "continue this thread".
	maxDepth  = 6
	maxLikers = 50
	// anonReplies is how many replies a visitor who is not signed in
	// sees, as Mastodon's thread context shows 60 without a token:
	// rendering a reply costs a little, a thousand of them for anyone
	// who asks costs a lot. Members see up to maxThread.
	anonReplies = 60
)

// Object renders the page of a local post, whose URL (/o/ID) server has
// negotiated.
func (w *Web) Object(c echo.Context, o *storage.Object) error {
	return w.withCSRF(c, func() error { return w.renderThread(c, o, http.StatusOK, "", "") })
}

// postByID is /posts/:id: the page of any stored post, from here or
// elsewhere.
func (w *Web) postByID(c echo.Context) error {
	o, err := w.objectOf(c)
	if err != nil {
		return err
	}
	return w.renderThread(c, o, http.StatusOK, "", "")
}

func (w *Web) objectOf(c echo.Context) (*storage.Object, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, echo.NewHTTPError(http.StatusNotFound, "no such post")
	}
	o, err := w.db.GetObjectByID(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	return o, nil
}

func (w *Web) renderThread(c echo.Context, o *storage.Object, status int, errMsg, text string) error {
	ctx := c.Request().Context()
	viewer, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if o.DeletedAt != nil {
		// Gone to those who could read it; to anyone else a followers-only
		// or direct post never existed.
		if ok, err := w.db.CouldSee(ctx, viewer, o); err != nil {
			return err
		} else if !ok {
			return echo.NewHTTPError(http.StatusNotFound, "no such post")
		}
		return echo.NewHTTPError(http.StatusGone, "This post was deleted.")
	}
	// Followers-only and direct posts are shown only to their readers
	// (storage/visibility.go decides), to anyone else as no post at all.
	if ok, err := w.db.CanSee(ctx, viewer, o); err != nil {
		return err
	} else if !ok {
		return echo.NewHTTPError(http.StatusNotFound, "no such post")
	}
	thread, err := w.db.ListThread(ctx, o.ContextURI, viewer, maxThread)
	if err != nil {
		return err
	}
	// The post and its descendants down to maxDepth, nearest first, at
	// most limit of them.
	limit := maxThread
	if viewer == nil {
		limit = anonReplies
	}
	children := map[int64][]int{}
	for i := range thread {
		if p := thread[i].InReplyToID; p != nil {
			children[*p] = append(children[*p], i)
		}
	}
	type queued struct {
		id    int64
		depth int
	}
	var (
		objs      = []storage.Object{*o}
		index     = map[int64]int{o.ID: 0}
		queue     = []queued{{o.ID, 0}}
		truncated bool
	)
	for len(queue) > 0 {
		q := queue[0]
		queue = queue[1:]
		if q.depth >= maxDepth {
			continue
		}
		for _, i := range children[q.id] {
			if _, seen := index[thread[i].ID]; seen {
				continue
			}
			if len(objs)-1 >= limit {
				truncated = true
				break
			}
			index[thread[i].ID] = len(objs)
			objs = append(objs, thread[i])
			queue = append(queue, queued{thread[i].ID, q.depth + 1})
		}
	}
	views, err := w.postViews(ctx, objs, viewer)
	if err != nil {
		return err
	}
	title := views[0].Title
	if title == "" {
		title = "Post by " + views[0].AuthorName
	}
	page := ThreadPage{Page: w.page(c, title), Post: views[0], Error: errMsg, Text: text, Editing: c.QueryParam("edit") == "1" && views[0].Mine,
		Visibilities: replyVisibilities(o, c.FormValue("visibility"))}
	if o.Local {
		page.Alternate = o.URI
	}
	if truncated {
		page.Shown = len(objs) - 1
	}
	if page.Mod, err = w.postModeration(ctx, o, viewer); err != nil {
		return err
	}
	if page.Poll, err = w.pollOf(ctx, o, viewer); err != nil {
		return err
	}
	var build func(id int64, depth int) ([]*Reply, int)
	build = func(id int64, depth int) ([]*Reply, int) {
		var out []*Reply
		count := 0
		for _, i := range children[id] {
			j, ok := index[thread[i].ID]
			if !ok {
				continue
			}
			count++
			r := &Reply{Post: views[j]}
			if depth < maxDepth {
				r.Children, _ = build(thread[i].ID, depth+1)
			} else {
				r.More = len(children[thread[i].ID])
			}
			out = append(out, r)
		}
		return out, count
	}
	page.Replies, _ = build(o.ID, 1)
	if err := w.answerOf(c, o, viewer, objs, views, &page); err != nil {
		return err
	}
	if page.Curate, err = w.curateForm(c, o, viewer); err != nil {
		return err
	}
	if page.Related, err = w.related(c, o, viewer); err != nil {
		return err
	}
	likers, err := w.db.ListLikers(ctx, o.ID, maxLikers)
	if err != nil {
		return err
	}
	for i := range likers {
		page.Likers = append(page.Likers, w.person(&likers[i]))
	}
	return w.render(c, status, "thread", page)
}

// reply is POST /posts/:id/reply.
func (w *Web) reply(c echo.Context) error {
	o, err := w.objectOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	text := c.FormValue("text")
	r, err := w.svc.Post(c.Request().Context(), me, federation.NewPost{InReplyTo: o.URI, Text: text, Markdown: true, Language: "en",
		Visibility: c.FormValue("visibility")})
	if errors.Is(err, federation.ErrHeld) {
		return w.renderThread(c, o, http.StatusAccepted, reason(err), "")
	} else if errors.Is(err, federation.ErrInvalid) || errors.Is(err, federation.ErrForbidden) || errors.Is(err, federation.ErrTooManyAttempts) {
		return w.renderThread(c, o, http.StatusUnprocessableEntity, reason(err), text)
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, w.postPath(o)+"#post-"+strconv.FormatInt(r.ID, 10))
}

// like is POST /posts/:id/like; unlike undoes it.
func (w *Web) like(c echo.Context) error {
	o, err := w.objectOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if c.FormValue("undo") == "1" {
		err = w.svc.Unlike(c.Request().Context(), me, o.URI)
	} else {
		err = w.svc.Like(c.Request().Context(), me, o.URI)
	}
	if err != nil {
		return err
	}
	back := localPath(c.FormValue("return_to"))
	if back == "" {
		back = w.postPath(o)
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// edit is POST /posts/:id/edit: the author replaces the text.
func (w *Web) edit(c echo.Context) error {
	o, err := w.objectOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	text := c.FormValue("text")
	if _, err := w.svc.EditPost(c.Request().Context(), me, o.URI, text, true); errors.Is(err, federation.ErrInvalid) {
		return w.renderThread(c, o, http.StatusUnprocessableEntity, reason(err), text)
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, w.postPath(o))
}

// remove is POST /posts/:id/delete, by the author or a moderator.
func (w *Web) remove(c echo.Context) error {
	o, err := w.objectOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if err := w.svc.Delete(c.Request().Context(), me, o.URI); err != nil {
		return err
	}
	back := "/"
	if o.InReplyToID != nil {
		back = "/posts/" + strconv.FormatInt(*o.InReplyToID, 10)
	} else if o.CommunityActor != nil {
		back = w.actorPath(o.CommunityActor)
	}
	return c.Redirect(http.StatusSeeOther, back)
}
