package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// postTypes are the object types stored as posts and replies.
var postTypes = map[string]bool{
	vocab.TypeNote: true, vocab.TypePage: true, vocab.TypeArticle: true, vocab.TypeQuestion: true,
}

// onFollow handles a Follow of a local actor. Open communities accept at
// once; closed ones hold the request until an owner or moderator decides.
func (s *Service) onFollow(ctx context.Context, act *vocab.Activity, raw []byte, follower *storage.Actor) error {
	target, err := s.DB.GetActorByURI(ctx, act.Object.ID())
	if err != nil || !target.Local {
		return fmt.Errorf("%w: follow of %s, which is not a local actor", ErrInvalid, act.Object.ID())
	}
	state := storage.StateAccepted
	switch target.Type {
	case storage.TypeGroup:
		c, err := s.DB.GetCommunityByActorID(ctx, target.ID)
		if err != nil {
			return err
		}
		if c.Closed {
			state = storage.StatePending
		}
		err = s.checkPartner(ctx, target, follower)
		if err == nil {
			err = s.checkBanned(ctx, target, follower)
		}
		if errors.Is(err, ErrForbidden) {
			// A partner community turns away other instances' members,
			// telling their server so.
			if rerr := s.DB.Tx(ctx, func(tx *storage.DB) error {
				return s.answerFollow(ctx, tx, vocab.TypeReject, target, follower, act.ID, raw)
			}); rerr != nil {
				return rerr
			}
			s.notifyDeliveries()
			return err
		} else if err != nil {
			return err
		}
		if s.limited(ctx, follower) {
			// As on Mastodon: follows from a limited domain need approval.
			state = storage.StatePending
		}
	case storage.TypePerson:
	default:
		return fmt.Errorf("%w: %s cannot be followed", ErrInvalid, target.URI)
	}
	// A repeated Follow from an accepted member is accepted again, never
	// sent back to the queue.
	wasMember := false
	if m, err := s.DB.GetMembership(ctx, target.ID, follower.ID); err == nil && m.State == storage.StateAccepted {
		state, wasMember = storage.StateAccepted, true
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		m := &storage.Membership{CommunityActorID: target.ID, MemberActorID: follower.ID, State: state, FollowURI: act.ID}
		if err := tx.PutMembership(ctx, m); err != nil {
			return err
		}
		if err := s.followed(ctx, tx, target, follower, state); err != nil {
			return err
		}
		if state == storage.StateAccepted {
			return s.answerFollow(ctx, tx, vocab.TypeAccept, target, follower, act.ID, raw)
		}
		return nil
	})
	if err == nil {
		s.notifyDeliveries()
		s.Log.Info("follow", "community", target.URI, "follower", follower.URI, "state", state)
		// Learn what the new member's server reads before the next post.
		s.wantSoftware(follower.InboxURI)
		if state == storage.StateAccepted && !wasMember {
			s.welcomeMember(ctx, target, follower)
		}
	}
	return err
}

// answerFollow sends Accept or Reject with the Follow embedded as it was
// received, which Mastodon and Lemmy match against their pending follow.
func (s *Service) answerFollow(ctx context.Context, tx *storage.DB, typ string, target, follower *storage.Actor, followID string, followRaw []byte) error {
	if follower.Local {
		return nil
	}
	var object any = followID
	if len(followRaw) > 0 {
		object = rawJSON(followRaw)
	}
	body, err := s.activityDoc(typ, target, object, []string{follower.URI}, nil)
	if err != nil {
		return err
	}
	_, err = s.send(ctx, tx, target, body, []string{follower.InboxURI})
	return err
}

