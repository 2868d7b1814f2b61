package federation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Moderation as Lemmy federates it (FEP-1b12): a moderator's action is an
// activity of the moderator's, sent to the community, which checks that
// they moderate it, applies it and announces it to every member's server.
// A community's own Announce of a moderation activity is honoured by
// members' servers: the community is the authority on what is in it.
//
//   - Remove a post: Delete{object: post, summary: reason} by a moderator.
//     On the author's own server the post stays theirs, outside the
//     community; everywhere else it becomes a tombstone. Mastodon-like
//     servers get the community's boost undone.
//   - Lock a thread: Lock{object: post}; Undo{Lock} unlocks.
//   - Ban: Block{object: person, target: community, endTime, removeData};
//     Undo{Block} lifts it.
//   - Moderators: Add (Remove){object: person, target: the community's
//     moderators collection}, which owners send.
//
// Every action in a local community is written to its modlog.

// MaxModReasonLen bounds a moderation reason.
const MaxModReasonLen = 1000

// Reason is why a moderator acted. A private reason goes to the modlog
// for the community's moderators only and is never federated.
type Reason struct {
	Text    string
	Private bool
}

func (r Reason) check() error {
	if utf8.RuneCountInString(r.Text) > MaxModReasonLen {
		return fmt.Errorf("%w: a reason is at most %d characters", ErrInvalid, MaxModReasonLen)
	}
	return nil
}

// public is the reason as federated: empty when private.
func (r Reason) public() string {
	if r.Private {
		return ""
	}
	return strings.TrimSpace(r.Text)
}

type reasonKey struct{}

// withReason passes a moderator's reason, private part included, from a
// local action to the dispatch that records it.
func withReason(ctx context.Context, r Reason) context.Context {
	return context.WithValue(ctx, reasonKey{}, r)
}

// reasonOf is the reason of an activity being applied: the local
// moderator's own, or the summary a remote one sent.
func reasonOf(ctx context.Context, act *vocab.Activity) Reason {
	if r, ok := ctx.Value(reasonKey{}).(Reason); ok {
		return Reason{Text: strings.TrimSpace(r.Text), Private: r.Private}
	}
	return Reason{Text: truncate(strings.TrimSpace(act.Summary), MaxModReasonLen)}
}

// ModeratorsURI is a community's moderators collection.
func ModeratorsURI(g *storage.Actor) string {
	if g.ModeratorsURI != "" {
		return g.ModeratorsURI
	}
	if g.Local {
		return g.URI + "/moderators"
	}
	return ""
}

// mayModerate reports whether actor may moderate community: the community
// itself (its admin, from the CLI), an owner or a moderator.
func (s *Service) mayModerate(ctx context.Context, actor, community *storage.Actor) (bool, error) {
	if actor.ID == community.ID {
		return true, nil
	}
	return s.DB.IsModerator(ctx, community.ID, actor.ID)
}

// moderated loads the community a moderator acts on and checks they may.
func (s *Service) moderated(ctx context.Context, mod *storage.Actor, community string) (*storage.Actor, error) {
	g, err := s.resolveCommunity(ctx, community)
	if err != nil {
		return nil, err
	}
	if ok, err := s.mayModerate(ctx, mod, g); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("%w: %s does not moderate %s", ErrForbidden, mod.Handle(), g.Handle())
	}
	return g, nil
}

// logMod writes a moderation action to a local community's modlog.
func (s *Service) logMod(ctx context.Context, tx *storage.DB, community, mod *storage.Actor, action string, target *storage.Actor, objectURI string, r Reason, expires *time.Time) error {
	if community == nil || !community.Local {
		return nil
	}
	a := &storage.ModAction{
		CommunityActorID: community.ID, Action: action, ObjectURI: objectURI,
		Reason: r.Text, ReasonPrivate: r.Private && r.Text != "", ExpiresAt: expires,
	}
	if mod != nil {
		a.ModeratorActorID = &mod.ID
	}
	if target != nil {
		a.TargetActorID = &target.ID
	}
	return tx.PutModAction(ctx, a)
}

