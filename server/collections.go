package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// pageSize is the number of items on one collection page.
const pageSize = 50

// Collections are OrderedCollections whose items come in pages: the
// collection itself carries totalItems and a link to the first page, and
// each page links to the next with an opaque cursor (a row id; only our
// own next links produce one). Small collections that Lemmy reads only
// inline (moderators, featured) carry their items directly.

// pageItem is one item with the cursor that continues after it.
type pageItem struct {
	ref    vocab.Ref
	cursor int64
}

// collection describes one paged collection.
type collection struct {
	id    string
	count func(ctx context.Context) (int64, error)
	// page returns up to limit items after cursor (0: from the start).
	page func(ctx context.Context, cursor int64, limit int) ([]pageItem, error)
	// hidden shows the count only, as Mastodon does for an account that
	// hides its network: no first page, and a page asked for is a 403.
	hidden bool
}

// serve writes the collection, or the page that ?page= asks for.
func (s *Server) serve(c echo.Context, col collection) error {
	cursor, paged, err := pageParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if paged && col.hidden {
		return echo.NewHTTPError(http.StatusForbidden, "this account hides its network")
	}
	if !paged {
		n, err := col.count(ctx)
		if err != nil {
			return err
		}
		total := int(n)
		doc := &vocab.Collection{ID: col.id, Type: vocab.TypeOrderedCollection, TotalItems: &total}
		if !col.hidden {
			doc.First = vocab.NewRef(col.id + "?page=true")
		}
		return activityJSON(c, doc)
	}
	items, err := col.page(ctx, cursor, pageSize+1)
	if err != nil {
		return err
	}
	self := col.id + "?page=true"
	if cursor > 0 {
		self = col.id + "?page=" + strconv.FormatInt(cursor, 10)
	}
	doc := vocab.ItemsPage{ID: self, Type: vocab.TypeOrderedCollectionPage, PartOf: vocab.IRI(col.id)}
	if len(items) > pageSize {
		items = items[:pageSize]
		doc.Next = vocab.IRI(col.id + "?page=" + strconv.FormatInt(items[len(items)-1].cursor, 10))
	}
	doc.OrderedItems = make([]vocab.Ref, len(items))
	for i, it := range items {
		doc.OrderedItems[i] = it.ref
	}
	return activityJSON(c, doc)
}

// pageParam reads ?page=: absent for the collection itself, "true" for the
// first page, or a cursor from a next link. Anything else is a 400.
func pageParam(c echo.Context) (cursor int64, paged bool, err error) {
	values, ok := c.QueryParams()["page"]
	if !ok {
		return 0, false, nil
	}
	if len(values) != 1 {
		return 0, false, badRequest("page must be given once")
	}
	v := values[0]
	if v == "true" {
		return 0, true, nil
	}
	n, perr := strconv.ParseInt(v, 10, 64)
	if perr != nil || n <= 0 || strconv.FormatInt(n, 10) != v {
		return 0, false, badRequest("page must be true or a cursor from a next link")
	}
	return n, true, nil
}

// inline writes a small OrderedCollection with its items.
func inline(c echo.Context, id string, ids []string) error {
	total := int64(len(ids))
	doc := vocab.ItemsPage{ID: id, Type: vocab.TypeOrderedCollection, TotalItems: &total, OrderedItems: make([]vocab.Ref, len(ids))}
	for i, id := range ids {
		doc.OrderedItems[i] = vocab.NewRef(id)
	}
	return activityJSON(c, doc)
}

// outbox lists objects newest first, each wrapped by wrap; the cursor is
// the id of the last object shown.
func (s *Server) outbox(id string, f storage.ObjectFilter, wrap func(context.Context, *storage.Object) (*vocab.Activity, error)) collection {
	return collection{
		id:    id,
		count: func(ctx context.Context) (int64, error) { return s.db.CountObjects(ctx, f) },
		page: func(ctx context.Context, cursor int64, limit int) ([]pageItem, error) {
			q := f
			q.BeforeID, q.Limit = cursor, limit
			objs, err := s.db.ListObjects(ctx, q)
			if err != nil {
				return nil, err
			}
			out := make([]pageItem, 0, len(objs))
			for i := range objs {
				act, err := wrap(ctx, &objs[i])
				if err != nil {
					return nil, err
				}
				ref, err := vocab.Embed(act)
				if err != nil {
					return nil, err
				}
				out = append(out, pageItem{ref: ref, cursor: objs[i].ID})
			}
			return out, nil
		},
	}
}