// onUndo handles Undo of a Follow (leaving) and of a Like.
func (s *Service) onUndo(ctx context.Context, act *vocab.Activity, raw []byte, actor *storage.Actor) error {
	innerID := act.Object.ID()
	innerType := act.Object.Type()
	var (
		innerObject string
		innerAct    *vocab.Activity
	)
	if act.Object.IsEmbedded() {
		inner, err := act.Object.Activity()
		if err != nil {
			return fmt.Errorf("%w: undone activity: %v", ErrInvalid, err)
		}
		innerAct = inner
		if string(inner.Actor) != actor.URI && !modUndo(innerType) {
			return fmt.Errorf("%w: %s may not undo an activity of %s", ErrForbidden, actor.URI, inner.Actor)
		}
		innerObject = inner.Object.ID()
	} else if stored, err := s.DB.GetActivityByURI(ctx, innerID); err == nil {
		if stored.ActorURI != actor.URI && !modUndo(stored.Type) {
			return fmt.Errorf("%w: %s may not undo an activity of %s", ErrForbidden, actor.URI, stored.ActorURI)
		}
		innerType, innerObject = stored.Type, stored.ObjectURI
		innerAct, _ = vocab.ParseActivity([]byte(stored.Raw))
	}
	switch innerType {
	case vocab.TypeLock:
		// Any moderator may unlock a thread another locked.
		return s.onLock(ctx, act, raw, actor, innerObject, false)
	case vocab.TypeBlock:
		if innerAct == nil {
			return nil
		}
		return s.onUnblock(ctx, act, raw, actor, innerAct)
	case vocab.TypeAccept:
		if isAnswerAccept(innerAct) {
			return s.onAcceptAnswer(ctx, innerAct, raw, actor, true)
		}
	case vocab.TypeFollow:
		m, err := s.DB.GetMembershipByFollowURI(ctx, innerID)
		if errors.Is(err, storage.ErrNotFound) && innerObject != "" {
			target, terr := s.DB.GetActorByURI(ctx, innerObject)
			if terr != nil {
				return nil
			}
			m, err = s.DB.GetMembership(ctx, target.ID, actor.ID)
		}
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if m.MemberActorID != actor.ID {
			return fmt.Errorf("%w: %s may not end another actor's membership", ErrForbidden, actor.URI)
		}
		s.Log.Info("unfollow", "community", m.CommunityActorID, "member", actor.URI)
		return ignoreNotFound(s.DB.DeleteMembership(ctx, m.CommunityActorID, actor.ID))
	case vocab.TypeAnnounce:
		return s.onUnboost(ctx, innerID, actor)
	case vocab.TypeLike:
		like, err := s.DB.GetLikeByURI(ctx, innerID)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if like.ActorID != actor.ID {
			return fmt.Errorf("%w: %s may not undo another actor's like", ErrForbidden, actor.URI)
		}
		obj, err := s.DB.GetObjectByID(ctx, like.ObjectID)
		if err != nil {
			return err
		}
		return s.DB.Tx(ctx, func(tx *storage.DB) error {
			if err := ignoreNotFound(tx.DeleteLike(ctx, actor.ID, obj.ID)); err != nil {
				return err
			}
			return s.redistribute(ctx, tx, obj, raw)
		})
	}
	return nil
}

// modUndo reports whether an Undo of an activity of this type may come
// from another actor than the one who did it: any moderator may lift
// another's lock or ban (checked when it is applied).
func modUndo(typ string) bool { return typ == vocab.TypeLock || typ == vocab.TypeBlock }

