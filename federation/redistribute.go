package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Redistribution: a local community passes what happens to its posts to
// every member's server, once per server (shared inbox), in the form that
// server reads (peers.go learns which):
//
//   - FEP-1b12 servers (Lemmy, Mbin, PieFed, NodeBB, Commonplace) read the
//     community's Announce of the activity itself: the Create of a post or
//     reply, its Update and Delete, a Like and its Undo.
//   - Mastodon-like servers (Mastodon, GoToSocial, Akkoma, Misskey, ...)
//     treat every Announce as a boost of its object and fetch that: they
//     get the Announce of the post's id, for replies too, and its Undo when
//     the post is deleted. An Announce of an Update, Delete or Like is
//     useless to them, so they get none; a local author's own Update and
//     Delete reach them instead (Edit and Delete in outbox.go).
//   - Servers whose software is not known (yet) get both forms, the boost
//     first, since most servers show that one.
//
// Every server's displayed form is queued before any second form, so it is
// never delivered behind one.

// memberServers are a local community's member inboxes by the form their
// server reads.
type memberServers struct {
	object, activity, unknown []string
}

// readsObject are the inboxes that get the boost form.
func (m memberServers) readsObject() []string { return slices.Concat(m.object, m.unknown) }

// memberServers sorts the inboxes of a local community's members (its
// partners' only, for a partner community) by what they read.
func (s *Service) memberServers(ctx context.Context, tx *storage.DB, community *storage.Actor) (memberServers, error) {
	inboxes, err := tx.MemberInboxes(ctx, community.ID)
	if err != nil {
		return memberServers{}, err
	}
	if inboxes, err = s.partnerInboxes(ctx, tx, community, inboxes); err != nil {
		return memberServers{}, err
	}
	forms, err := s.peerForms(ctx, tx, inboxes)
	if err != nil {
		return memberServers{}, err
	}
	var m memberServers
	for _, in := range inboxes {
		switch forms[in] {
		case formObject:
			m.object = append(m.object, in)
		case formActivity:
			m.activity = append(m.activity, in)
		default:
			m.unknown = append(m.unknown, in)
		}
	}
	return m, nil
}

// localCommunityOf returns the local community a post is in, or nil.
func localCommunityOf(ctx context.Context, tx *storage.DB, o *storage.Object) (*storage.Actor, error) {
	if o.CommunityActorID == nil {
		return nil, nil
	}
	if c := o.CommunityActor; c != nil && c.ID == *o.CommunityActorID {
		// Loaded with the post (or just stored with it): no query.
		if !c.Local || c.Type != storage.TypeGroup {
			return nil, nil
		}
		return c, nil
	}
	community, err := tx.GetActorByID(ctx, *o.CommunityActorID)
	if err != nil || !community.Local || community.Type != storage.TypeGroup {
		return nil, err
	}
	return community, nil
}

// redistribute sends a local community's members what raw (an activity as
// received, about post o) means to each of their servers. It does nothing
// for posts outside local communities.
func (s *Service) redistribute(ctx context.Context, tx *storage.DB, o *storage.Object, raw []byte) error {
	if limitedVisibility(o.Visibility) && o.Visibility != storage.VisibilityMembers {
		return nil // a community never passes on a private post
	}
	community, err := localCommunityOf(ctx, tx, o)
	if err != nil || community == nil {
		return err
	}
	head, err := vocab.Peek(raw)
	if err != nil {
		return fmt.Errorf("%w: redistributed activity: %v", ErrInvalid, err)
	}
	servers, err := s.memberServers(ctx, tx, community)
	if err != nil {
		return err
	}
	if head.Type == vocab.TypeCreate {
		// The boost is recorded even with no server to send it to: the
		// community's outbox lists posts under its id.
		boost, err := s.announceID(community, o.URI)
		if err != nil {
			return err
		}
		if _, err := s.send(ctx, tx, community, boost, servers.readsObject()); err != nil {
			return err
		}
	}
	body, err := s.announceRaw(community, raw)
	if err != nil {
		return err
	}
	_, err = s.sendInOrder(ctx, tx, community, body, servers.activity, servers.unknown)
	return err
}

// undoBoost withdraws a local community's boost of a deleted post from
// the servers that got it. Where the post's local author deleted it, their
// own Delete reaches the Mastodon-like servers and removes the post with
// its boosts, so only servers of unknown software get the Undo as well.
func (s *Service) undoBoost(ctx context.Context, tx *storage.DB, o *storage.Object, by *storage.Actor) error {
	community, err := localCommunityOf(ctx, tx, o)
	if err != nil || community == nil {
		return err
	}
	announce, err := tx.FindLocalActivity(ctx, vocab.TypeAnnounce, community.URI, o.URI)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	servers, err := s.memberServers(ctx, tx, community)
	if err != nil {
		return err
	}
	inboxes := servers.readsObject()
	if by.Local && by.ID == o.AuthorActorID {
		inboxes = servers.unknown
	}
	to, cc := communityAudience(community)
	body, err := s.activityDoc(vocab.TypeUndo, community, rawJSON(announce.Raw), to, cc)
	if err != nil {
		return err
	}
	_, err = s.send(ctx, tx, community, body, inboxes)
	return err
}

// authorCopies are the member inboxes of a local community that get a
// local author's own Update or Delete of a post in it: the servers that
// cannot read the community's Announce of it.
func (s *Service) authorCopies(ctx context.Context, community *storage.Actor) ([]string, error) {
	if community == nil || !community.Local {
		return nil, nil
	}
	servers, err := s.memberServers(ctx, s.DB, community)
	if err != nil {
		return nil, err
	}
	return servers.readsObject(), nil
}