// following lists the communities an actor follows, oldest first.
func (s *Server) following(a *storage.Actor) collection {
	return collection{
		id:    a.FollowingURI,
		count: func(ctx context.Context) (int64, error) { return s.db.CountFollowing(ctx, a.ID) },
		page: func(ctx context.Context, cursor int64, limit int) ([]pageItem, error) {
			ms, err := s.db.FollowingPage(ctx, a.ID, cursor, limit)
			if err != nil {
				return nil, err
			}
			out := make([]pageItem, 0, len(ms))
			for _, m := range ms {
				out = append(out, pageItem{ref: vocab.NewRef(m.CommunityActor.URI), cursor: m.ID})
			}
			return out, nil
		},
	}
}

func (s *Server) personOutbox(c echo.Context) error {
	a, err := s.localActor(c, storage.TypePerson)
	if err != nil {
		return err
	}
	// Public and unlisted posts, as Mastodon's outbox.
	return s.serve(c, s.outbox(a.OutboxURI, storage.ObjectFilter{AuthorActorID: a.ID, Unlisted: true},
		func(ctx context.Context, o *storage.Object) (*vocab.Activity, error) {
			return s.withSentID(ctx, createOf(o, a), o)
		}))
}

// personFollowers lists the accounts that follow a member.
func (s *Server) personFollowers(c echo.Context) error {
	a, err := s.localActor(c, storage.TypePerson)
	if err != nil {
		return err
	}
	col := s.followers(a)
	col.hidden = a.HideCollections
	return s.serve(c, col)
}

// personFollowing lists whom a member follows (communities and people).
func (s *Server) personFollowing(c echo.Context) error {
	a, err := s.localActor(c, storage.TypePerson)
	if err != nil {
		return err
	}
	col := s.following(a)
	col.hidden = a.HideCollections
	return s.serve(c, col)
}

// groupOutbox lists the community's posts (not replies) as the Announces
// it sent of them, under the ids other servers received; a post it has not
// announced (yet) gets a stand-in id.
func (s *Server) groupOutbox(c echo.Context) error {
	a, err := s.localActor(c, storage.TypeGroup)
	if err != nil {
		return err
	}
	if err := s.svc.CollectionAllowed(c.Request().Context(), c.Request(), a); err != nil {
		return err
	}
	// Posts from domains the federation policy limits stay out of public
	// listings.
	f := storage.ObjectFilter{CommunityActorID: a.ID, TopLevelOnly: true, HideLimited: true, Members: a.MembersOnly}
	return s.serve(c, s.outbox(a.OutboxURI, f,
		func(ctx context.Context, o *storage.Object) (*vocab.Activity, error) {
			return s.withSentID(ctx, announceOf(o, a), o)
		}))
}

// withSentID gives act, an outbox entry rebuilt from a stored post, the id
// of the activity actually sent about it, so that other servers see the
// ids they received; one never sent keeps its stand-in id.
func (s *Server) withSentID(ctx context.Context, act *vocab.Activity, o *storage.Object) (*vocab.Activity, error) {
	sent, err := s.db.FindLocalActivity(ctx, act.Type, string(act.Actor), o.URI)
	switch {
	case err == nil:
		act.ID = sent.URI
	case !errors.Is(err, storage.ErrNotFound):
		return nil, err
	}
	return act, nil
}

// groupFollowers lists the members whose membership was accepted.
func (s *Server) groupFollowers(c echo.Context) error {
	a, err := s.localActor(c, storage.TypeGroup)
	if err != nil {
		return err
	}
	if err := s.svc.CollectionAllowed(c.Request().Context(), c.Request(), a); err != nil {
		return err
	}
	return s.serve(c, s.followers(a))
}

// followers lists the accepted followers of a local actor, oldest first.
func (s *Server) followers(a *storage.Actor) collection {
	return collection{
		id: a.FollowersURI,
		count: func(ctx context.Context) (int64, error) {
			return s.db.CountMembers(ctx, a.ID, storage.StateAccepted)
		},
		page: func(ctx context.Context, cursor int64, limit int) ([]pageItem, error) {
			ms, err := s.db.MemberPage(ctx, a.ID, storage.StateAccepted, cursor, limit)
			if err != nil {
				return nil, err
			}
			out := make([]pageItem, 0, len(ms))
			for _, m := range ms {
				out = append(out, pageItem{ref: vocab.NewRef(m.MemberActor.URI), cursor: m.ID})
			}
			return out, nil
		},
	}
}