// onFollowAnswer handles a remote community's Accept or Reject of a local
// member's Follow. Only the followed actor may answer.
func (s *Service) onFollowAnswer(ctx context.Context, act *vocab.Activity, actor *storage.Actor) error {
	m, err := s.DB.GetMembershipByFollowURI(ctx, act.Object.ID())
	if errors.Is(err, storage.ErrNotFound) && act.Object.IsEmbedded() {
		// Some servers answer with a Follow of their own making; match
		// it by who follows whom.
		if inner, perr := act.Object.Activity(); perr == nil {
			if member, merr := s.DB.GetActorByURI(ctx, string(inner.Actor)); merr == nil && member.Local {
				m, err = s.DB.GetMembership(ctx, actor.ID, member.ID)
			}
		}
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if m.CommunityActorID != actor.ID {
		return fmt.Errorf("%w: %s answered a follow of another actor", ErrForbidden, actor.URI)
	}
	if act.Type == vocab.TypeAccept {
		s.Log.Info("follow accepted", "community", actor.URI, "member", m.MemberActorID)
		if err := s.DB.AcceptMembership(ctx, m.ID); err != nil {
			return err
		}
		if actor.Type == storage.TypeGroup {
			// Its moderators may act from here: learn who they are.
			if err := s.syncModerators(ctx, actor); err != nil {
				s.Log.Info("moderators not read", "community", actor.URI, "err", err)
			}
			if err := s.syncFeatured(ctx, actor); err != nil {
				s.Log.Info("repertoire not read", "community", actor.URI, "err", err)
			}
		}
		return nil
	}
	s.Log.Info("follow rejected", "community", actor.URI, "member", m.MemberActorID)
	return ignoreNotFound(s.DB.DeleteMembership(ctx, m.CommunityActorID, m.MemberActorID))
}

// onCreate stores a new post or reply. One that addresses a local
// community (to, cc, audience or a Mention, as Mastodon users write) or
// replies to a post in one enters the community and is redistributed.
func (s *Service) onCreate(ctx context.Context, act *vocab.Activity, raw []byte, author *storage.Actor) error {
	obj, objRaw, err := s.objectOf(ctx, act, author)
	if err != nil {
		return err
	}
	if vote, err := s.onVote(ctx, obj, author); vote || err != nil {
		if err == nil && len(act.Object) > 1 {
			err = s.onMoreVotes(ctx, act.Object[1:], author)
		}
		return err
	}
	if !postTypes[obj.Type] {
		return nil
	}
	if _, err := s.DB.GetObjectByURI(ctx, obj.ID); err == nil {
		return nil // already have it
	}
	community, parent, err := s.targetCommunity(ctx, obj)
	if err != nil {
		return err
	}
	visibility, named := audienceOf(obj, author)
	if limitedVisibility(visibility) && !inMembersCommunity(obj, community, visibility) {
		// A community is public talk: a followers-only or direct post
		// never enters one, even when it mentions one or answers a post
		// in one. It is kept for the people it is for. A members-only
		// community takes it (storeObject makes it a members post).
		// A reply in one of our threads is judged by the thread's
		// community all the same, since it is stored in the thread.
		if parent != nil && community != nil && community.Local {
			c, err := s.DB.GetCommunityByActorID(ctx, community.ID)
			if err != nil {
				return err
			}
			if err := s.mayPostIn(ctx, c, community, author, parent); err != nil {
				return err
			}
		}
		community = nil
	}
	if community == nil || !community.Local {
		// Not for one of our communities: keep replies to threads we
		// have, so that they stay complete, the posts of people local
		// members follow, for their home timelines, and posts that name
		// a local member (a direct message). Those are in no community
		// here: only a community's own Announce puts a post in a remote
		// community.
		if parent == nil && !author.Local && !s.namesLocal(named) {
			if ok, err := s.DB.HasLocalMember(ctx, author.ID); err != nil || !ok {
				return err
			}
		}
		if parent == nil && obj.InReplyTo != "" && !author.Local {
			// Kept, but the post it answers is not here: fetch its
			// thread first, so that it is read whole.
			s.backfill(ctx, obj, nil)
			if community, parent, err = s.targetCommunity(ctx, obj); err != nil {
				return err
			}
			if community != nil && community.Local {
				community = nil // it did not come to one by its own addressing
			}
		}
		ownPost := community != nil && community.ID == author.ID // a community's own post (its digest) is in it
		if parent == nil && !ownPost || limitedVisibility(visibility) && !inMembersCommunity(obj, community, visibility) {
			community = nil
		}
		_, err := s.storeObject(ctx, s.DB, obj, objRaw, author, community, parent)
		return ignoreConflict(err)
	}
	c, err := s.DB.GetCommunityByActorID(ctx, community.ID)
	if err != nil {
		return err
	}
	if err := s.mayPostIn(ctx, c, community, author, parent); err != nil {
		return err
	}
	if held, err := s.admit(ctx, c, community, author, obj, objRaw, raw); held || err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		o, err := s.storeObject(ctx, tx, obj, objRaw, author, community, parent)
		if err != nil {
			return err
		}
		return s.redistribute(ctx, tx, o, raw)
	})
	if errors.Is(err, storage.ErrConflict) {
		return nil // a concurrent copy of the same post won
	}
	if err == nil {
		s.notifyDeliveries()
		s.Log.Info("post accepted", "community", community.URI, "object", obj.ID, "author", author.URI)
	}
	return err
}