// modActivity builds a moderator's activity addressed as Lemmy addresses
// them: public, cc and audience the community.
func (s *Service) modActivity(typ string, mod, community *storage.Actor, object vocab.Refs, fill func(*vocab.Activity)) ([]byte, error) {
	act := &vocab.Activity{
		ID: s.URLs.NewActivity(), Type: typ, Actor: vocab.IRI(mod.URI), Object: object,
		To: vocab.IRIs{vocab.Public}, CC: vocab.IRIs{community.URI}, Audience: vocab.IRI(community.URI),
	}
	if fill != nil {
		fill(act)
	}
	return vocab.Marshal(act)
}

// undoOf wraps a moderator's earlier activity (as sent) in an Undo.
func (s *Service) undoOf(mod, community *storage.Actor, inner []byte, summary string) ([]byte, error) {
	var ref vocab.Ref
	if err := ref.UnmarshalJSON(inner); err != nil {
		return nil, err
	}
	return vocab.Marshal(&vocab.Activity{
		ID: s.URLs.NewActivity(), Type: vocab.TypeUndo, Actor: vocab.IRI(mod.URI), Object: vocab.Refs{ref},
		To: vocab.IRIs{vocab.Public}, CC: vocab.IRIs{community.URI}, Audience: vocab.IRI(community.URI),
		Summary: summary,
	})
}

// moderate applies a moderator's activity: in a local community through
// the same dispatch as the inbox; to a remote one by sending it to the
// community, which applies and announces it (and its Announce reaches us
// when local members belong to it). extra are inboxes told besides the
// community (a banned member's server).
func (s *Service) moderate(ctx context.Context, mod, community *storage.Actor, body []byte, r Reason, extra []string) error {
	act, err := vocab.ParseActivity(body)
	if err != nil {
		return err
	}
	if community.Local {
		if err := s.dispatch(withReason(ctx, r), act, body, mod); err != nil {
			return err
		}
		err := s.DB.Tx(ctx, func(tx *storage.DB) error {
			_, err := s.send(ctx, tx, mod, body, extra)
			return err
		})
		if err == nil {
			s.notifyDeliveries()
		}
		return err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		_, err := s.send(ctx, tx, mod, body, append([]string{community.InboxURI}, extra...))
		return err
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// announceToMembers sends a local community's Announce of an activity
// about the community (a ban, a lock, a new moderator) to the servers
// that read announced activities; Mastodon-like servers have no use for
// it.
func (s *Service) announceToMembers(ctx context.Context, tx *storage.DB, community *storage.Actor, raw []byte, extra ...string) error {
	servers, err := s.memberServers(ctx, tx, community)
	if err != nil {
		return err
	}
	body, err := s.announceRaw(community, raw)
	if err != nil {
		return err
	}
	_, err = s.sendInOrder(ctx, tx, community, body, servers.activity, servers.unknown, extra)
	return err
}

// --- Removing posts ---

// moderatedPost is a live post in a community that mod, a local member,
// moderates, and that community.
func (s *Service) moderatedPost(ctx context.Context, mod *storage.Actor, objectURI string) (*storage.Object, *storage.Actor, error) {
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if err != nil {
		return nil, nil, err
	}
	if o.DeletedAt != nil || o.CommunityActor == nil {
		return nil, nil, fmt.Errorf("%w: %s is not a live post in a community", ErrInvalid, objectURI)
	}
	if !mod.Local {
		return nil, nil, fmt.Errorf("%w: only local members act from here", ErrForbidden)
	}
	g, err := s.moderated(ctx, mod, o.CommunityActor.URI)
	if err != nil {
		return nil, nil, err
	}
	return o, g, nil
}

// RemovePost takes a post or reply out of its community, as a moderator
// of it, with a reason. The author's own copy on their server stays.
func (s *Service) RemovePost(ctx context.Context, mod *storage.Actor, objectURI string, r Reason) error {
	if err := r.check(); err != nil {
		return err
	}
	o, g, err := s.moderatedPost(ctx, mod, objectURI)
	if err != nil {
		return err
	}
	body, err := s.modActivity(vocab.TypeDelete, mod, g, vocab.RefsTo(o.URI), func(a *vocab.Activity) { a.Summary = r.public() })
	if err != nil {
		return err
	}
	if g.Local {
		return s.moderate(ctx, mod, g, body, r, nil)
	}
	// A remote community announces the removal to its members; our copy
	// follows at once.
	if err := s.moderate(ctx, mod, g, body, r, nil); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(tx *storage.DB) error { return s.removeFromCommunity(ctx, tx, o) })
}

// removeFromCommunity applies a removal to our copy of a post: where its
// author lives here the post stays theirs, outside the community;
// otherwise it becomes a tombstone.
func (s *Service) removeFromCommunity(ctx context.Context, tx *storage.DB, o *storage.Object) error {
	if o.Local {
		return tx.DetachObject(ctx, o.ID)
	}
	return s.tombstone(ctx, tx, o.ID)
}

// onRemoval applies a moderator's Delete of a post in a local community
// (dispatched from onDelete): announced to members as received, the
// community's boost undone for Mastodon-like servers, the post taken out,
// the action logged.
func (s *Service) onRemoval(ctx context.Context, act *vocab.Activity, raw []byte, mod *storage.Actor, o *storage.Object) error {
	community, err := localCommunityOf(ctx, s.DB, o)
	if err != nil {
		return err
	}
	r := reasonOf(ctx, act)
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := s.redistribute(ctx, tx, o, raw); err != nil {
			return err
		}
		if err := s.undoBoost(ctx, tx, o, mod); err != nil {
			return err
		}
		if err := s.removeFromCommunity(ctx, tx, o); err != nil {
			return err
		}
		return s.logMod(ctx, tx, community, mod, storage.ModRemovePost, o.AuthorActor, o.URI, r, nil)
	})
	if err == nil {
		s.notifyDeliveries()
		s.Log.Info("post removed", "object", o.URI, "by", mod.URI)
	}
	return err
}

