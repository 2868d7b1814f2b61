package web

import (
	"cmp"
	"context"
	"html/template"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation/sanitize"
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
}

// CommunityPage is a community's page.
type CommunityPage struct {
	Page
	Community Community
	// Posts are the latest top-level posts, newest first, so that people
	// can read before they join.
	Posts []Post
}

// Post is a post as listed on a page.
type Post struct {
	Title string
	// Author is @user@domain; AuthorURL links to their profile.
	Author, AuthorURL string
	Published         time.Time
	// Content is sanitised HTML, safe to insert as it is.
	Content template.HTML
	URL     string
}

// communityPagePosts is how many recent posts a community's page shows.
const communityPagePosts = 20

// Community renders the page of com, whose URL server has negotiated.
func (w *Web) Community(c echo.Context, com *storage.Community) error {
	ctx := c.Request().Context()
	members, err := w.db.CountMembers(ctx, com.ActorID, storage.StateAccepted)
	if err != nil {
		return err
	}
	page := CommunityPage{Page: w.page(c, com.Title), Community: w.communityView(com, members)}
	page.Alternate = com.Actor.URI
	posts, err := w.pagePosts(ctx, com, storage.ObjectFilter{CommunityActorID: com.ActorID, TopLevelOnly: true, Limit: communityPagePosts})
	if err != nil {
		return err
	}
	for i := range posts {
		page.Posts = append(page.Posts, postView(&posts[i]))
	}
	return w.render(c, http.StatusOK, "community", page)
}

func postView(o *storage.Object) Post {
	return Post{
		Title: o.Name, Author: "@" + o.AuthorActor.Handle(), AuthorURL: cmp.Or(o.AuthorActor.URL, o.AuthorActor.URI),
		Published: o.PublishedAt, URL: cmp.Or(o.URL, o.URI),
		// Stored content was sanitised on the way in; sanitising again on
		// the way out costs little and guards old rows.
		Content: template.HTML(sanitize.HTML(o.Content)),
	}
}

func (w *Web) communityView(com *storage.Community, members int64) Community {
	return Community{
		Name:    com.Actor.Username,
		Title:   com.Title,
		Handle:  "@" + com.Actor.Username + "@" + w.domain,
		Path:    "/c/" + com.Actor.Username,
		Summary: paragraphs(com.Summary),
		Tags:    com.TagNames(),
		Members: members,
		Closed:  com.Closed,
	}
}

// pagePosts lists the posts a community's page may show: none when the
// community is not public, and never posts from limited domains. In
// allowlist mode only members and allowed servers reach the page at all
// (server's gate).
func (w *Web) pagePosts(ctx context.Context, com *storage.Community, f storage.ObjectFilter) ([]storage.Object, error) {
	if com.Visibility != storage.VisibilityPublic {
		return nil, nil
	}
	f.HideLimited = true
	return w.db.ListObjects(ctx, f)
}