// mayPostIn applies a local community's rules to a post or reply by
// author: partner servers only, bans and posting rules, members only when
// closed.
func (s *Service) mayPostIn(ctx context.Context, c *storage.Community, community, author *storage.Actor, parent *storage.Object) error {
	if err := s.checkPartner(ctx, community, author); err != nil {
		return err
	}
	if err := s.checkMayPost(ctx, community, author, parent); err != nil {
		return err
	}
	if c.Closed {
		m, err := s.DB.GetMembership(ctx, community.ID, author.ID)
		if err != nil || m.State != storage.StateAccepted {
			return fmt.Errorf("%w: %s is not a member of the closed community %s", ErrForbidden, author.URI, community.URI)
		}
	}
	return nil
}

// objectOf returns the object a Create or Update carries: embedded (its
// origin was checked when the activity was accepted) or fetched from its
// origin.
func (s *Service) objectOf(ctx context.Context, act *vocab.Activity, author *storage.Actor) (*vocab.Object, []byte, error) {
	if act.Object.IsEmbedded() {
		obj, err := act.Object.Object()
		if err != nil {
			return nil, nil, fmt.Errorf("%w: object: %v", ErrInvalid, err)
		}
		if !sameHost(obj.ID, author.URI) || obj.AttributedTo.ID() != author.URI {
			return nil, nil, fmt.Errorf("%w: object %s is not %s's", ErrForbidden, obj.ID, author.URI)
		}
		return obj, act.Object.First().Raw(), nil
	}
	obj, raw, err := s.FetchObject(ctx, act.Object.ID())
	if err != nil {
		return nil, nil, err
	}
	if obj.AttributedTo.ID() != author.URI {
		return nil, nil, fmt.Errorf("%w: object %s is not %s's", ErrForbidden, obj.ID, author.URI)
	}
	return obj, raw, nil
}

// targetCommunity finds the community a post is for. A reply to a post
// we have in a community, or to a local post, joins its thread: its
// community is the thread's (nil for a local post outside communities),
// whatever Groups it addresses, so that it is judged by the thread's
// rules (closed, partner) and never stored under another community. For
// anything else: a Group it addresses or mentions.
func (s *Service) targetCommunity(ctx context.Context, obj *vocab.Object) (community *storage.Actor, parent *storage.Object, err error) {
	if obj.InReplyTo != "" {
		p, err := s.DB.GetObjectByURI(ctx, string(obj.InReplyTo))
		if err == nil {
			parent = p
		} else if !errors.Is(err, storage.ErrNotFound) {
			return nil, nil, err
		}
	}
	if parent != nil && (parent.CommunityActor != nil || parent.Local) {
		return parent.CommunityActor, parent, nil
	}
	candidates := append([]string{string(obj.Audience)}, obj.To...)
	candidates = append(candidates, obj.CC...)
	for _, t := range obj.Tag.OfType(vocab.TypeMention) {
		candidates = append(candidates, t.Href)
	}
	for _, uri := range candidates {
		if uri == "" || uri == vocab.Public {
			continue
		}
		a, err := s.DB.GetActorByURI(ctx, uri)
		if err == nil && a.Type == storage.TypeGroup {
			return a, parent, nil
		}
	}
	if parent != nil && parent.CommunityActor != nil {
		return parent.CommunityActor, parent, nil
	}
	return nil, parent, nil
}

