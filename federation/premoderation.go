package federation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Pre-moderation and posting limits of a local community (issue 14). A
// community may hold the posts and replies of newcomers (members with no
// post in it yet, or anyone from a server none of whose members has one)
// until a moderator approves them: a held post is not stored as a post,
// so no read path shows it and nothing is redistributed; approval applies
// the Create as it was received. Its moderators are never held, and never
// limited. Hourly limits per member and per server refuse what goes
// beyond them; held posts count.

// ErrHeld: the post waits for a moderator of its community. Only a local
// author is told so (their post is not refused); a remote author's server
// just sees its Create accepted.
var ErrHeld = errors.New("held for a moderator")

// MaxPostsPerHour bounds the hourly limits a community may set.
const MaxPostsPerHour = 10000

// SetPostingRules sets a local community's pre-moderation and hourly
// limits (0: no limit), as one of its moderators; the modlog records it.
func (s *Service) SetPostingRules(ctx context.Context, by *storage.Actor, community string, r storage.PostingRules) error {
	g, err := s.moderated(ctx, by, community)
	if err != nil {
		return err
	}
	if !g.Local {
		return fmt.Errorf("%w: %s is set on its own server", ErrInvalid, g.Handle())
	}
	if r.MemberPostsPerHour < 0 || r.MemberPostsPerHour > MaxPostsPerHour || r.InstancePostsPerHour < 0 || r.InstancePostsPerHour > MaxPostsPerHour {
		return fmt.Errorf("%w: hourly limits are 0 (none) to %d", ErrInvalid, MaxPostsPerHour)
	}
	what := fmt.Sprintf("hold new members: %v; hold new servers: %v; posts an hour per member: %d, per server: %d",
		r.HoldNewMembers, r.HoldNewInstances, r.MemberPostsPerHour, r.InstancePostsPerHour)
	return s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.SetPostingRules(ctx, g.ID, r); err != nil {
			return err
		}
		return s.logMod(ctx, tx, g, by, storage.ModPostingRules, nil, "", Reason{Text: what}, nil)
	})
}

// HeldPosts lists the posts waiting in a local community's queue, oldest
// first after the id afterID, for one of its moderators.
func (s *Service) HeldPosts(ctx context.Context, by *storage.Actor, community string, afterID int64, limit int) ([]storage.HeldPost, error) {
	g, err := s.moderated(ctx, by, community)
	if err != nil {
		return nil, err
	}
	return s.DB.HeldPosts(ctx, g.ID, storage.HeldWaiting, afterID, min(max(limit, 1), 100))
}

// DecideHeldPost approves a held post, which then enters its community
// and is redistributed as if it had just arrived, or rejects it; as a
// moderator of its community, once. Both are in the modlog.
func (s *Service) DecideHeldPost(ctx context.Context, by *storage.Actor, id int64, approve bool, r Reason) error {
	h, err := s.DB.GetHeldPost(ctx, id)
	if err != nil {
		return err
	}
	group, err := s.DB.GetActorByID(ctx, h.CommunityActorID)
	if err != nil {
		return err
	}
	if ok, err := s.mayModerate(ctx, by, group); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%w: %s does not moderate %s", ErrForbidden, by.Handle(), group.Handle())
	}
	if h.State != storage.HeldWaiting {
		return fmt.Errorf("%w: the post was already %s", ErrInvalid, h.State)
	}
	author := h.AuthorActor
	var (
		obj    *vocab.Object
		parent *storage.Object
	)
	if approve {
		if obj, err = vocab.ParseObject([]byte(h.ObjectRaw)); err != nil {
			return fmt.Errorf("held post %s: %w", h.ObjectURI, err)
		}
		if h.InReplyToURI != "" {
			if parent, err = s.DB.GetObjectByURI(ctx, h.InReplyToURI); errors.Is(err, storage.ErrNotFound) {
				parent = nil
			} else if err != nil {
				return err
			}
		}
		// A ban or a lock since it was held still applies.
		if err := s.checkMayPost(ctx, group, author, parent); err != nil {
			return err
		}
	}
	action := storage.ModRejectPost
	if approve {
		action = storage.ModApprovePost
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.DecideHeldPost(ctx, h.ID, by.ID, approve); err != nil {
			return err
		}
		if err := s.logMod(ctx, tx, group, by, action, author, h.ObjectURI, r, nil); err != nil {
			return err
		}
		if !approve {
			return nil
		}
		o, err := s.storeObject(ctx, tx, obj, []byte(h.ObjectRaw), author, group, parent)
		if err != nil {
			return err
		}
		if author.Local {
			// As act records a local member's Create once the
			// community took it.
			if _, err := s.send(ctx, tx, author, []byte(h.Raw), nil); err != nil {
				return err
			}
		}
		return s.redistribute(ctx, tx, o, []byte(h.Raw))
	})
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: another moderator decided first", ErrInvalid)
	}
	if err == nil {
		s.notifyDeliveries()
		s.Log.Info("held post decided", "community", group.URI, "object", h.ObjectURI, "approved", approve, "by", by.URI)
	}
	return err
}

