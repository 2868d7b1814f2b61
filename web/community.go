package web

import (
	"cmp"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// Community is a community as listed on the home page and shown on its own.
type Community struct {
	Name  string
	Title string
	// Handle is @name@domain, what to search for on Mastodon to join.
	Handle string
	// Path is the local path of the community's page.
	Path string
	// Summary is the statement of the community's domain as paragraphs of
	// plain text; the template escapes them.
	Summary []string
	Tags    []string
	Members int64
	Closed  bool
	// MembersOnly: its posts are for its members; MembersHidden: the
	// viewer is none of them, so not even their number is shown.
	MembersOnly, MembersHidden bool
	// Icon is the address of its icon (avatar), if it has one.
	Icon string
}

// CommunityPage is a community's page: what it is about, who moderates
// it, how to join, and its posts.
type CommunityPage struct {
	Page
	Community  Community
	Moderators []Person
	// Membership is the viewer's: "" (none), "pending" or "accepted".
	Membership string
	// Welcome is the community's welcome, shown to a member who has just
	// joined (issue 15).
	Welcome []string
	Sort    string
	Posts   []Post
	// Next and Prev are the URLs of the next and previous pages of posts.
	Next, Prev string
	// Error is what went wrong with a form on this page.
	Error string
	// FormTitle and FormText bring back a refused post.
	FormTitle, FormText string
	// Kinds are the kinds of post the composer offers; FormKind is the
	// one chosen.
	Kinds    []KindOption
	FormKind string
	// Visibilities are the composer's choices of who may read a post.
	Visibilities []VisibilityChoice
	// Moderates: the viewer moderates this community.
	Moderates bool
}

// KindOption is a kind of post in the composer's list.
type KindOption struct{ Value, Label string }

func kindOptions() []KindOption {
	out := make([]KindOption, 0, len(federation.Kinds))
	for _, k := range federation.Kinds {
		v := k
		if v == federation.KindDiscussion {
			v = "discussion"
		}
		out = append(out, KindOption{v, federation.KindLabel(k)})
	}
	return out
}

// Person is a member as pages list them.
type Person struct {
	Name, Handle, Path string
}

// communityPagePosts is how many posts a page of a community shows.
const communityPagePosts = 20

// Community renders the page of com, whose URL server has negotiated.
func (w *Web) Community(c echo.Context, com *storage.Community) error {
	return w.withCSRF(c, func() error { return w.renderCommunity(c, com, http.StatusOK, "", "", "", "") })
}

func (w *Web) renderCommunity(c echo.Context, com *storage.Community, status int, errMsg, kind, title, text string) error {
	ctx := c.Request().Context()
	members, err := w.db.CountMembers(ctx, com.ActorID, storage.StateAccepted)
	if err != nil {
		return err
	}
	page := CommunityPage{Page: w.page(c, com.Title), Community: w.communityView(com, members), Error: errMsg, FormTitle: title, FormText: text,
		Kinds: kindOptions(), FormKind: cmp.Or(kind, "discussion"), Visibilities: communityVisibilities(com, c.FormValue("visibility"))}
	page.Alternate = com.Actor.URI
	mods, err := w.db.Moderators(ctx, com.ActorID)
	if err != nil {
		return err
	}
	for i := range mods {
		page.Moderators = append(page.Moderators, w.person(&mods[i]))
	}
	viewer, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if viewer != nil {
		m, err := w.db.GetMembership(ctx, com.ActorID, viewer.ID)
		if err == nil {
			page.Membership = m.State
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if page.Membership == storage.StateAccepted && c.QueryParam("joined") == "1" {
			welcome, err := w.db.Welcome(ctx, com.ActorID)
			if err != nil {
				return err
			}
			page.Welcome = paragraphs(welcome)
		}
	}
	if page.Moderates, err = w.moderates(ctx, viewer, com.ActorID); err != nil {
		return err
	}
	switch {
	case com.Visibility == storage.VisibilityPublic:
		if err := w.communityPosts(c, com, viewer, &page); err != nil {
			return err
		}
	case com.Visibility == storage.VisibilityMembers && page.Membership == storage.StateAccepted:
		if err := w.communityPosts(c, com, viewer, &page); err != nil {
			return err
		}
	case com.Visibility == storage.VisibilityMembers:
		// To anyone else a members-only community is its name and
		// statement, to ask to join: not who is in it.
		page.Moderators, page.Community.Members, page.Community.MembersHidden = nil, 0, true
	}
	for i := range page.Posts {
		page.Posts[i].CanMod = page.Moderates
	}
	return w.render(c, status, "community", page)
}

// communityPosts fills a page of posts: newest first (paged by id), or
// the most recently active threads first (paged by number).
func (w *Web) communityPosts(c echo.Context, com *storage.Community, viewer *storage.Actor, page *CommunityPage) error {
	ctx := c.Request().Context()
	var (
		objs []storage.Object
		err  error
	)
	base := "/c/" + com.Actor.Username
	if c.QueryParam("sort") == "active" {
		page.Sort = "active"
		n, _ := strconv.Atoi(c.QueryParam("page"))
		n = max(1, min(n, 500))
		objs, err = w.db.ListActiveTopLevel(ctx, com.ActorID, true, com.Visibility == storage.VisibilityMembers, (n-1)*communityPagePosts, communityPagePosts+1)
		if err != nil {
			return err
		}
		if len(objs) > communityPagePosts {
			objs = objs[:communityPagePosts]
			page.Next = base + "?sort=active&page=" + strconv.Itoa(n+1)
		}
		if n > 1 {
			page.Prev = base + "?sort=active&page=" + strconv.Itoa(n-1)
		}
	} else {
		before, _ := strconv.ParseInt(c.QueryParam("before"), 10, 64)
		objs, err = w.db.ListObjects(ctx, storage.ObjectFilter{
			CommunityActorID: com.ActorID, TopLevelOnly: true, HideLimited: true, BeforeID: before, Limit: communityPagePosts + 1,
			Members: com.Visibility == storage.VisibilityMembers,
		})
		if err != nil {
			return err
		}
		if len(objs) > communityPagePosts {
			objs = objs[:communityPagePosts]
			page.Next = base + "?before=" + strconv.FormatInt(objs[len(objs)-1].ID, 10)
		}
		if before > 0 {
			page.Prev = base
		}
	}
	page.Posts, err = w.postViews(ctx, objs, viewer)
	return err
}

func (w *Web) communityView(com *storage.Community, members int64) Community {
	return Community{
		Name:        com.Actor.Username,
		Title:       com.Title,
		Handle:      "@" + com.Actor.Username + "@" + w.domain,
		Path:        "/c/" + com.Actor.Username,
		Summary:     paragraphs(com.Summary),
		Tags:        com.TagNames(),
		Members:     members,
		Closed:      com.Closed,
		MembersOnly: com.Visibility == storage.VisibilityMembers,
		Icon:        w.iconURL(com.Actor.AvatarKey),
	}
}

// iconURL is the address of a local image's file, or "" for none.
func (w *Web) iconURL(key string) string {
	if key == "" {
		return ""
	}
	return w.svc.FileURL(key)
}

func (w *Web) person(a *storage.Actor) Person {
	name := a.DisplayName
	if name == "" {
		name = a.Username
	}
	return Person{Name: name, Handle: "@" + a.Handle(), Path: w.actorPath(a)}
}

// viewerActor is the signed-in member's actor, or nil.
func (w *Web) viewerActor(c echo.Context) (*storage.Actor, error) {
	a, err := w.account(c)
	if a == nil || err != nil {
		return nil, err
	}
	return a.Actor, nil
}

// communityOf reads the :name of a community route.
func (w *Web) communityOf(c echo.Context) (*storage.Community, error) {
	name := c.Param("name")
	if federation.ValidateName(strings.ToLower(name)) != nil {
		return nil, echo.NewHTTPError(http.StatusNotFound, "no such community")
	}
	return w.db.GetCommunityByName(c.Request().Context(), name)
}

// join is POST /c/:name/join: join an open community, or ask to join a
// closed one.
func (w *Web) join(c echo.Context) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	m, err := w.svc.Join(c.Request().Context(), me, com.Actor.URI)
	if err != nil {
		return err
	}
	if m != nil && m.State == storage.StateAccepted {
		// A new member is shown the community's welcome.
		return c.Redirect(http.StatusSeeOther, "/c/"+com.Actor.Username+"?joined=1")
	}
	return c.Redirect(http.StatusSeeOther, "/c/"+com.Actor.Username)
}

// leave is POST /c/:name/leave (or withdraw a request).
func (w *Web) leave(c echo.Context) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if err := w.svc.Leave(c.Request().Context(), me, com.Actor.URI); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/c/"+com.Actor.Username)
}