// MaxReplyDepth bounds how deep a thread goes: a reply to a post this
// many replies deep is refused, so that walking a thread up from any post
// is bounded (Mastodon's API shows members 4,096 ancestors; no real
// conversation comes near either).
const MaxReplyDepth = 1000

// localThread reports whether a post that targetCommunity placed in
// community, replying to parent, is a reply in one of our own threads: in
// a local community, or to a local post outside communities.
func localThread(community *storage.Actor, parent *storage.Object) bool {
	if community != nil {
		return community.Local && parent != nil
	}
	return parent != nil && parent.Local
}

// storeObject saves a post with sanitised content.
func (s *Service) storeObject(ctx context.Context, tx *storage.DB, obj *vocab.Object, raw []byte, author, community *storage.Actor, parent *storage.Object) (*storage.Object, error) {
	if !tx.InTx() {
		// The post, its tags and its notifications commit together, so
		// that live clients told of it find all of them.
		var o *storage.Object
		err := tx.Tx(ctx, func(tx *storage.DB) error {
			var err error
			o, err = s.storeObject(ctx, tx, obj, raw, author, community, parent)
			return err
		})
		return o, err
	}
	o := &storage.Object{
		URI: obj.ID, Type: obj.Type, AuthorActorID: author.ID,
		InReplyToURI: string(obj.InReplyTo),
		ContextURI:   s.threadKey(obj, parent),
		URL:          linkOf(obj.URL.HTML(), obj.ID),
		Name:         sanitize.PlainText(obj.Name, 300),
		Kind:         objectKind(obj),
		Summary:      sanitize.PlainText(obj.Summary, 500),
		Content:      sanitize.HTML(obj.ContentIn()),
		Sensitive:    obj.Sensitive,
		Local:        author.Local,
		Raw:          string(raw),
		PublishedAt:  obj.Published.Time,
	}
	if obj.Source != nil && author.Local {
		o.Source = obj.Source.Content
	}
	if o.PublishedAt.IsZero() || o.PublishedAt.After(time.Now().Add(time.Hour)) {
		o.PublishedAt = time.Now().UTC()
	}
	if community != nil {
		o.CommunityActorID = &community.ID
		o.CommunityActor = community
	}
	if parent != nil {
		if parent.ReplyDepth >= MaxReplyDepth {
			return nil, fmt.Errorf("%w: %s answers a post %d replies deep; threads stop at %d", ErrInvalid, obj.ID, parent.ReplyDepth, MaxReplyDepth)
		}
		o.InReplyToID = &parent.ID
		o.ReplyDepth = parent.ReplyDepth + 1
	}
	o.AuthorActor = author
	o.Language = postLanguage(obj)
	var named []string
	o.Visibility, named = audienceOf(obj, author)
	if inMembersCommunity(obj, community, o.Visibility) {
		// Its members read it, whatever the author's server chose; the
		// people it names besides are no readers of it.
		o.Visibility = storage.VisibilityMembers
	} else if limitedVisibility(o.Visibility) {
		// Never in a community, whatever the caller found.
		o.CommunityActorID, o.CommunityActor = nil, nil
	}
	if err := tx.CreateObject(ctx, o); err != nil {
		return nil, err
	}
	if err := indexObject(ctx, tx, o.ID, o.Name, o.Summary, o.Content); err != nil {
		return nil, err
	}
	if err := s.storePoll(ctx, tx, o, obj); err != nil {
		return nil, err
	}
	if !o.Local {
		if err := s.storeRemoteMedia(ctx, tx, o, obj); err != nil {
			return nil, err
		}
	}
	if limitedVisibility(o.Visibility) && o.Visibility != storage.VisibilityMembers {
		if err := tx.PutObjectRecipients(ctx, o.ID, named); err != nil {
			return nil, err
		}
		if err := s.conversed(ctx, tx, o, named); err != nil {
			return nil, err
		}
	}
	if err := s.objectStored(ctx, tx, o, obj); err != nil {
		return nil, err
	}
	if err := s.created(ctx, tx, o); err != nil {
		return nil, err
	}
	return o, nil
}