// --- Locking threads ---

// LockPost locks (locked false: unlocks) a thread, as a moderator of its
// community: no new replies.
func (s *Service) LockPost(ctx context.Context, mod *storage.Actor, objectURI string, locked bool, r Reason) error {
	if err := r.check(); err != nil {
		return err
	}
	o, g, err := s.moderatedPost(ctx, mod, objectURI)
	if err != nil {
		return err
	}
	if (o.LockedAt != nil) == locked {
		return nil
	}
	body, err := s.modActivity(vocab.TypeLock, mod, g, vocab.RefsTo(o.URI), func(a *vocab.Activity) {
		if locked {
			a.Summary = r.public()
		}
	})
	if err != nil {
		return err
	}
	if !locked {
		prev, err := s.DB.FindLocalActivity(ctx, vocab.TypeLock, mod.URI, o.URI)
		if err == nil {
			body = []byte(prev.Raw)
		}
		if body, err = s.undoOf(mod, g, body, r.public()); err != nil {
			return err
		}
	}
	if err := s.moderate(ctx, mod, g, body, r, nil); err != nil {
		return err
	}
	if !g.Local {
		return s.DB.LockObject(ctx, o.ID, locked)
	}
	return nil
}

// onLock locks a thread in a local community at a moderator's Lock (or
// unlocks it at its Undo), announcing it to members.
func (s *Service) onLock(ctx context.Context, act *vocab.Activity, raw []byte, mod *storage.Actor, objectURI string, locked bool) error {
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	community, err := localCommunityOf(ctx, s.DB, o)
	if err != nil || community == nil {
		return err
	}
	if ok, err := s.mayModerate(ctx, mod, community); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %s does not moderate %s", ErrForbidden, mod.URI, community.URI)
	}
	action := storage.ModLock
	if !locked {
		action = storage.ModUnlock
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.LockObject(ctx, o.ID, locked); err != nil {
			return err
		}
		if err := s.announceToMembers(ctx, tx, community, raw); err != nil {
			return err
		}
		return s.logMod(ctx, tx, community, mod, action, o.AuthorActor, o.URI, reasonOf(ctx, act), nil)
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// threadLocked reports whether a reply to parent would go into a locked
// thread: the parent or the thread's first post is locked.
func (s *Service) threadLocked(ctx context.Context, parent *storage.Object) (bool, error) {
	if parent == nil {
		return false, nil
	}
	if parent.LockedAt != nil {
		return true, nil
	}
	if parent.ContextURI == "" || parent.ContextURI == parent.URI {
		return false, nil
	}
	root, err := s.DB.GetThreadRoot(ctx, parent.ContextURI)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return root.LockedAt != nil, nil
}

// --- Bans ---

// Ban is a moderator's ban of a member from a community.
type Ban struct {
	Reason Reason
	// Until ends the ban; zero bans for good.
	Until time.Time
	// RemovePosts removes the member's posts and replies in the community.
	RemovePosts bool
}

// BanMember bans an actor (handle or id) from a community, as a moderator
// of it: their membership ends, their posts are no longer accepted or
// redistributed, and with RemovePosts their posts are removed.
func (s *Service) BanMember(ctx context.Context, mod *storage.Actor, community, member string, b Ban) error {
	if err := b.Reason.check(); err != nil {
		return err
	}
	if !mod.Local {
		return fmt.Errorf("%w: only local members act from here", ErrForbidden)
	}
	g, err := s.moderated(ctx, mod, community)
	if err != nil {
		return err
	}
	who, err := s.resolvePerson(ctx, member)
	if err != nil {
		return err
	}
	if !b.Until.IsZero() && !b.Until.After(time.Now()) {
		return fmt.Errorf("%w: a ban ends in the future", ErrInvalid)
	}
	body, err := s.modActivity(vocab.TypeBlock, mod, g, vocab.RefsTo(who.URI), func(a *vocab.Activity) {
		a.Target = vocab.NewRef(g.URI)
		a.Summary = b.Reason.public()
		a.RemoveData = b.RemovePosts
		if !b.Until.IsZero() {
			a.EndTime = vocab.At(b.Until.UTC().Truncate(time.Second))
		}
	})
	if err != nil {
		return err
	}
	var extra []string
	if !who.Local {
		extra = []string{who.InboxURI}
	}
	if err := s.moderate(ctx, mod, g, body, b.Reason, extra); err != nil {
		return err
	}
	if !g.Local {
		act, _ := vocab.ParseActivity(body)
		return s.applyBan(ctx, act, g, who)
	}
	return nil
}

// UnbanMember lifts a ban, as a moderator of the community.
func (s *Service) UnbanMember(ctx context.Context, mod *storage.Actor, community, member string, r Reason) error {
	if err := r.check(); err != nil {
		return err
	}
	g, err := s.moderated(ctx, mod, community)
	if err != nil {
		return err
	}
	who, err := s.resolvePerson(ctx, member)
	if err != nil {
		return err
	}
	ban, err := s.DB.GetBan(ctx, g.ID, who.ID)
	if err != nil {
		return fmt.Errorf("ban of %s: %w", member, err)
	}
	inner := []byte(nil)
	if ban.URI != "" {
		if a, err := s.DB.GetActivityByURI(ctx, ban.URI); err == nil {
			inner = []byte(a.Raw)
		}
	}
	if inner == nil {
		if inner, err = s.modActivity(vocab.TypeBlock, mod, g, vocab.RefsTo(who.URI), func(a *vocab.Activity) { a.Target = vocab.NewRef(g.URI) }); err != nil {
			return err
		}
	}
	body, err := s.undoOf(mod, g, inner, r.public())
	if err != nil {
		return err
	}
	var extra []string
	if !who.Local {
		extra = []string{who.InboxURI}
	}
	if err := s.moderate(ctx, mod, g, body, r, extra); err != nil {
		return err
	}
	if !g.Local {
		return ignoreNotFound(s.DB.DeleteBan(ctx, g.ID, who.ID))
	}
	return nil
}

// resolvePerson finds an actor by handle, local name or id.
func (s *Service) resolvePerson(ctx context.Context, ref string) (*storage.Actor, error) {
	var (
		a   *storage.Actor
		err error
	)
	switch {
	case strings.HasPrefix(ref, "http://") || strings.HasPrefix(ref, "https://"):
		a, err = s.Actor(ctx, ref)
	case !strings.Contains(strings.TrimPrefix(ref, "@"), "@"):
		a, err = s.DB.GetLocalActor(ctx, strings.TrimPrefix(ref, "@"))
	default:
		a, err = s.ResolveHandle(ctx, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("account %q: %w", ref, err)
	}
	if a.Type == storage.TypeGroup {
		return nil, fmt.Errorf("%w: %s is a community", ErrInvalid, ref)
	}
	return a, nil
}

// onBlock applies a moderator's Block of a member with a local community
// as its target: a ban. A Block of a person (one member blocking another
// on their server) is nothing to us.
func (s *Service) onBlock(ctx context.Context, act *vocab.Activity, raw []byte, mod *storage.Actor) error {
	community, err := s.DB.GetActorByURI(ctx, act.Target.ID())
	if errors.Is(err, storage.ErrNotFound) || err == nil && (!community.Local || community.Type != storage.TypeGroup) {
		return nil
	} else if err != nil {
		return err
	}
	if ok, err := s.mayModerate(ctx, mod, community); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %s does not moderate %s", ErrForbidden, mod.URI, community.URI)
	}
	who, err := s.Actor(ctx, act.Object.ID())
	if err != nil {
		return err
	}
	if ok, err := s.DB.IsModerator(ctx, community.ID, who.ID); err != nil {
		return err
	} else if ok || who.ID == community.ID {
		return fmt.Errorf("%w: %s moderates %s; remove them as moderator first", ErrInvalid, who.URI, community.URI)
	}
	r := reasonOf(ctx, act)
	var expires *time.Time
	if !act.EndTime.IsZero() {
		t := act.EndTime.UTC()
		expires = &t
	}
	var removed []storage.Object
	if act.RemoveData {
		if removed, err = s.DB.LiveObjectsOf(ctx, community.ID, who.ID, maxRemovedOnBan); err != nil {
			return err
		}
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.PutBan(ctx, &storage.CommunityBan{
			CommunityActorID: community.ID, ActorID: who.ID, URI: act.ID, Reason: r.Text, ExpiresAt: expires,
		}); err != nil {
			return err
		}
		// Announced while the member still is one, so their server hears.
		if err := s.announceToMembers(ctx, tx, community, raw); err != nil {
			return err
		}
		// Their posts' boosts are undone before the membership ends too:
		// the banned member's own server shows them as well.
		for i := range removed {
			o := &removed[i]
			if err := s.undoBoost(ctx, tx, o, mod); err != nil {
				return err
			}
			if err := s.removeFromCommunity(ctx, tx, o); err != nil {
				return err
			}
		}
		if err := ignoreNotFound(tx.DeleteMembership(ctx, community.ID, who.ID)); err != nil {
			return err
		}
		return s.logMod(ctx, tx, community, mod, storage.ModBan, who, "", r, expires)
	})
	if err == nil {
		s.notifyDeliveries()
		s.Log.Info("member banned", "community", community.URI, "member", who.URI, "by", mod.URI, "removed", len(removed))
	}
	return err
}