// post is POST /c/:name/posts: the composer on the community's page. A
// refused post comes back in the form with the reason, nothing lost.
func (w *Web) post(c echo.Context) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	me, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	kind, title, text := c.FormValue("kind"), c.FormValue("title"), c.FormValue("text")
	poll, err := pollForm(c)
	if err != nil {
		return err
	}
	o, err := w.svc.Post(c.Request().Context(), me, federation.NewPost{
		Community: com.Actor.URI, Kind: kind, Title: title, Text: text, Markdown: true, Language: "en", Poll: poll,
		Visibility: c.FormValue("visibility"),
	})
	if errors.Is(err, federation.ErrHeld) {
		// Queued for a moderator: nothing to post again.
		return w.renderCommunity(c, com, http.StatusAccepted, reason(err), "", "", "")
	} else if errors.Is(err, federation.ErrInvalid) || errors.Is(err, federation.ErrForbidden) || errors.Is(err, federation.ErrTooManyAttempts) {
		return w.renderCommunity(c, com, http.StatusUnprocessableEntity, reason(err), kind, title, text)
	} else if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, w.postPath(o))
}

// withCSRF runs the CSRF middleware around a page that server routes, so
// that its forms carry a token as the pages routed here do.
func (w *Web) withCSRF(c echo.Context, render func() error) error {
	return w.csrf()(func(echo.Context) error { return render() })(c)
}