// mayModify reports whether actor may edit or delete o: its author, or an
// owner or moderator of its community (or the community itself).
func (s *Service) mayModify(ctx context.Context, actor *storage.Actor, o *storage.Object) (bool, error) {
	if o.AuthorActorID == actor.ID {
		return true, nil
	}
	if o.CommunityActorID == nil {
		return false, nil
	}
	if *o.CommunityActorID == actor.ID {
		return true, nil
	}
	return s.DB.IsModerator(ctx, *o.CommunityActorID, actor.ID)
}

// onUpdate applies an edit of a post (by its author) or of an actor's own
// profile, and redistributes edits of posts in local communities.
func (s *Service) onUpdate(ctx context.Context, act *vocab.Activity, raw []byte, actor *storage.Actor) error {
	if act.Object.ID() == actor.URI {
		if actor.Local {
			return nil
		}
		fresh, err := s.FetchActor(ctx, actor.URI)
		if err != nil || fresh.Type != storage.TypeGroup {
			return err
		}
		// A community's Update may be a new order of its repertoire.
		return s.syncFeaturedOfFollowed(ctx, fresh)
	}
	stored, err := s.DB.GetObjectByURI(ctx, act.Object.ID())
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if stored.AuthorActorID != actor.ID {
		return fmt.Errorf("%w: %s may not edit %s", ErrForbidden, actor.URI, stored.URI)
	}
	obj, objRaw, err := s.objectOf(ctx, act, actor)
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := s.applyEdit(ctx, tx, stored, obj, objRaw, actor); err != nil {
			return err
		}
		return s.redistribute(ctx, tx, stored, raw)
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return ignoreNotFound(err)
}

// applyEdit applies an edit of stored by its author and re-indexes its
// hashtags.
func (s *Service) applyEdit(ctx context.Context, tx *storage.DB, stored *storage.Object, obj *vocab.Object, raw []byte, author *storage.Actor) error {
	if totalsOnly, err := s.pollResults(ctx, tx, stored, obj, author); err != nil || totalsOnly {
		return err // new totals of a poll are no edit
	}
	u := s.objectUpdate(obj, raw, author)
	if err := s.updateObject(ctx, tx, stored.ID, u); err != nil {
		return err
	}
	if !stored.Local {
		if err := s.replaceRemoteMedia(ctx, tx, stored, obj); err != nil {
			return err
		}
	}
	if limitedVisibility(stored.Visibility) && stored.Visibility != storage.VisibilityMembers {
		// An edit may name more people (as Mastodon's adds mentions);
		// it never narrows or widens the visibility.
		if _, named := audienceOf(obj, author); len(named) > 0 {
			if err := tx.PutObjectRecipients(ctx, stored.ID, named); err != nil {
				return err
			}
		}
	}
	edited := &storage.Object{Local: stored.Local, Source: u.Source}
	return tx.ReplaceObjectTags(ctx, stored.ID, postHashtags(edited, obj))
}

func (s *Service) objectUpdate(obj *vocab.Object, raw []byte, author *storage.Actor) storage.ObjectUpdate {
	u := storage.ObjectUpdate{
		Name:      sanitize.PlainText(obj.Name, 300),
		Kind:      objectKind(obj),
		Summary:   sanitize.PlainText(obj.Summary, 500),
		Content:   sanitize.HTML(obj.ContentIn()),
		Sensitive: obj.Sensitive,
		Raw:       string(raw),
		EditedAt:  obj.Updated.Time,
	}
	if obj.Source != nil && author.Local {
		u.Source = obj.Source.Content
	}
	if u.EditedAt.IsZero() || u.EditedAt.After(time.Now().Add(time.Hour)) {
		u.EditedAt = time.Now().UTC()
	}
	return u
}

