package mastoapi

import (
	"context"
	"html"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Conversions from storage to Mastodon entities ("internal to API"). A
// renderer lives for one request: it caches accounts and counts a whole
// page of statuses in a few queries.

const (
	missingAvatarPath = "/avatars/original/missing.png"
	missingHeaderPath = "/headers/original/missing.png"
)

type renderer struct {
	a        *API
	ctx      context.Context
	viewer   int64
	accounts map[int64]*Account
	actors   map[string]*storage.Actor
	// counts are accounts' figures fetched for a page at once (see
	// statusesOf); an account not in it is counted on its own.
	counts map[int64]storage.AccountCounts
	// filterContext is where the statuses are shown (home, notifications,
	// public, thread, account): the viewer's filters for it apply.
	filterContext string
	filters       []storage.Filter
	filtersRead   bool
}

func (a *API) renderer(c echo.Context) *renderer {
	return a.rendererFor(c.Request().Context(), viewerID(c))
}

// rendererFor renders for the member viewer (0: anonymous) outside a
// request, as streaming does.
func (a *API) rendererFor(ctx context.Context, viewer int64) *renderer {
	return &renderer{a: a, ctx: ctx, viewer: viewer,
		accounts: map[int64]*Account{}, actors: map[string]*storage.Actor{}}
}

func id(n int64) string { return strconv.FormatInt(n, 10) }

// acct is the account's address as Mastodon shows it: the bare username
// for local accounts, username@domain for remote ones.
func acct(a *storage.Actor) string {
	if a.Local {
		return a.Username
	}
	return a.Handle()
}

// actorURL is the account's page: its url when that is an http(s) page
// on its own host, else its id (rows stored before links were checked
// may hold anything).
func actorURL(a *storage.Actor) string { return federation.LinkOrID(a.URL, a.URI) }

// account renders an actor; a Group is a community.
func (r *renderer) account(a *storage.Actor) (*Account, error) {
	if got, ok := r.accounts[a.ID]; ok {
		return got, nil
	}
	counts, ok := r.counts[a.ID]
	if !ok {
		var err error
		if counts, err = r.countAccount(a.ID); err != nil {
			return nil, err
		}
	}
	statuses, followers, following, last := counts.Statuses, counts.Followers, counts.Following, counts.LastPostAt
	if a.MembersOnly && followers > 0 {
		// Who is in a members-only community, or how many, is its
		// members' business.
		ok, err := r.a.readsCommunity(r.ctx, a, r.viewer)
		if err != nil {
			return nil, err
		}
		if !ok {
			followers = 0
		}
	}
	created := a.CreatedAt
	if a.PublishedAt != nil {
		created = *a.PublishedAt
	}
	created = created.UTC().Truncate(24 * time.Hour)
	note := a.Summary
	if a.Local {
		note = plainToHTML(a.Summary)
	}
	discoverable := true
	if a.Type == storage.TypePerson {
		discoverable = a.Discoverable != nil && *a.Discoverable
	}
	avatar, header := r.a.svc.URLs.Base+missingAvatarPath, r.a.svc.URLs.Base+missingHeaderPath
	fileURL := r.a.svc.MediaURL
	if a.Local {
		fileURL = r.a.svc.FileURL
	}
	if a.AvatarKey != "" {
		avatar = fileURL(a.AvatarKey)
	}
	if a.HeaderKey != "" {
		header = fileURL(a.HeaderKey)
	}
	out := &Account{
		ID: id(a.ID), Username: a.Username, Acct: acct(a), URL: actorURL(a), URI: a.URI,
		DisplayName: a.DisplayName, Note: note,
		Avatar: avatar, AvatarStatic: avatar, Header: header, HeaderStatic: header,
		Locked: a.ManuallyApprovesFollowers, Fields: fieldsOf(a), Emojis: []Emoji{},
		Bot:   a.Type == storage.TypeApplication || a.Type == storage.TypeService,
		Group: a.Type == storage.TypeGroup, Discoverable: &discoverable, Indexable: true, HideCollection: ptr(a.HideCollections),
		Roles: []any{}, CreatedAt: iso(created),
		StatusesCount: statuses, FollowersCount: followers, FollowingCount: following,
	}
	if last != nil {
		d := last.UTC().Format(time.DateOnly)
		out.LastStatusAt = &d
	}
	r.accounts[a.ID] = out
	return out, nil
}

// fieldsOf renders profile fields: a local member's values are plain
// text, a remote actor's were sanitised when stored.
func fieldsOf(a *storage.Actor) []Field {
	out := []Field{}
	for _, f := range a.ProfileFields() {
		v := f.Value
		if a.Local {
			v = html.EscapeString(v)
		}
		out = append(out, Field{Name: f.Name, Value: v})
	}
	return out
}

// plainToHTML renders plain text as Mastodon's HTML: escaped paragraphs.
func plainToHTML(text string) string {
	var b strings.Builder
	for _, p := range federation.Paragraphs(text) {
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(p), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return b.String()
}

// countAccount is one account's AccountCounts.
func (r *renderer) countAccount(actorID int64) (storage.AccountCounts, error) {
	db := r.a.db
	var c storage.AccountCounts
	var err error
	if c.Statuses, err = db.CountObjects(r.ctx, storage.ObjectFilter{AuthorActorID: actorID}); err != nil {
		return c, err
	}
	if c.Followers, err = db.CountMembers(r.ctx, actorID, storage.StateAccepted); err != nil {
		return c, err
	}
	if c.Following, err = db.CountFollowing(r.ctx, actorID); err != nil {
		return c, err
	}
	c.LastPostAt, err = db.LastPostAt(r.ctx, actorID)
	return c, err
}

// countAccounts fetches at once the figures of the accounts objs show
// (authors, and communities for reblogs) that are not rendered yet.
func (r *renderer) countAccounts(objs []storage.Object) error {
	var ids []int64
	add := func(a *storage.Actor) {
		if a == nil {
			return
		}
		if _, ok := r.accounts[a.ID]; ok {
			return
		}
		if _, ok := r.counts[a.ID]; ok {
			return
		}
		ids = append(ids, a.ID)
	}
	for i := range objs {
		add(objs[i].AuthorActor)
		add(objs[i].CommunityActor)
	}
	if len(ids) < 2 {
		return nil
	}
	slices.Sort(ids)
	counts, err := r.a.db.AccountCountsOf(r.ctx, slices.Compact(ids))
	if err != nil {
		return err
	}
	if r.counts == nil {
		r.counts = counts
		return nil
	}
	maps.Copy(r.counts, counts)
	return nil
}

// statusesOf renders a page of posts. reblog reports whether a post shows
// as its community's reblog (home timelines).
func (r *renderer) statusesOf(objs []storage.Object, reblog func(*storage.Object) bool) ([]*Status, error) {
	ids := make([]int64, 0, len(objs))
	var parentIDs []int64
	for _, o := range objs {
		ids = append(ids, o.ID)
		if o.InReplyToID != nil {
			parentIDs = append(parentIDs, *o.InReplyToID)
		}
	}
	stats, err := r.a.db.StatusStats(r.ctx, ids, r.viewer)
	if err != nil {
		return nil, err
	}
	threads := make([]string, 0, len(objs))
	for _, o := range objs {
		threads = append(threads, threadOf(&o))
	}
	muted, err := r.a.db.MutedConversations(r.ctx, r.viewer, threads)
	if err != nil {
		return nil, err
	}
	tags, err := r.a.db.ObjectTags(r.ctx, ids)
	if err != nil {
		return nil, err
	}
	parents, err := r.a.db.ListObjectsByIDs(r.ctx, parentIDs)
	if err != nil {
		return nil, err
	}
	polls, err := r.a.db.PollsOf(r.ctx, ids, r.viewer)
	if err != nil {
		return nil, err
	}
	attached, err := r.a.db.MediaOfObjects(r.ctx, ids)
	if err != nil {
		return nil, err
	}
	if err := r.countAccounts(objs); err != nil {
		return nil, err
	}
	parentAuthor := map[int64]int64{}
	for _, p := range parents {
		parentAuthor[p.ID] = p.AuthorActorID
	}
	out := make([]*Status, 0, len(objs))
	for i := range objs {
		o := &objs[i]
		s, err := r.status(o, stats[o.ID], tags[o.ID], parentAuthor)
		if err != nil {
			return nil, err
		}
		if p := polls[o.ID]; p != nil {
			s.Poll = r.pollOf(o, p)
		}
		for i := range attached[o.ID] {
			s.MediaAttachments = append(s.MediaAttachments, r.a.mediaEntity(&attached[o.ID][i]))
		}
		if s.Muted != nil {
			s.Muted = ptr(muted[threadOf(o)])
		}
		switch {
		case o.Boost != nil:
			if s, err = r.boosted(o.Boost, s); err != nil {
				return nil, err
			}
		case reblog != nil && reblog(o):
			if s, err = r.reblogged(o, s); err != nil {
				return nil, err
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// threadOf is the context a post's thread is muted by.
func threadOf(o *storage.Object) string {
	if o.ContextURI != "" {
		return o.ContextURI
	}
	return o.URI
}

// statusOf renders one post.
func (r *renderer) statusOf(o *storage.Object) (*Status, error) {
	list, err := r.statusesOf([]storage.Object{*o}, nil)
	if err != nil {
		return nil, err
	}
	return list[0], nil
}

func (r *renderer) status(o *storage.Object, st *storage.StatusStats, tags []string, parentAuthor map[int64]int64) (*Status, error) {
	author := o.AuthorActor
	if author == nil {
		a, err := r.a.db.GetActorByID(r.ctx, o.AuthorActorID)
		if err != nil {
			return nil, err
		}
		author = a
	}
	account, err := r.account(author)
	if err != nil {
		return nil, err
	}
	content := o.Content
	if o.Name != "" {
		content = "<p><strong>" + html.EscapeString(o.Name) + "</strong></p>" + content
	}
	url := federation.LinkOrID(o.URL, o.URI)
	s := &Status{
		ID: id(o.ID), URI: o.URI, CreatedAt: iso(o.PublishedAt), Account: account,
		Content: content, Visibility: statusVisibility(o.Visibility), Sensitive: o.Sensitive || o.Summary != "", SpoilerText: o.Summary,
		MediaAttachments: []any{}, Mentions: r.mentions(o), Tags: []Tag{}, Emojis: []Emoji{},
		URL: &url,
	}
	if st != nil {
		s.RepliesCount, s.FavouritesCount, s.ReblogsCount = st.Replies, st.Favourites, st.Reblogs
	}
	for _, t := range tags {
		s.Tags = append(s.Tags, Tag{Name: t, URL: r.a.svc.URLs.TagURL(t), History: []TagHistory{}})
	}
	if o.InReplyToID != nil {
		pid := id(*o.InReplyToID)
		s.InReplyToID = &pid
		if aid, ok := parentAuthor[*o.InReplyToID]; ok {
			s.InReplyToAccountID = ptr(id(aid))
		}
	}
	if o.Language != "" {
		s.Language = ptr(o.Language)
	}
	if o.EditedAt != nil {
		s.EditedAt = ptr(iso(*o.EditedAt))
	}
	if r.viewer > 0 {
		if st == nil {
			st = &storage.StatusStats{}
		}
		s.Favourited, s.Reblogged, s.Muted, s.Bookmarked = ptr(st.Favourited), ptr(st.Reblogged), ptr(false), ptr(st.Bookmarked)
		if o.AuthorActorID == r.viewer {
			s.Pinned = ptr(st.Pinned) // Mastodon sends pinned only for one's own posts
		}
		s.Filtered = r.filterResults(o)
		for _, f := range s.Filtered {
			s.hidden = s.hidden || f.Filter.FilterAction == "hide"
		}
	}
	return s, nil
}

// reblogged wraps s as its community's reblog, the way Mastodon shows a
// group's boost. The wrapper has the post's id: a post appears once per
// timeline, and paging by it stays in order.
func (r *renderer) reblogged(o *storage.Object, s *Status) (*Status, error) {
	if o.CommunityActor == nil {
		return s, nil
	}
	account, err := r.account(o.CommunityActor)
	if err != nil {
		return nil, err
	}
	return wrapReblog(s, account, s.ID, s.URI, s.CreatedAt), nil
}

// boosted wraps s as a person's boost b (a member's or one they follow),
// as Mastodon shows a reblog: a status of its own, with the boost's id,
// Announce id and time, by the booster. Its Reblogged is the viewer's
// state of the post.
func (r *renderer) boosted(b *storage.Reblog, s *Status) (*Status, error) {
	by := b.Actor
	if by == nil {
		a, err := r.a.db.GetActorByID(r.ctx, b.ActorID)
		if err != nil {
			return nil, err
		}
		by = a
	}
	account, err := r.account(by)
	if err != nil {
		return nil, err
	}
	w := wrapReblog(s, account, id(b.ID), b.URI, iso(b.CreatedAt))
	// A boost has the post's visibility when that is followers-only (its
	// author's own), as on Mastodon; any other is public.
	if w.Visibility != "private" {
		w.Visibility = "public"
	}
	return w, nil
}

// wrapReblog is the reblog status of s by account: no content of its own,
// the viewer's state of s.
func wrapReblog(s *Status, account *Account, statusID, uri, createdAt string) *Status {
	return &Status{
		ID: statusID, URI: uri, CreatedAt: createdAt, Account: account, Visibility: s.Visibility,
		MediaAttachments: []any{}, Mentions: []Mention{}, Tags: []Tag{}, Emojis: []Emoji{},
		Reblog: s, Favourited: s.Favourited, Reblogged: s.Reblogged, Muted: s.Muted, Bookmarked: s.Bookmarked, Pinned: s.Pinned,
	}
}

// mentions lists the known actors a post's Mention tags name.
func (r *renderer) mentions(o *storage.Object) []Mention {
	out := []Mention{}
	if !strings.Contains(o.Raw, "Mention") {
		return out
	}
	doc, err := vocab.ParseObject([]byte(o.Raw))
	if err != nil {
		return out
	}
	seen := map[string]bool{}
	for _, t := range doc.Tag.OfType(vocab.TypeMention) {
		if t.Href == "" || seen[t.Href] {
			continue
		}
		seen[t.Href] = true
		a, ok := r.actors[t.Href]
		if !ok {
			a, err = r.a.db.GetActorByURI(r.ctx, t.Href)
			if err != nil {
				a = nil
			}
			r.actors[t.Href] = a
		}
		if a != nil {
			out = append(out, Mention{ID: id(a.ID), Username: a.Username, URL: actorURL(a), Acct: acct(a)})
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// appEntity renders a registered application.
func appEntity(app *storage.OAuthApp) *Application {
	out := &Application{
		ID: id(app.ID), Name: app.Name, Scopes: strings.Fields(app.Scopes),
		RedirectURIs: strings.Split(app.RedirectURIs, "\n"),
	}
	out.RedirectURI = strings.Join(out.RedirectURIs, "\n")
	if app.Website != "" {
		out.Website = &app.Website
	}
	return out
}

// statusVisibility is a post's visibility as Mastodon names it.
func statusVisibility(v string) string {
	switch v {
	case storage.VisibilityUnlisted, storage.VisibilityPrivate, storage.VisibilityDirect:
		return v
	case storage.VisibilityMembers:
		// For the community's members only: the apps' nearest is
		// followers-only (they will not offer to boost it).
		return storage.VisibilityPrivate
	}
	return storage.VisibilityPublic
}