// groupFollowing is empty in practice (communities follow nobody) but
// served like any actor's, since the Group document links it.
func (s *Server) groupFollowing(c echo.Context) error {
	a, err := s.localActor(c, storage.TypeGroup)
	if err != nil {
		return err
	}
	if err := s.svc.CollectionAllowed(c.Request().Context(), c.Request(), a); err != nil {
		return err
	}
	return s.serve(c, s.following(a))
}

// groupFeatured is the community's repertoire, its posts embedded as
// Lemmy reads its featured posts.
func (s *Server) groupFeatured(c echo.Context) error {
	a, err := s.localActor(c, storage.TypeGroup)
	if err != nil {
		return err
	}
	if err := s.svc.CollectionAllowed(c.Request().Context(), c.Request(), a); err != nil {
		return err
	}
	doc, err := s.svc.FeaturedCollection(c.Request().Context(), a)
	if err != nil {
		return err
	}
	return activityJSON(c, doc)
}

// personFeatured lists the member's pinned posts, most recently pinned
// first, as Mastodon's featured collection does.
func (s *Server) personFeatured(c echo.Context) error {
	a, err := s.localActor(c, storage.TypePerson)
	if err != nil {
		return err
	}
	pins, err := s.db.ListMarked(c.Request().Context(), "pins", a.ID, nil, storage.Page{Limit: federation.MaxPins})
	if err != nil {
		return err
	}
	ids := make([]string, len(pins.Objects))
	for i, o := range pins.Objects {
		ids[i] = o.URI
	}
	return inline(c, a.FeaturedURI, ids)
}

// groupFeaturedTags is the community's tags as its featuredTags
// collection, which Mastodon shows as the community's featured hashtags.
func (s *Server) groupFeaturedTags(c echo.Context) error {
	name, err := actorName(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	com, err := s.db.GetCommunityByName(ctx, name)
	if err != nil {
		return err
	}
	if err := s.svc.CollectionAllowed(ctx, c.Request(), com.Actor); err != nil {
		return err
	}
	doc, err := hashtagsOf(s.urls, federation.FeaturedTagsURI(com.Actor), com.TagNames())
	if err != nil {
		return err
	}
	return activityJSON(c, doc)
}

// personFeaturedTags is the member's featured hashtags as their
// featuredTags collection, in the order /api/v1/featured_tags lists them.
func (s *Server) personFeaturedTags(c echo.Context) error {
	a, err := s.localActor(c, storage.TypePerson)
	if err != nil {
		return err
	}
	rows, err := s.db.ListTags(c.Request().Context(), storage.FeaturedTags, a.ID, storage.Page{Limit: storage.MaxFeaturedTags})
	if err != nil {
		return err
	}
	tags := make([]string, 0, len(rows))
	for _, r := range rows {
		tags = append(tags, r.Tag)
	}
	doc, err := hashtagsOf(s.urls, federation.FeaturedTagsURI(a), tags)
	if err != nil {
		return err
	}
	return activityJSON(c, doc)
}

// groupModerators lists owners and moderators, inline as Lemmy reads it.
func (s *Server) groupModerators(c echo.Context) error {
	a, err := s.localActor(c, storage.TypeGroup)
	if err != nil {
		return err
	}
	if err := s.svc.CollectionAllowed(c.Request().Context(), c.Request(), a); err != nil {
		return err
	}
	mods, err := s.db.Moderators(c.Request().Context(), a.ID)
	if err != nil {
		return err
	}
	ids := make([]string, len(mods))
	for i, m := range mods {
		ids[i] = m.URI
	}
	return inline(c, moderatorsURI(a), ids)
}

// instanceOutbox is empty: the instance actor publishes nothing, but
// Mastodon requires an outbox on every actor.
func (s *Server) instanceOutbox(c echo.Context) error {
	a, err := s.db.GetActorByURI(c.Request().Context(), s.urls.InstanceActor())
	if err != nil {
		return err
	}
	return inline(c, a.OutboxURI, nil)
}

// instanceFeatured is empty, like the instance outbox; GoToSocial logs an
// error for an actor without one.
func (s *Server) instanceFeatured(c echo.Context) error {
	a, err := s.db.GetActorByURI(c.Request().Context(), s.urls.InstanceActor())
	if err != nil {
		return err
	}
	return inline(c, a.FeaturedURI, nil)
}