// onDelete tombstones a post deleted by its author or a moderator, and
// redistributes the deletion of posts in local communities; servers that
// only read boosts get the boost undone (see redistribute.go).
func (s *Service) onDelete(ctx context.Context, act *vocab.Activity, raw []byte, actor *storage.Actor) error {
	id := act.Object.ID()
	if id == actor.URI {
		n, err := s.DB.DeleteMemberships(ctx, actor.ID)
		s.Log.Info("actor deleted", "actor", actor.URI, "memberships_removed", n)
		return err
	}
	stored, err := s.DB.GetObjectByURI(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if stored.DeletedAt != nil {
		return nil
	}
	ok, err := s.mayModify(ctx, actor, stored)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: %s may not delete %s", ErrForbidden, actor.URI, stored.URI)
	}
	if stored.AuthorActorID != actor.ID {
		// A moderator's Delete removes the post from its community.
		if stored.CommunityActor != nil && stored.CommunityActor.Local {
			return s.onRemoval(ctx, act, raw, actor, stored)
		}
		return s.DB.Tx(ctx, func(tx *storage.DB) error { return s.removeFromCommunity(ctx, tx, stored) })
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := s.tombstone(ctx, tx, stored.ID); err != nil {
			return err
		}
		if err := s.redistribute(ctx, tx, stored, raw); err != nil {
			return err
		}
		return s.undoBoost(ctx, tx, stored, actor)
	})
	if err == nil {
		s.notifyDeliveries()
		s.Log.Info("post deleted", "object", stored.URI, "by", actor.URI)
	}
	return err
}