// admit applies a local community's posting limits and pre-moderation to
// a post about to enter it. held is true when the post went to the queue
// instead; for a local author the error then says so (ErrHeld).
func (s *Service) admit(ctx context.Context, c *storage.Community, community, author *storage.Actor, obj *vocab.Object, objRaw, raw []byte) (held bool, err error) {
	if c.MemberPostsPerHour == 0 && c.InstancePostsPerHour == 0 && !c.HoldNewMembers && !c.HoldNewInstances {
		return false, nil
	}
	if mod, err := s.mayModerate(ctx, author, community); err != nil || mod {
		return false, err
	}
	if err := s.checkPostRate(ctx, c, community, author); err != nil {
		return false, err
	}
	reason, err := s.holdReason(ctx, c, community, author)
	if err != nil || reason == "" {
		return false, err
	}
	h := &storage.HeldPost{
		CommunityActorID: community.ID, AuthorActorID: author.ID, ObjectURI: obj.ID,
		InReplyToURI: string(obj.InReplyTo),
		Name:         sanitize.PlainText(obj.Name, 300),
		Content:      sanitize.HTML(obj.ContentIn()),
		Raw:          string(raw), ObjectRaw: string(objRaw), Reason: reason,
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.HoldPost(ctx, h); err != nil {
			return err
		}
		return s.heldNotify(ctx, tx, community)
	})
	if err != nil && !errors.Is(err, storage.ErrConflict) {
		return false, err
	}
	s.Log.Info("post held", "community", community.URI, "object", obj.ID, "author", author.URI, "reason", reason)
	if author.Local {
		return true, fmt.Errorf("%w: your post waits for a moderator of %s", ErrHeld, community.Handle())
	}
	return true, nil
}

// holdReason says why a post by author would be held, or "".
func (s *Service) holdReason(ctx context.Context, c *storage.Community, community, author *storage.Actor) (string, error) {
	if c.HoldNewInstances && !author.Local {
		known, err := s.DB.HostHasPostedIn(ctx, community.ID, hostOf(author.URI))
		if err != nil {
			return "", err
		}
		if !known {
			return storage.HoldNewInstance, nil
		}
	}
	if c.HoldNewMembers {
		known, err := s.DB.HasPostedIn(ctx, community.ID, author.ID)
		if err != nil {
			return "", err
		}
		if !known {
			return storage.HoldNewMember, nil
		}
	}
	return "", nil
}

// checkPostRate refuses a post beyond the community's hourly limit for
// its author or the author's server: ErrTooManyAttempts, so that a remote
// server's Create is retried later rather than lost.
func (s *Service) checkPostRate(ctx context.Context, c *storage.Community, community, author *storage.Actor) error {
	since := time.Now().Add(-time.Hour)
	if c.MemberPostsPerHour > 0 {
		n, err := s.DB.RecentPosts(ctx, community.ID, author.ID, "", since)
		if err != nil {
			return err
		}
		if n >= int64(c.MemberPostsPerHour) {
			return fmt.Errorf("%w: %s takes at most %d posts an hour from one member", ErrTooManyAttempts, community.Handle(), c.MemberPostsPerHour)
		}
	}
	if c.InstancePostsPerHour > 0 && !author.Local {
		n, err := s.DB.RecentPosts(ctx, community.ID, 0, hostOf(author.URI), since)
		if err != nil {
			return err
		}
		if n >= int64(c.InstancePostsPerHour) {
			return fmt.Errorf("%w: %s takes at most %d posts an hour from one server", ErrTooManyAttempts, community.Handle(), c.InstancePostsPerHour)
		}
	}
	return nil
}

// heldNotify tells a local community's local moderators that a post
// waits in its queue.
func (s *Service) heldNotify(ctx context.Context, tx *storage.DB, community *storage.Actor) error {
	mods, err := tx.Moderators(ctx, community.ID)
	if err != nil {
		return err
	}
	for i, m := range mods {
		if i >= maxReportNotified {
			break
		}
		if !m.Local || m.Type != storage.TypePerson {
			continue
		}
		if err := s.notify(ctx, tx, &storage.Notification{RecipientActorID: m.ID, Type: storage.NotifyHeldPost, FromActorID: community.ID}); err != nil {
			return err
		}
	}
	return nil
}
