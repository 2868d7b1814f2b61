package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Backfill: a reply whose parent we do not have (its community announced
// it before the post it answers, or it reached us alone because it names
// a local member) has its thread fetched first: the posts it answers, up
// the chain, then the collection its thread's `context` names (FEP-f228).
// Every post is fetched from its own id through the guarded resolver
// (policy, private addresses, size), must be attributed to an actor on
// its own host, and is stored by the rules a fetched post follows
// (storeFetched). Backfill never recurses: the posts it stores fetch
// nothing further.

const (
	// MaxBackfillAncestors bounds the walk up a reply chain.
	MaxBackfillAncestors = 8
	// MaxBackfillPosts bounds the posts fetched from a thread's
	// collection, MaxBackfillPages the pages read of it.
	MaxBackfillPosts = 40
	MaxBackfillPages = 3
)

// backfill fetches and stores the thread of obj, a reply whose parent we
// do not have. via is the remote community whose Announce brought obj
// (nil: none). Failures are logged, not returned: the reply is stored
// all the same, without its parent.
func (s *Service) backfill(ctx context.Context, obj *vocab.Object, via *storage.Actor) {
	if obj.InReplyTo == "" {
		return
	}
	// Up the chain: fetch until a post we have, the first post, or the
	// bound; then store from the top down, so that each finds its parent.
	type fetched struct {
		obj *vocab.Object
		raw []byte
	}
	var chain []fetched
	seen := map[string]bool{obj.ID: true}
	next := string(obj.InReplyTo)
	for len(chain) < MaxBackfillAncestors && next != "" && !seen[next] {
		seen[next] = true
		if _, err := s.DB.GetObjectByURI(ctx, next); err == nil {
			break
		} else if !errors.Is(err, storage.ErrNotFound) {
			s.Log.Warn("backfill", "object", next, "err", err)
			return
		}
		if s.URLs.IsLocal(next) {
			break // ours, and gone: nothing to fetch
		}
		p, raw, err := s.FetchObject(ctx, next)
		if err != nil {
			s.Log.Info("backfill: parent not fetched", "reply", obj.ID, "parent", next, "err", err)
			break
		}
		chain = append(chain, fetched{p, raw})
		next = string(p.InReplyTo)
	}
	if len(chain) == 0 {
		return
	}
	var top *storage.Object
	for i := len(chain) - 1; i >= 0; i-- {
		o, err := s.storeFetched(ctx, chain[i].obj, chain[i].raw, via)
		if err != nil {
			s.Log.Info("backfill: parent not stored", "reply", obj.ID, "parent", chain[i].obj.ID, "err", err)
			return // its descendants would have no parent either
		}
		if top == nil {
			top = o
		}
	}
	if top != nil {
		s.backfillContext(ctx, top, seen, via)
	}
}

// backfillContext reads the collection that names the thread of top, the
// first post backfill stored, when it is a collection on top's own server
// (the thread's owner), and stores the posts of it we do not have, in its
// order, bounded.
func (s *Service) backfillContext(ctx context.Context, top *storage.Object, seen map[string]bool, via *storage.Actor) {
	uri := top.ContextURI
	if uri == "" || uri == top.URI || s.URLs.IsLocal(uri) || !sameHost(uri, top.URI) ||
		!strings.HasPrefix(uri, "https://") && !strings.HasPrefix(uri, "http://") {
		return
	}
	ids, err := s.collectionItems(ctx, uri, MaxBackfillPages, MaxBackfillPosts)
	if err != nil {
		s.Log.Info("backfill: thread not read", "context", uri, "err", err)
	}
	for _, id := range ids {
		if seen[id] || s.URLs.IsLocal(id) {
			continue
		}
		seen[id] = true
		if _, err := s.DB.GetObjectByURI(ctx, id); err == nil {
			continue
		} else if !errors.Is(err, storage.ErrNotFound) {
			s.Log.Warn("backfill", "object", id, "err", err)
			return
		}
		obj, raw, err := s.FetchObject(ctx, id)
		if err == nil {
			_, err = s.storeFetched(ctx, obj, raw, via)
		}
		if err != nil {
			s.Log.Info("backfill: post of thread not stored", "context", uri, "object", id, "err", err)
		}
	}
}

// collectionItems reads up to limit item ids of the collection at uri
// (inline, or through its first page and next links, all on its host),
// reading at most pages documents after the collection itself.
func (s *Service) collectionItems(ctx context.Context, uri string, pages, limit int) ([]string, error) {
	body, _, err := s.fetch(ctx, uri)
	if err != nil {
		return nil, err
	}
	coll, err := vocab.ParseCollection(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrInvalid, uri, err)
	}
	var ids []string
	add := func(c *vocab.Collection) {
		for _, r := range c.Members() {
			if id := r.ID(); id != "" && len(ids) < limit && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	add(coll)
	page := coll.First
	for read := 0; len(ids) < limit && read < pages && !page.IsZero(); read++ {
		var p *vocab.Collection
		if page.IsEmbedded() && sameHost(page.ID(), uri) {
			p, err = page.Collection()
		} else {
			if !sameHost(page.ID(), uri) {
				return ids, fmt.Errorf("%w: %s pages on another host (%s)", ErrForbidden, uri, page.ID())
			}
			var raw []byte
			if raw, _, err = s.fetch(ctx, page.ID()); err == nil {
				p, err = vocab.ParseCollection(raw)
			}
		}
		if err != nil {
			return ids, fmt.Errorf("page of %s: %w", uri, err)
		}
		add(p)
		page = vocab.NewRef(string(p.Next))
		if p.Next == "" {
			break
		}
	}
	return ids, nil
}

// storeFetched stores a post fetched from its own id (backfill, a search):
// public posts only, attributed to an actor on its own host. A reply in
// one of our threads is not taken (those enter through an inbox, judged
// by the thread's community), nor put in a local community; a remote
// community keeps it only when that community brought the thread (via:
// its Announce of a reply in it, which the post itself addresses).
func (s *Service) storeFetched(ctx context.Context, obj *vocab.Object, raw []byte, via *storage.Actor) (*storage.Object, error) {
	if postTypes[obj.Type] && len(obj.To) == 0 && len(obj.CC) == 0 && s.servedToAnyone(ctx, obj.ID) {
		// Discourse addresses a post in its Create only: what its
		// server serves to anyone, unsigned, is public.
		obj.To = vocab.IRIs{vocab.Public}
	}
	if !postTypes[obj.Type] || !obj.IsPublic() {
		return nil, fmt.Errorf("%s is not a public post: %w", obj.ID, storage.ErrNotFound)
	}
	authorID := obj.AttributedTo.ID()
	if !sameHost(authorID, obj.ID) {
		return nil, fmt.Errorf("%w: %s is attributed to %s on another host", ErrForbidden, obj.ID, authorID)
	}
	author, err := s.Actor(ctx, authorID)
	if err != nil {
		return nil, err
	}
	community, parent, err := s.targetCommunity(ctx, obj)
	if err != nil {
		return nil, err
	}
	if localThread(community, parent) {
		return nil, fmt.Errorf("%w: %s answers a post in a thread of ours; it enters by its author's Create", ErrForbidden, obj.ID)
	}
	if community != nil && (community.Local || via == nil || community.ID != via.ID) {
		community = nil
	}
	o, err := s.storeObject(ctx, s.DB, obj, raw, author, community, parent)
	if errors.Is(err, storage.ErrConflict) {
		return s.DB.GetObjectByURI(ctx, obj.ID)
	}
	return o, err
}

// servedToAnyone reports whether the post at uri is served to an
// unsigned request, at its own id.
func (s *Service) servedToAnyone(ctx context.Context, uri string) bool {
	if s.Client == nil || s.URLs.IsLocal(uri) || s.refuse(ctx, uri) != nil {
		return false
	}
	body, resp, err := s.Client.Get(ctx, uri, nil)
	if err != nil {
		return false
	}
	head, err := vocab.Peek(body)
	return err == nil && head.Kind == vocab.KindObject && head.ID == uri && head.ID == stripFragment(resp.URL.String())
}