// onLike records a Like of a post we have and redistributes it, FEP-1b12
// style, when the post is in a local community.
func (s *Service) onLike(ctx context.Context, act *vocab.Activity, raw []byte, actor *storage.Actor) error {
	stored, err := s.DB.GetObjectByURI(ctx, act.Object.ID())
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if stored.CommunityActor != nil {
		if err := s.checkPartner(ctx, stored.CommunityActor, actor); err != nil {
			return err
		}
		if stored.CommunityActor.Local {
			if err := s.checkBanned(ctx, stored.CommunityActor, actor); err != nil {
				return err
			}
		}
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		fresh, err := tx.PutLike(ctx, &storage.Like{URI: act.ID, ActorID: actor.ID, ObjectID: stored.ID})
		if err != nil || !fresh {
			return err
		}
		if err := s.liked(ctx, tx, stored, actor); err != nil {
			return err
		}
		return s.redistribute(ctx, tx, stored, raw)
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// onAnnounce handles what a remote community we follow redistributes: an
// activity (FEP-1b12) or a bare object id. Objects from other hosts are
// fetched from their origin: the community's signature does not vouch for
// another server's content.
func (s *Service) onAnnounce(ctx context.Context, act *vocab.Activity, group *storage.Actor) error {
	if group.Local {
		return nil
	}
	if group.Type != storage.TypeGroup {
		return s.onBoost(ctx, act, group)
	}
	if ok, err := s.DB.HasLocalMember(ctx, group.ID); err != nil || !ok {
		return err
	}
	inner := act.Object.First()
	if !inner.IsEmbedded() || vocab.KindOf(inner.Type()) == vocab.KindObject {
		return s.syncRemoteObject(ctx, inner.ID(), group, inner)
	}
	innerAct, err := inner.Activity()
	if err != nil {
		return fmt.Errorf("%w: announced activity: %v", ErrInvalid, err)
	}
	switch innerAct.Type {
	case vocab.TypeDelete:
		if removed, err := s.announcedRemoval(ctx, innerAct, group); removed || err != nil {
			return err
		}
		return s.syncRemoteObject(ctx, innerAct.Object.ID(), group, innerAct.Object.First())
	case vocab.TypeCreate, vocab.TypeUpdate:
		return s.syncRemoteObject(ctx, innerAct.Object.ID(), group, innerAct.Object.First())
	case vocab.TypeLock, vocab.TypeBlock, vocab.TypeUndo, vocab.TypeAdd, vocab.TypeRemove, vocab.TypeAccept:
		return s.announcedModeration(ctx, innerAct, group)
	}
	return nil
}

// syncRemoteObject brings our copy of a post in a remote community up to
// date with its origin: stored if new, updated if edited, tombstoned if
// gone. An embedded copy is used only when the community's own server is
// the post's origin.
func (s *Service) syncRemoteObject(ctx context.Context, id string, group *storage.Actor, embedded vocab.Ref) error {
	var (
		obj *vocab.Object
		raw []byte
		err error
	)
	if embedded.IsEmbedded() && sameHost(id, group.URI) && vocab.KindOf(embedded.Type()) == vocab.KindObject {
		obj, err = embedded.Object()
		raw = embedded.Raw()
	} else {
		obj, raw, err = s.FetchObject(ctx, id)
	}
	stored, serr := s.DB.GetObjectByURI(ctx, id)
	if serr != nil && !errors.Is(serr, storage.ErrNotFound) {
		return serr
	}
	var se *transport.StatusError
	if errors.As(err, &se) && se.Gone() || err == nil && obj.Type == vocab.TypeTombstone {
		if stored != nil && serr == nil && stored.DeletedAt == nil {
			return s.tombstone(ctx, s.DB, stored.ID)
		}
		return nil
	}
	if err != nil {
		return err
	}
	if !postTypes[obj.Type] {
		return nil
	}
	authorID := obj.AttributedTo.ID()
	if !sameHost(authorID, obj.ID) {
		return fmt.Errorf("%w: %s is attributed to %s on another host", ErrForbidden, obj.ID, authorID)
	}
	author, err := s.Actor(ctx, authorID)
	if err != nil {
		return err
	}
	if serr == nil {
		if stored.DeletedAt != nil || stored.AuthorActorID != author.ID {
			return nil
		}
		if stored.CommunityActorID == nil {
			// Stored from its author, whom a local member follows,
			// before the community announced it.
			if err := ignoreNotFound(s.DB.SetObjectCommunity(ctx, stored.ID, group.ID)); err != nil {
				return err
			}
		}
		return ignoreNotFound(s.applyEdit(ctx, s.DB, stored, obj, raw, author))
	}
	thread, parent, err := s.targetCommunity(ctx, obj)
	if err == nil && parent == nil && obj.InReplyTo != "" {
		// Announced before the post it answers: fetch its thread first.
		s.backfill(ctx, obj, group)
		thread, parent, err = s.targetCommunity(ctx, obj)
	}
	if err != nil {
		return err
	}
	if localThread(thread, parent) {
		// A reply in one of our threads enters it by its author's own
		// Create, judged by the thread's community; another community's
		// Announce does not vouch for it here.
		s.Log.Debug("announced reply to a local thread ignored", "object", obj.ID, "group", group.URI)
		return nil
	}
	_, err = s.storeObject(ctx, s.DB, obj, raw, author, group, parent)
	if errors.Is(err, storage.ErrConflict) {
		// The author's own Create, processed at the same moment, stored
		// the post outside any community: the community's Announce puts
		// it in.
		if stored, serr := s.DB.GetObjectByURI(ctx, id); serr == nil && stored.CommunityActorID == nil && stored.AuthorActorID == author.ID {
			return ignoreNotFound(s.DB.SetObjectCommunity(ctx, stored.ID, group.ID))
		}
		return nil
	}
	return err
}

func ignoreNotFound(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}

func ignoreConflict(err error) error {
	if errors.Is(err, storage.ErrConflict) {
		return nil
	}
	return err
}
