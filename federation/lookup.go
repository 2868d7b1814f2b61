package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// LookupPost finds the post at a URL someone pasted into search: one we
// have (by id, or by its page URL), or one fetched now from its server and
// stored. The URL may be a post's page rather than its id (Mastodon's
// https://host/@alice/123 serves the Note whose id is
// https://host/users/alice/statuses/123): the document it serves is then
// fetched again from its own id, which must be on the same host, and only
// that copy is trusted. Only public posts are taken; anything else is
// storage.ErrNotFound, as for a URL that names no post.
func (s *Service) LookupPost(ctx context.Context, rawURL string) (*storage.Object, error) {
	rawURL = strings.TrimSpace(rawURL)
	if !strings.HasPrefix(rawURL, "https://") && !strings.HasPrefix(rawURL, "http://") {
		return nil, fmt.Errorf("%w: %q is not a URL", ErrInvalid, rawURL)
	}
	if o, err := s.DB.GetObjectByURI(ctx, rawURL); err == nil || !errors.Is(err, storage.ErrNotFound) {
		return o, err
	}
	if s.URLs.IsLocal(rawURL) {
		return nil, fmt.Errorf("post %s: %w", rawURL, storage.ErrNotFound)
	}
	body, _, err := s.get(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	head, err := vocab.Peek(body)
	if err != nil || head.Kind != vocab.KindObject || !postTypes[head.Type] {
		return nil, fmt.Errorf("%s names no post: %w", rawURL, storage.ErrNotFound)
	}
	if head.ID != stripFragment(rawURL) {
		if !sameHost(head.ID, rawURL) {
			return nil, fmt.Errorf("%w: %s serves a post of another host (%s)", ErrForbidden, rawURL, head.ID)
		}
		if o, err := s.DB.GetObjectByURI(ctx, head.ID); err == nil || !errors.Is(err, storage.ErrNotFound) {
			return o, err
		}
	}
	// The copy we keep is the one served at its own id.
	obj, raw, err := s.FetchObject(ctx, head.ID)
	if err != nil {
		return nil, err
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
	if community != nil && community.Local && parent != nil {
		// A reply in one of our threads joins it only through an inbox,
		// judged by the thread's community (closed, partner): found by
		// a search, it is kept outside the thread.
		parent = nil
	}
	if community != nil && community.Local {
		// Our own communities take posts through their inbox, where
		// membership and partner rules apply, not through a search.
		community = nil
	}
	if _, err := s.storeObject(ctx, s.DB, obj, raw, author, community, parent); err != nil && !errors.Is(err, storage.ErrConflict) {
		return nil, err
	}
	return s.DB.GetObjectByURI(ctx, obj.ID)
}