// maxRemovedOnBan bounds the posts one ban removes at once.
const maxRemovedOnBan = 1000

// onUnblock lifts a ban from a local community at a moderator's Undo.
func (s *Service) onUnblock(ctx context.Context, act *vocab.Activity, raw []byte, mod *storage.Actor, inner *vocab.Activity) error {
	community, err := s.DB.GetActorByURI(ctx, inner.Target.ID())
	if errors.Is(err, storage.ErrNotFound) || err == nil && (!community.Local || community.Type != storage.TypeGroup) {
		return nil
	} else if err != nil {
		return err
	}
	if ok, err := s.mayModerate(ctx, mod, community); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %s does not moderate %s", ErrForbidden, mod.URI, community.URI)
	}
	who, err := s.DB.GetActorByURI(ctx, inner.Object.ID())
	if err != nil {
		return ignoreNotFound(err)
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.DeleteBan(ctx, community.ID, who.ID); err != nil {
			return err
		}
		if err := s.announceToMembers(ctx, tx, community, raw); err != nil {
			return err
		}
		return s.logMod(ctx, tx, community, mod, storage.ModUnban, who, "", reasonOf(ctx, act), nil)
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return ignoreNotFound(err)
}

// applyBan records a remote community's ban of who (from its Announce, or
// our own moderator's Block sent to it) and, with removeData, removes
// their posts from our copy of the community.
func (s *Service) applyBan(ctx context.Context, act *vocab.Activity, group, who *storage.Actor) error {
	var expires *time.Time
	if !act.EndTime.IsZero() {
		t := act.EndTime.UTC()
		expires = &t
	}
	var removed []storage.Object
	if act.RemoveData {
		var err error
		if removed, err = s.DB.LiveObjectsOf(ctx, group.ID, who.ID, maxRemovedOnBan); err != nil {
			return err
		}
	}
	return s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.PutBan(ctx, &storage.CommunityBan{
			CommunityActorID: group.ID, ActorID: who.ID, URI: act.ID,
			Reason: truncate(act.Summary, MaxModReasonLen), ExpiresAt: expires,
		}); err != nil {
			return err
		}
		for i := range removed {
			if err := s.removeFromCommunity(ctx, tx, &removed[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// announcedRemoval applies a remote community's Announce of a moderator's
// Delete of a post in it (anyone's but the author's): the community's
// word is enough for what is in it. It reports whether it was one.
func (s *Service) announcedRemoval(ctx context.Context, del *vocab.Activity, group *storage.Actor) (bool, error) {
	o, err := s.DB.GetObjectByURI(ctx, del.Object.ID())
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if o.AuthorActor == nil || o.AuthorActor.URI == string(del.Actor) {
		return false, nil
	}
	if o.CommunityActorID == nil || *o.CommunityActorID != group.ID || o.DeletedAt != nil {
		return true, nil
	}
	s.Log.Info("post removed by its community", "object", o.URI, "community", group.URI, "by", del.Actor)
	return true, s.DB.Tx(ctx, func(tx *storage.DB) error { return s.removeFromCommunity(ctx, tx, o) })
}

// announcedModeration applies a remote community's Announce of a lock, a
// ban, a change of moderators, or the undoing of a lock or ban, for what
// is in that community only.
func (s *Service) announcedModeration(ctx context.Context, act *vocab.Activity, group *storage.Actor) error {
	switch act.Type {
	case vocab.TypeLock:
		return s.announcedLock(ctx, act.Object.ID(), group, true)
	case vocab.TypeBlock:
		if act.Target.ID() != group.URI {
			return nil
		}
		who, err := s.Actor(ctx, act.Object.ID())
		if err != nil {
			return err
		}
		return s.applyBan(ctx, act, group, who)
	case vocab.TypeAdd, vocab.TypeRemove:
		if isFeaturedOf(act, group) {
			return s.syncFeatured(ctx, group)
		}
		if !s.isModeratorsTarget(ctx, act) {
			return nil
		}
		return s.onModerators(ctx, act, group)
	case vocab.TypeAccept:
		if !isAnswerAccept(act) {
			return nil
		}
		return s.announcedAccept(ctx, act, group, false)
	case vocab.TypeUndo:
		if !act.Object.IsEmbedded() {
			return nil
		}
		inner, err := act.Object.Activity()
		if err != nil {
			return fmt.Errorf("%w: undone activity: %v", ErrInvalid, err)
		}
		switch inner.Type {
		case vocab.TypeLock:
			return s.announcedLock(ctx, inner.Object.ID(), group, false)
		case vocab.TypeAccept:
			if !isAnswerAccept(inner) {
				return nil
			}
			return s.announcedAccept(ctx, inner, group, true)
		case vocab.TypeBlock:
			if inner.Target.ID() != group.URI {
				return nil
			}
			who, err := s.DB.GetActorByURI(ctx, inner.Object.ID())
			if err != nil {
				return ignoreNotFound(err)
			}
			return ignoreNotFound(s.DB.DeleteBan(ctx, group.ID, who.ID))
		}
	}
	return nil
}

func (s *Service) announcedLock(ctx context.Context, objectURI string, group *storage.Actor, locked bool) error {
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if o.CommunityActorID == nil || *o.CommunityActorID != group.ID {
		return nil
	}
	return s.DB.LockObject(ctx, o.ID, locked)
}

// checkBanned refuses an actor banned from a community.
func (s *Service) checkBanned(ctx context.Context, community, actor *storage.Actor) error {
	banned, err := s.DB.IsBanned(ctx, community.ID, actor.ID)
	if err != nil {
		return err
	}
	if banned {
		return fmt.Errorf("%w: %s is banned from %s", ErrForbidden, actor.URI, community.URI)
	}
	return nil
}

// --- Moderators ---

// SetModerator makes a member of a local community one of its moderators
// (on false: a member again), as its owner (or the community itself,
// for the admin). Members' servers are told with an Add (Remove) to the
// moderators collection, announced by the community.
func (s *Service) SetModerator(ctx context.Context, by *storage.Actor, community, member string, on bool) error {
	g, err := s.resolveCommunity(ctx, community)
	if err != nil {
		return err
	}
	if !g.Local {
		return fmt.Errorf("%w: %s's moderators are appointed on its own server", ErrInvalid, g.Handle())
	}
	if by.ID != g.ID {
		m, err := s.DB.GetMembership(ctx, g.ID, by.ID)
		if err != nil || m.State != storage.StateAccepted || m.Role != storage.RoleOwner {
			return fmt.Errorf("%w: only an owner of %s appoints moderators", ErrForbidden, g.Handle())
		}
	}
	who, err := s.resolvePerson(ctx, member)
	if err != nil {
		return err
	}
	m, err := s.DB.GetMembership(ctx, g.ID, who.ID)
	if err != nil || m.State != storage.StateAccepted {
		return fmt.Errorf("%w: %s is not a member of %s", ErrInvalid, who.Handle(), g.Handle())
	}
	if m.Role == storage.RoleOwner {
		return fmt.Errorf("%w: %s owns %s", ErrInvalid, who.Handle(), g.Handle())
	}
	role, typ, action := storage.RoleModerator, vocab.TypeAdd, storage.ModAddModerator
	if !on {
		role, typ, action = storage.RoleMember, vocab.TypeRemove, storage.ModRemoveModerator
	}
	if m.Role == role {
		return nil
	}
	body, err := s.modActivity(typ, by, g, vocab.RefsTo(who.URI), func(a *vocab.Activity) { a.Target = vocab.NewRef(ModeratorsURI(g)) })
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.SetMemberRole(ctx, g.ID, who.ID, role); err != nil {
			return err
		}
		if _, err := s.send(ctx, tx, by, body, nil); err != nil {
			return err
		}
		if err := s.announceToMembers(ctx, tx, g, body); err != nil {
			return err
		}
		return s.logMod(ctx, tx, g, by, action, who, "", Reason{}, nil)
	})
	if err == nil {
		s.notifyDeliveries()
		s.Log.Info("moderator changed", "community", g.URI, "member", who.URI, "moderator", on)
	}
	return err
}

// onModerators handles an Add or Remove whose target is a moderators
// collection. A local community's moderators are appointed here, never
// from outside; a remote community's are honoured when the community
// itself sends or announces the change.
func (s *Service) onModerators(ctx context.Context, act *vocab.Activity, group *storage.Actor) error {
	target := act.Target.ID()
	if group.Local || group.Type != storage.TypeGroup {
		return fmt.Errorf("%w: %s may not change moderators at %s", ErrForbidden, group.URI, target)
	}
	if target != ModeratorsURI(group) && !(group.ModeratorsURI == "" && sameHost(target, group.URI)) {
		return fmt.Errorf("%w: %s is not %s's moderators collection", ErrForbidden, target, group.URI)
	}
	who, err := s.Actor(ctx, act.Object.ID())
	if err != nil {
		return err
	}
	if act.Type == vocab.TypeAdd {
		return s.DB.AddRemoteModerator(ctx, group.ID, who.ID)
	}
	return s.DB.RemoveRemoteModerator(ctx, group.ID, who.ID)
}

// isModeratorsTarget reports whether an Add or Remove is about moderators
// rather than featured posts: its target is not a featured collection and
// its object is an actor we know or a person's id.
func (s *Service) isModeratorsTarget(ctx context.Context, act *vocab.Activity) bool {
	target := act.Target.ID()
	if target == "" {
		return false
	}
	if strings.HasSuffix(target, "/moderators") {
		return true
	}
	g, err := s.DB.GetActorByURI(ctx, stripFragment(strings.TrimSuffix(target, "/moderators")))
	return err == nil && g.ModeratorsURI == target
}

// syncModerators reads a remote community's moderators collection (when a
// local member joins it), so that its moderators can act from here.
func (s *Service) syncModerators(ctx context.Context, group *storage.Actor) error {
	uri := ModeratorsURI(group)
	if uri == "" || group.Local || !sameHost(uri, group.URI) {
		return nil
	}
	body, _, err := s.fetch(ctx, uri)
	if err != nil {
		return err
	}
	coll, err := vocab.ParseCollection(body)
	if err != nil {
		return fmt.Errorf("%w: moderators of %s: %v", ErrInvalid, group.URI, err)
	}
	var ids []int64
	for i, ref := range coll.Members() {
		if i >= 50 {
			break
		}
		a, err := s.Actor(ctx, ref.ID())
		if err != nil {
			s.Log.Info("moderator not resolved", "community", group.URI, "moderator", ref.ID(), "err", err)
			continue
		}
		ids = append(ids, a.ID)
	}
	return s.DB.SetRemoteModerators(ctx, group.ID, ids)
}

// --- Posting restricted to moderators ---

// RestrictPosting says whether only the moderators of a local community
// may start threads in it (an announcement community); members still
// reply. Remote servers read it from the Group's postingRestrictedToMods.
func (s *Service) RestrictPosting(ctx context.Context, by *storage.Actor, community string, on bool) error {
	g, err := s.moderated(ctx, by, community)
	if err != nil {
		return err
	}
	if !g.Local {
		return fmt.Errorf("%w: %s is set on its own server", ErrInvalid, g.Handle())
	}
	action := storage.ModRestrictPosting
	if !on {
		action = storage.ModOpenPosting
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.SetPostingRestricted(ctx, g.ID, on); err != nil {
			return err
		}
		// Members' servers re-read the Group on its Update.
		to, cc := communityAudience(g)
		body, err := s.activityDoc(vocab.TypeUpdate, g, g.URI, to, cc)
		if err != nil {
			return err
		}
		servers, err := s.memberServers(ctx, tx, g)
		if err != nil {
			return err
		}
		if _, err := s.sendInOrder(ctx, tx, g, body, servers.activity, servers.unknown); err != nil {
			return err
		}
		return s.logMod(ctx, tx, g, by, action, nil, "", Reason{}, nil)
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// checkMayPost applies a community's rules to a post or reply entering
// it: no banned author, no new thread from a non-moderator where posting
// is restricted, no reply in a locked thread.
func (s *Service) checkMayPost(ctx context.Context, community, author *storage.Actor, parent *storage.Object) error {
	if err := s.checkBanned(ctx, community, author); err != nil {
		return err
	}
	if parent == nil && community.PostingRestrictedToMods {
		ok, err := s.mayModerate(ctx, author, community)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: only moderators start threads in %s", ErrForbidden, community.Handle())
		}
	}
	locked, err := s.threadLocked(ctx, parent)
	if err != nil {
		return err
	}
	if locked {
		return fmt.Errorf("%w: the thread is locked", ErrForbidden)
	}
	return nil
}
