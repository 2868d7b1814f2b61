package web

import (
	"html"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// Searching a community (issue 15, item 4): its posts and replies by their
// words, best first, with the words found highlighted, by kind and tag.

// CommunitySearchPage is a search in one community.
type CommunitySearchPage struct {
	Page
	Community  Community
	Query, Tag string
	Kind       string
	Kinds      []KindOption
	Hits       []Hit
	Prev, Next string
	Error      string
}

// Hit is a post found, with the part of its text that matched.
type Hit struct {
	Post
	Snippet template.HTML
}

const hitsPerPage = 20

// communitySearch is GET /c/:name/search?q=&kind=&tag=&page=.
func (w *Web) communitySearch(c echo.Context) error {
	com, err := w.communityOf(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	members, err := w.db.CountMembers(ctx, com.ActorID, storage.StateAccepted)
	if err != nil {
		return err
	}
	q, tag := strings.TrimSpace(c.QueryParam("q")), strings.TrimPrefix(strings.TrimSpace(c.QueryParam("tag")), "#")
	kind, ok := federation.NormalizeKind(c.QueryParam("kind"))
	if !ok || c.QueryParam("kind") == "" {
		kind = ""
	}
	page := CommunitySearchPage{Page: w.page(c, "Search "+com.Title), Community: w.communityView(com, members),
		Query: q, Tag: tag, Kind: kind, Kinds: kindOptions()}
	page.Kinds[0] = KindOption{"", "Any kind"}
	if q == "" {
		return w.render(c, http.StatusOK, "community_search", page)
	}
	if utf8.RuneCountInString(q) > 200 || utf8.RuneCountInString(tag) > federation.MaxTagLen {
		page.Error = "Search for at most 200 characters."
		return w.render(c, http.StatusUnprocessableEntity, "community_search", page)
	}
	viewer, err := w.viewerActor(c)
	if err != nil {
		return err
	}
	if com.Visibility != storage.VisibilityPublic {
		return w.render(c, http.StatusOK, "community_search", page)
	}
	n, _ := strconv.Atoi(c.QueryParam("page"))
	n = max(1, min(n, 50))
	hits, err := w.db.Search(ctx, storage.SearchFilter{Query: q, CommunityActorID: com.ActorID, Kind: kind, Tag: strings.ToLower(tag),
		Viewer: viewer, Offset: (n - 1) * hitsPerPage, Limit: hitsPerPage + 1})
	if err != nil {
		return err
	}
	if len(hits) > hitsPerPage {
		hits = hits[:hitsPerPage]
		page.Next = w.searchURL(page, n+1)
	}
	if n > 1 {
		page.Prev = w.searchURL(page, n-1)
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ObjectID
	}
	objs, err := w.db.ListObjectsByIDs(ctx, ids)
	if err != nil {
		return err
	}
	byID := make(map[int64]storage.Object, len(objs))
	for _, o := range objs {
		byID[o.ID] = o
	}
	ordered := make([]storage.Object, 0, len(hits))
	snippets := make([]string, 0, len(hits))
	for _, h := range hits {
		if o, ok := byID[h.ObjectID]; ok {
			ordered = append(ordered, o)
			snippets = append(snippets, h.Snippet)
		}
	}
	views, err := w.postViews(ctx, ordered, viewer)
	if err != nil {
		return err
	}
	for i := range views {
		page.Hits = append(page.Hits, Hit{Post: views[i], Snippet: highlight(snippets[i])})
	}
	return w.render(c, http.StatusOK, "community_search", page)
}

// searchURL is the address of another page of the same search.
func (w *Web) searchURL(p CommunitySearchPage, n int) string {
	v := make([]string, 0, 4)
	v = append(v, "q="+urlQueryEscape(p.Query))
	if p.Kind != "" {
		v = append(v, "kind="+p.Kind)
	}
	if p.Tag != "" {
		v = append(v, "tag="+urlQueryEscape(p.Tag))
	}
	v = append(v, "page="+strconv.Itoa(n))
	return p.Community.Path + "/search?" + strings.Join(v, "&")
}

// highlight makes a snippet safe HTML with the words found in <mark>.
func highlight(snippet string) template.HTML {
	// Marks come only from the database (indexed text has no control
	// characters); a mark left open is closed all the same.
	var b strings.Builder
	open := false
	for _, r := range html.EscapeString(snippet) {
		switch {
		case string(r) == storage.MarkStart && !open:
			b.WriteString("<mark>")
			open = true
		case string(r) == storage.MarkEnd && open:
			b.WriteString("</mark>")
			open = false
		case string(r) == storage.MarkStart || string(r) == storage.MarkEnd:
		default:
			b.WriteRune(r)
		}
	}
	if open {
		b.WriteString("</mark>")
	}
	return template.HTML(b.String())
}

// relatedPosts is how many related posts a thread page shows.
const relatedPosts = 5

// related lists posts of a top-level post's community like it.
func (w *Web) related(c echo.Context, o *storage.Object, viewer *storage.Actor) ([]Post, error) {
	if o.InReplyToID != nil || o.CommunityActor == nil {
		return nil, nil
	}
	ctx := c.Request().Context()
	ids, err := w.db.RelatedPosts(ctx, o, viewer, relatedPosts)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	objs, err := w.db.ListObjectsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]storage.Object, len(objs))
	for _, x := range objs {
		byID[x.ID] = x
	}
	ordered := make([]storage.Object, 0, len(ids))
	for _, id := range ids {
		if x, ok := byID[id]; ok {
			ordered = append(ordered, x)
		}
	}
	return w.postViews(ctx, ordered, viewer)
}
