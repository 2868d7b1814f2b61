package federation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// A member's own doings that are not posts: boosts, pins, blocks, mutes,
// profile and preferences, and what they keep for themselves (bookmarks,
// notes, filters, lists, followed and featured hashtags, the notification
// policy). Those that other servers must hear of (boosts, pins, blocks,
// profile edits) are sent as Mastodon sends them.

// MaxPins bounds a member's pinned posts, as Mastodon's 5.
const MaxPins = 5

// followerInboxes are the inboxes of a local actor's remote followers,
// one per server.
func (s *Service) followerInboxes(ctx context.Context, actor *storage.Actor) ([]string, error) {
	return s.DB.MemberInboxes(ctx, actor.ID)
}

// Reblog boosts a post to the member's own followers: an Announce of the
// post's id, as Mastodon sends it, also to the post's author. As
// Mastodon's StatusPolicy#reblog? allows: a public or unlisted post the
// member may read, or their own followers-only post (boosted to their
// followers only); ErrNotFound for a post they may not read, ErrForbidden
// for any other. A repeat returns the post unchanged.
func (s *Service) Reblog(ctx context.Context, actor *storage.Actor, objectURI string) (*storage.Object, error) {
	o, err := s.reblogable(ctx, actor, objectURI)
	if err != nil {
		return nil, err
	}
	if !actor.Local || actor.Type != storage.TypePerson {
		return nil, fmt.Errorf("%w: only local members boost here", ErrForbidden)
	}
	if _, err := s.DB.GetReblog(ctx, actor.ID, o.ID); err == nil {
		return o, nil
	}
	to, cc, inboxes, err := s.reblogAudience(ctx, actor, o)
	if err != nil {
		return nil, err
	}
	body, err := vocab.Marshal(&vocab.Activity{
		ID: s.URLs.NewActivity(), Type: vocab.TypeAnnounce, Actor: vocab.IRI(actor.URI),
		Object: vocab.RefsTo(o.URI), To: to, CC: cc, Published: vocab.At(time.Now()),
	})
	if err != nil {
		return nil, err
	}
	head, err := vocab.Peek(body)
	if err != nil {
		return nil, err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := s.putBoost(ctx, tx, &storage.Reblog{URI: head.ID, ActorID: actor.ID, ObjectID: o.ID, CreatedAt: time.Now().UTC()}); err != nil {
			return err
		}
		if _, err := s.send(ctx, tx, actor, body, inboxes); err != nil {
			return err
		}
		return s.reblogged(ctx, tx, o, actor)
	})
	if errors.Is(err, storage.ErrConflict) {
		return o, nil // boosted meanwhile
	}
	if err != nil {
		return nil, err
	}
	s.notifyDeliveries()
	return o, nil
}

// reblogable loads a live post actor may boost (see Reblog).
func (s *Service) reblogable(ctx context.Context, actor *storage.Actor, objectURI string) (*storage.Object, error) {
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if err != nil {
		return nil, err
	}
	if ok, err := s.DB.CanSee(ctx, actor, o); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("post %s: %w", objectURI, storage.ErrNotFound)
	}
	switch {
	case !limitedVisibility(o.Visibility):
		return o, nil
	case o.Visibility == storage.VisibilityPrivate && o.AuthorActorID == actor.ID:
		return o, nil
	}
	return nil, fmt.Errorf("%w: a %s post cannot be boosted", ErrForbidden, o.Visibility)
}

// reblogAudience is the addressing and the inboxes of actor's boost of o
// (and of its Undo): their followers and the post's author, to Public;
// for their own followers-only post, their followers only, as Mastodon
// addresses a boost with the post's visibility.
func (s *Service) reblogAudience(ctx context.Context, actor *storage.Actor, o *storage.Object) (to, cc, inboxes []string, err error) {
	if inboxes, err = s.followerInboxes(ctx, actor); err != nil {
		return nil, nil, nil, err
	}
	if o.Visibility == storage.VisibilityPrivate {
		return []string{actor.FollowersURI}, nil, inboxes, nil
	}
	to, cc = []string{vocab.Public}, []string{actor.FollowersURI}
	if o.AuthorActor != nil && o.AuthorActor.ID != actor.ID {
		cc = append(cc, o.AuthorActor.URI)
		inboxes = append(inboxes, o.AuthorActor.DeliveryInbox())
	}
	// A partner community's post is boosted to its partners only.
	if c := o.CommunityActor; c != nil && c.Local {
		if inboxes, err = s.partnerInboxes(ctx, s.DB, c, inboxes); err != nil {
			return nil, nil, nil, err
		}
	}
	return to, cc, inboxes, nil
}

// reblogged notifies a local author of a boost.
func (s *Service) reblogged(ctx context.Context, tx *storage.DB, o *storage.Object, by *storage.Actor) error {
	author := o.AuthorActor
	if author == nil || !author.Local || author.Type != storage.TypePerson || author.ID == by.ID {
		return nil
	}
	return s.notify(ctx, tx, &storage.Notification{
		RecipientActorID: author.ID, Type: storage.NotifyReblog, FromActorID: by.ID, ObjectID: o.ID,
	})
}

// onBoost records a remote person's boost (an Announce of a post's id from
// an actor that is not a Group), as Mastodon does when it concerns this
// server (ActivityPub::Activity::Announce): the boost of one of our posts,
// whose author is notified, or a boost by someone a member here follows,
// which their home timelines then show. A post not known here is fetched
// from its own server and kept only if public. As Mastodon's
// StatusPolicy#reblog?: a public or unlisted post, or the booster's own
// followers-only one; other boosts are ignored.
func (s *Service) onBoost(ctx context.Context, act *vocab.Activity, actor *storage.Actor) error {
	objectID := act.Object.ID()
	if act.ID == "" || objectID == "" || !sameHost(act.ID, actor.URI) {
		return nil
	}
	followed, err := s.DB.HasLocalMember(ctx, actor.ID)
	if err != nil {
		return err
	}
	o, err := s.DB.GetObjectByURI(ctx, objectID)
	switch {
	case errors.Is(err, storage.ErrNotFound) && followed && !s.URLs.IsLocal(objectID):
		// Never the embedded copy: the booster's signature does not
		// vouch for another server's post.
		if o, err = s.LookupPost(ctx, objectID); errors.Is(err, storage.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
	case errors.Is(err, storage.ErrNotFound):
		return nil
	case err != nil:
		return err
	}
	if o.DeletedAt != nil || !o.Local && !followed {
		return nil
	}
	if !(o.Visibility == storage.VisibilityPublic || o.Visibility == storage.VisibilityUnlisted ||
		o.Visibility == storage.VisibilityPrivate && o.AuthorActorID == actor.ID) {
		return nil
	}
	if c := o.CommunityActor; c != nil && c.Local {
		if err := s.checkPartner(ctx, c, actor); err != nil {
			return err
		}
		if err := s.checkBanned(ctx, c, actor); err != nil {
			return err
		}
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := s.putBoost(ctx, tx, &storage.Reblog{URI: act.ID, ActorID: actor.ID, ObjectID: o.ID, CreatedAt: time.Now().UTC()}); err != nil {
			return err
		}
		return s.reblogged(ctx, tx, o, actor)
	})
	return ignoreConflict(err) // a repeat, or a second boost of the post
}

// onUnboost withdraws a remote person's boost, by its Announce's id.
func (s *Service) onUnboost(ctx context.Context, announceID string, actor *storage.Actor) error {
	r, err := s.DB.GetReblogByURI(ctx, announceID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if r.ActorID != actor.ID {
		return fmt.Errorf("%w: %s may not undo another actor's boost", ErrForbidden, actor.URI)
	}
	return s.DB.Tx(ctx, func(tx *storage.DB) error { return s.dropBoost(ctx, tx, r) })
}

// Unreblog withdraws a member's boost: an Undo of the Announce as sent. No
// boost is no error, as on Mastodon.
func (s *Service) Unreblog(ctx context.Context, actor *storage.Actor, objectURI string) (*storage.Object, error) {
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if err != nil {
		return nil, err
	}
	r, err := s.DB.GetReblog(ctx, actor.ID, o.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return o, nil
	} else if err != nil {
		return nil, err
	}
	to, cc, inboxes, err := s.reblogAudience(ctx, actor, o)
	if err != nil {
		return nil, err
	}
	inner := &vocab.Activity{ID: r.URI, Type: vocab.TypeAnnounce, Actor: vocab.IRI(actor.URI), Object: vocab.RefsTo(o.URI)}
	body, err := s.activityDoc(vocab.TypeUndo, actor, inner, to, cc)
	if err != nil {
		return nil, err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := s.dropBoost(ctx, tx, r); err != nil {
			return err
		}
		_, err := s.send(ctx, tx, actor, body, inboxes)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notifyDeliveries()
	return o, nil
}

// Bookmark saves a post for the member (or, with on false, forgets it).
func (s *Service) Bookmark(ctx context.Context, actor *storage.Actor, objectURI string, on bool) (*storage.Object, error) {
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if err != nil {
		return nil, err
	}
	if !on {
		return o, s.DB.DeleteMark(ctx, storage.BookmarksTable, actor.ID, o.ID)
	}
	// Only a post the member may read (ErrNotFound, as for an unknown one).
	if ok, err := s.DB.CanSee(ctx, actor, o); err != nil {
		return nil, err
	} else if !ok {
		return nil, fmt.Errorf("post %s: %w", objectURI, storage.ErrNotFound)
	}
	return o, s.DB.PutMark(ctx, storage.BookmarksTable, actor.ID, o.ID)
}

// Pin shows one of the member's own posts first on their profile (their
// featured collection), at most MaxPins; on false unpins it. Followers'
// servers are sent an Add (or Remove) to the featured collection, as
// Mastodon sends them.
func (s *Service) Pin(ctx context.Context, actor *storage.Actor, objectURI string, on bool) (*storage.Object, error) {
	o, err := s.DB.GetObjectByURI(ctx, objectURI)
	if err != nil {
		return nil, err
	}
	pinned, err := s.DB.MarksOf(ctx, "pins", actor.ID, []int64{o.ID})
	if err != nil {
		return nil, err
	}
	if !on {
		if !pinned[o.ID] {
			return o, nil
		}
		return o, s.tellFeatured(ctx, actor, o, vocab.TypeRemove, func(tx *storage.DB) error {
			return tx.DeleteMark(ctx, storage.PinsTable, actor.ID, o.ID)
		})
	}
	switch {
	case o.DeletedAt != nil:
		return nil, fmt.Errorf("post %s: %w", objectURI, storage.ErrNotFound)
	case o.AuthorActorID != actor.ID:
		return nil, fmt.Errorf("%w: only your own posts can be pinned", ErrInvalid)
	}
	if pinned[o.ID] {
		return o, nil
	}
	n, err := s.DB.CountMarks(ctx, storage.PinsTable, actor.ID)
	if err != nil {
		return nil, err
	}
	if n >= MaxPins {
		return nil, fmt.Errorf("%w: you can pin at most %d posts", ErrInvalid, MaxPins)
	}
	return o, s.tellFeatured(ctx, actor, o, vocab.TypeAdd, func(tx *storage.DB) error {
		return tx.PutMark(ctx, storage.PinsTable, actor.ID, o.ID)
	})
}

// tellFeatured applies a change to the member's pins and, in the same
// transaction, queues its Add or Remove for their followers' servers.
func (s *Service) tellFeatured(ctx context.Context, actor *storage.Actor, o *storage.Object, typ string, apply func(*storage.DB) error) error {
	err := s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := apply(tx); err != nil {
			return err
		}
		inboxes, err := tx.MemberInboxes(ctx, actor.ID)
		if err != nil || len(inboxes) == 0 || actor.FeaturedURI == "" {
			return err
		}
		body, err := vocab.Marshal(&vocab.Activity{
			ID: s.URLs.NewActivity(), Type: typ, Actor: vocab.IRI(actor.URI), Object: vocab.RefsTo(o.URI),
			Target: vocab.NewRef(actor.FeaturedURI), To: vocab.IRIs{vocab.Public}, CC: vocab.IRIs{actor.FollowersURI},
		})
		if err != nil {
			return err
		}
		_, err = s.send(ctx, tx, actor, body, inboxes)
		return err
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// Mute hides an account's posts from the member, and its notifications
// unless notifications is false, for duration (0: until unmuted).
// Nobody else hears of it.
func (s *Service) Mute(ctx context.Context, actor, target *storage.Actor, notifications bool, duration time.Duration) error {
	if target.ID == actor.ID {
		return fmt.Errorf("%w: you cannot mute yourself", ErrInvalid)
	}
	m := &storage.AccountMute{ActorID: actor.ID, TargetActorID: target.ID, Notifications: notifications, CreatedAt: time.Now().UTC()}
	if duration > 0 {
		t := time.Now().Add(duration).UTC()
		m.ExpiresAt = &t
	}
	return s.DB.PutMute(ctx, m)
}

// Unmute ends a mute; none is no error.
func (s *Service) Unmute(ctx context.Context, actor, target *storage.Actor) error {
	return s.DB.DeleteOwn(ctx, &storage.AccountMute{}, actor.ID, "target_actor_id = ?", target.ID)
}

// Block blocks an account as Mastodon does: follows end both ways, its
// posts and notifications are hidden, and a remote account's server is
// sent a Block (so that it, too, ends the follows).
func (s *Service) Block(ctx context.Context, actor, target *storage.Actor) error {
	if target.ID == actor.ID {
		return fmt.Errorf("%w: you cannot block yourself", ErrInvalid)
	}
	if _, err := s.DB.GetBlock(ctx, actor.ID, target.ID); err == nil {
		return nil
	}
	if err := s.unfollow(ctx, actor, target); err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("block: end own follow: %w", err)
	}
	body, err := s.activityDoc(vocab.TypeBlock, actor, target.URI, []string{target.URI}, nil)
	if err != nil {
		return err
	}
	head, err := vocab.Peek(body)
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.DeleteMembership(ctx, actor.ID, target.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if _, err := tx.PutBlock(ctx, &storage.AccountBlock{URI: head.ID, ActorID: actor.ID, TargetActorID: target.ID, CreatedAt: time.Now().UTC()}); err != nil {
			return err
		}
		if target.Local {
			return nil
		}
		_, err := s.send(ctx, tx, actor, body, []string{target.InboxURI})
		return err
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// Unblock ends a block, sending Undo{Block} to a remote account.
func (s *Service) Unblock(ctx context.Context, actor, target *storage.Actor) error {
	b, err := s.DB.GetBlock(ctx, actor.ID, target.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	inner := &vocab.Activity{ID: b.URI, Type: vocab.TypeBlock, Actor: vocab.IRI(actor.URI), Object: vocab.RefsTo(target.URI)}
	body, err := s.activityDoc(vocab.TypeUndo, actor, inner, []string{target.URI}, nil)
	if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.DeleteOwn(ctx, &storage.AccountBlock{}, actor.ID, "target_actor_id = ?", target.ID); err != nil {
			return err
		}
		if target.Local {
			return nil
		}
		_, err := s.send(ctx, tx, actor, body, []string{target.InboxURI})
		return err
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// BlockDomain hides a whole domain from the member and removes their
// followers there, as Mastodon's user domain blocks do.
func (s *Service) BlockDomain(ctx context.Context, actor *storage.Actor, domain string) error {
	domain = strings.ToLower(strings.TrimSpace(domain))
	if domain == "" || len(domain) > 253 || strings.ContainsAny(domain, " /@") {
		return fmt.Errorf("%w: %q is not a domain", ErrInvalid, domain)
	}
	if domain == strings.ToLower(s.URLs.Host()) {
		return fmt.Errorf("%w: you cannot block your own server", ErrInvalid)
	}
	return s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.PutDomainBlock(ctx, actor.ID, domain); err != nil {
			return err
		}
		return tx.RemoveFollowersOnDomain(ctx, actor.ID, domain)
	})
}

// UnblockDomain ends a member's domain block.
func (s *Service) UnblockDomain(ctx context.Context, actor *storage.Actor, domain string) error {
	return s.DB.DeleteOwn(ctx, &storage.MemberDomainBlock{}, actor.ID, "domain = ?", strings.ToLower(strings.TrimSpace(domain)))
}

// SetNote sets a member's private note on an account ("" clears it).
func (s *Service) SetNote(ctx context.Context, actor, target *storage.Actor, note string) error {
	if utf8.RuneCountInString(note) > 2000 {
		return fmt.Errorf("%w: a note is at most 2000 characters", ErrInvalid)
	}
	return s.DB.PutNote(ctx, &storage.AccountNote{ActorID: actor.ID, TargetActorID: target.ID, Note: strings.TrimSpace(note)})
}

// ProfileUpdate is what a member may change of their profile; nil
// fields stay as they are. Avatar and header are the media's (see
// federation/media.go once it lands).
type ProfileUpdate struct {
	DisplayName     *string
	Note            *string
	Fields          *[]storage.ProfileField
	Locked          *bool
	Discoverable    *bool
	HideCollections *bool
}

// Limits of a profile: names and bios as long as a community's title
// and summary (longer than Mastodon's 30 and 500: members of communities
// of practice introduce themselves at length); fields as Mastodon's.
const (
	MaxDisplayName = MaxTitleLen
	MaxNote        = MaxSummaryLen
	MaxFields      = 4
	MaxFieldLen    = 255
)

// UpdateProfile changes a member's profile, from the settings page or an
// app, and sends the new Person to their followers' servers in an
// Update, as Mastodon does.
func (s *Service) UpdateProfile(ctx context.Context, actor *storage.Actor, u ProfileUpdate) (*storage.Actor, error) {
	if !actor.Local || actor.Type != storage.TypePerson {
		return nil, fmt.Errorf("%w: only local members edit a profile here", ErrForbidden)
	}
	a := *actor
	if u.DisplayName != nil {
		if utf8.RuneCountInString(*u.DisplayName) > MaxDisplayName {
			return nil, fmt.Errorf("%w: a display name is at most %d characters", ErrInvalid, MaxDisplayName)
		}
		a.DisplayName = strings.TrimSpace(*u.DisplayName)
	}
	if u.Note != nil {
		if utf8.RuneCountInString(*u.Note) > MaxNote {
			return nil, fmt.Errorf("%w: a note is at most %d characters", ErrInvalid, MaxNote)
		}
		a.Summary = strings.TrimSpace(strings.ReplaceAll(*u.Note, "\r\n", "\n"))
	}
	if u.Fields != nil {
		var fields []storage.ProfileField
		for _, f := range *u.Fields {
			name, value := strings.TrimSpace(f.Name), strings.TrimSpace(f.Value)
			if name == "" && value == "" {
				continue
			}
			if utf8.RuneCountInString(name) > MaxFieldLen || utf8.RuneCountInString(value) > MaxFieldLen {
				return nil, fmt.Errorf("%w: a profile field is at most %d characters", ErrInvalid, MaxFieldLen)
			}
			fields = append(fields, storage.ProfileField{Name: name, Value: value})
		}
		if len(fields) > MaxFields {
			return nil, fmt.Errorf("%w: at most %d profile fields", ErrInvalid, MaxFields)
		}
		b, err := json.Marshal(fields)
		if err != nil {
			return nil, err
		}
		a.Fields = string(b)
	}
	if u.Locked != nil {
		a.ManuallyApprovesFollowers = *u.Locked
	}
	if u.Discoverable != nil {
		a.Discoverable = u.Discoverable
	}
	if u.HideCollections != nil {
		a.HideCollections = *u.HideCollections
	}
	err := s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.UpdateProfile(ctx, &a); err != nil {
			return err
		}
		if s.ActorDocument == nil {
			return nil
		}
		doc, err := s.ActorDocument(&a)
		if err != nil {
			return err
		}
		inboxes, err := tx.MemberInboxes(ctx, a.ID)
		if err != nil || len(inboxes) == 0 {
			return err
		}
		body, err := s.activityDoc(vocab.TypeUpdate, &a, json.RawMessage(doc), []string{vocab.Public}, []string{a.FollowersURI})
		if err != nil {
			return err
		}
		_, err = s.send(ctx, tx, &a, body, inboxes)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.notifyDeliveries()
	return s.DB.GetActorByID(ctx, a.ID)
}

// Preferences are a member's posting defaults.
type Preferences struct {
	Privacy   *string
	Sensitive *bool
	Language  *string
}

// UpdatePreferences saves a member's posting defaults.
func (s *Service) UpdatePreferences(ctx context.Context, acct *storage.Account, p Preferences) error {
	if p.Privacy != nil {
		if !slices.Contains(postVisibilities, *p.Privacy) {
			return fmt.Errorf("%w: posting privacy %q is not public, unlisted, private or direct", ErrInvalid, *p.Privacy)
		}
		acct.DefaultPrivacy = *p.Privacy
	}
	if p.Sensitive != nil {
		acct.DefaultSensitive = *p.Sensitive
	}
	if p.Language != nil {
		if len(*p.Language) > 16 {
			return fmt.Errorf("%w: language %q", ErrInvalid, *p.Language)
		}
		acct.DefaultLanguage = *p.Language
	}
	return s.DB.UpdatePreferences(ctx, acct)
}

// SaveFilter creates (ID 0) or updates a member's filter: its own fields,
// keywords to add, keywords to change and keyword ids to remove.
func (s *Service) SaveFilter(ctx context.Context, f *storage.Filter, add, change []storage.FilterKeyword, remove []int64) error {
	err := s.DB.SaveFilter(ctx, f, add, change, remove)
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("%w: at most %d filters of %d keywords each", ErrInvalid, storage.MaxFilters, storage.MaxFilterKeywords)
	}
	return err
}

// DeleteFilter removes one of a member's filters.
func (s *Service) DeleteFilter(ctx context.Context, actor *storage.Actor, id int64) error {
	return s.DB.DeleteFilter(ctx, actor.ID, id)
}

// AddFilterStatus puts a post in one of a member's filters.
func (s *Service) AddFilterStatus(ctx context.Context, actor *storage.Actor, filterID, objectID int64) (*storage.FilterStatus, error) {
	if _, err := s.DB.GetFilter(ctx, actor.ID, filterID); err != nil {
		return nil, err
	}
	fs := &storage.FilterStatus{FilterID: filterID, ObjectID: objectID}
	if err := s.DB.AddFilterStatus(ctx, fs); errors.Is(err, storage.ErrConflict) {
		return nil, fmt.Errorf("%w: the post is in the filter already, or the filter is full", ErrInvalid)
	} else if err != nil {
		return nil, err
	}
	return fs, nil
}

// RemoveFilterStatus takes a post out of a member's filter (by the
// filter status id, which the caller found among the member's own).
func (s *Service) RemoveFilterStatus(ctx context.Context, actor *storage.Actor, filterStatusID int64) error {
	if _, _, err := s.DB.FilterOfStatus(ctx, actor.ID, filterStatusID); err != nil {
		return err
	}
	return s.DB.DeleteFilterPart(ctx, &storage.FilterStatus{}, filterStatusID)
}

// RemoveFollower ends another account's follow of the member: a remote
// follower's server is sent a Reject of the Follow, as Mastodon does.
func (s *Service) RemoveFollower(ctx context.Context, actor, follower *storage.Actor) error {
	m, err := s.DB.GetMembership(ctx, actor.ID, follower.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	err = s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := tx.DeleteMembership(ctx, actor.ID, follower.ID); err != nil {
			return err
		}
		if follower.Local || m.FollowURI == "" {
			return nil
		}
		follow := &vocab.Activity{ID: m.FollowURI, Type: vocab.TypeFollow, Actor: vocab.IRI(follower.URI), Object: vocab.RefsTo(actor.URI)}
		body, err := s.activityDoc(vocab.TypeReject, actor, follow, []string{follower.URI}, nil)
		if err != nil {
			return err
		}
		_, err = s.send(ctx, tx, actor, body, []string{follower.InboxURI})
		return err
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// SaveList creates (ID 0) or renames a member's list.
func (s *Service) SaveList(ctx context.Context, l *storage.List) error {
	switch {
	case l.Title == "" || utf8.RuneCountInString(l.Title) > 256:
		return fmt.Errorf("%w: a list needs a title of at most 256 characters", ErrInvalid)
	case l.RepliesPolicy != "followed" && l.RepliesPolicy != "list" && l.RepliesPolicy != "none":
		return fmt.Errorf("%w: replies_policy is followed, list or none", ErrInvalid)
	}
	err := s.DB.SaveList(ctx, l)
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("%w: at most %d lists", ErrInvalid, storage.MaxLists)
	}
	return err
}

// DeleteList removes a member's list.
func (s *Service) DeleteList(ctx context.Context, actor *storage.Actor, id int64) error {
	return s.DB.DeleteList(ctx, actor.ID, id)
}

// AddToList puts accounts the member follows on one of their lists, as
// Mastodon requires.
func (s *Service) AddToList(ctx context.Context, actor *storage.Actor, listID int64, actorIDs []int64) error {
	if _, err := s.DB.GetList(ctx, actor.ID, listID); err != nil {
		return err
	}
	followed, err := s.DB.MembershipsOf(ctx, actor.ID, actorIDs)
	if err != nil {
		return err
	}
	for _, id := range actorIDs {
		if m, ok := followed[id]; !ok || m.State != storage.StateAccepted {
			return fmt.Errorf("%w: you can only add accounts you follow to a list", ErrInvalid)
		}
	}
	err = s.DB.AddListMembers(ctx, listID, actorIDs)
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("%w: at most %d accounts on a list", ErrInvalid, storage.MaxListMembers)
	}
	return err
}

// RemoveFromList takes accounts off a member's list.
func (s *Service) RemoveFromList(ctx context.Context, actor *storage.Actor, listID int64, actorIDs []int64) error {
	if _, err := s.DB.GetList(ctx, actor.ID, listID); err != nil {
		return err
	}
	return s.DB.RemoveListMembers(ctx, listID, actorIDs)
}

// FollowTag adds a hashtag to those the member follows (its posts reach
// their home timeline); on false removes it.
func (s *Service) FollowTag(ctx context.Context, actor *storage.Actor, tag string, on bool) error {
	tag, err := validTag(tag)
	if err != nil {
		return err
	}
	if !on {
		return s.DB.DeleteTag(ctx, storage.FollowedTags, actor.ID, "tag = ?", tag)
	}
	_, err = s.DB.PutTag(ctx, storage.FollowedTags, actor.ID, tag)
	if errors.Is(err, storage.ErrConflict) {
		return fmt.Errorf("%w: at most %d followed hashtags", ErrInvalid, storage.MaxFollowedTags)
	}
	return err
}

// FeatureTag shows a hashtag on the member's profile.
func (s *Service) FeatureTag(ctx context.Context, actor *storage.Actor, tag string) (*storage.TagRow, error) {
	tag, err := validTag(tag)
	if err != nil {
		return nil, err
	}
	rows, err := s.DB.ListTags(ctx, storage.FeaturedTags, actor.ID, storage.Page{Limit: storage.MaxFeaturedTags})
	if err != nil {
		return nil, err
	}
	for i := range rows {
		if rows[i].Tag == tag {
			return &rows[i], nil
		}
	}
	var row *storage.TagRow
	err = s.tellFeaturedTag(ctx, actor, tag, vocab.TypeAdd, func(tx *storage.DB) error {
		row, err = tx.PutTag(ctx, storage.FeaturedTags, actor.ID, tag)
		return err
	})
	if errors.Is(err, storage.ErrConflict) {
		return nil, fmt.Errorf("%w: at most %d featured hashtags", ErrInvalid, storage.MaxFeaturedTags)
	}
	return row, err
}

// UnfeatureTag removes one of the member's featured hashtags by id.
func (s *Service) UnfeatureTag(ctx context.Context, actor *storage.Actor, id int64) error {
	rows, err := s.DB.ListTags(ctx, storage.FeaturedTags, actor.ID, storage.Page{Limit: storage.MaxFeaturedTags})
	if err != nil {
		return err
	}
	for _, r := range rows {
		if r.ID == id {
			return s.tellFeaturedTag(ctx, actor, r.Tag, vocab.TypeRemove, func(tx *storage.DB) error {
				return tx.DeleteTag(ctx, storage.FeaturedTags, actor.ID, "id = ?", id)
			})
		}
	}
	return fmt.Errorf("featured tag %d: %w", id, storage.ErrNotFound)
}

// FeaturedTagsURI is a local actor's featuredTags collection (toot:), the
// Hashtags Mastodon shows on its profile: a member's featured hashtags, a
// community's tags.
func FeaturedTagsURI(a *storage.Actor) string { return a.URI + "/tags" }

// tellFeaturedTag applies a change of the member's featured hashtags and
// sends the Add (or Remove) of the Hashtag to their featuredTags
// collection to their followers' servers, in the same transaction, as
// Mastodon sends it (AddHashtagSerializer) and applies it.
func (s *Service) tellFeaturedTag(ctx context.Context, actor *storage.Actor, tag, typ string, apply func(*storage.DB) error) error {
	err := s.DB.Tx(ctx, func(tx *storage.DB) error {
		if err := apply(tx); err != nil {
			return err
		}
		inboxes, err := tx.MemberInboxes(ctx, actor.ID)
		if err != nil || len(inboxes) == 0 {
			return err
		}
		hashtag, err := vocab.Embed(&vocab.Tag{Type: vocab.TypeHashtag, Href: s.URLs.TagURL(tag), Name: "#" + tag})
		if err != nil {
			return err
		}
		body, err := vocab.Marshal(&vocab.Activity{
			ID: s.URLs.NewActivity(), Type: typ, Actor: vocab.IRI(actor.URI), Object: vocab.Refs{hashtag},
			Target: vocab.NewRef(FeaturedTagsURI(actor)), To: vocab.IRIs{vocab.Public}, CC: vocab.IRIs{actor.FollowersURI},
		})
		if err != nil {
			return err
		}
		_, err = s.send(ctx, tx, actor, body, inboxes)
		return err
	})
	if err == nil {
		s.notifyDeliveries()
	}
	return err
}

// validTag checks a hashtag's name as Mastodon does (letters, digits,
// underscores, not all digits) and lower-cases it.
func validTag(tag string) (string, error) {
	tag = strings.TrimPrefix(strings.TrimSpace(tag), "#")
	if got := TextHashtags("#" + tag); len(got) != 1 || got[0] != strings.ToLower(tag) || len(tag) > 100 {
		return "", fmt.Errorf("%w: %q is not a hashtag", ErrInvalid, tag)
	}
	return strings.ToLower(tag), nil
}

// SetNotificationPolicy saves a member's notification policy.
func (s *Service) SetNotificationPolicy(ctx context.Context, p *storage.NotificationPolicy) error {
	for _, v := range []string{p.ForNotFollowing, p.ForNotFollowers, p.ForNewAccounts, p.ForPrivateMentions, p.ForLimitedAccounts} {
		if v != "accept" && v != "filter" && v != "drop" {
			return fmt.Errorf("%w: a policy is accept, filter or drop, not %q", ErrInvalid, v)
		}
	}
	return s.DB.PutNotificationPolicy(ctx, p)
}

// DecideSenders accepts (their notifications come through from now on,
// past ones included) or dismisses (no longer listed as requests) senders
// whose notifications the member's policy filtered.
func (s *Service) DecideSenders(ctx context.Context, actor *storage.Actor, fromIDs []int64, accept bool) error {
	if len(fromIDs) > 100 {
		return fmt.Errorf("%w: at most 100 requests at once", ErrInvalid)
	}
	decision := storage.SenderDismissed
	if accept {
		decision = storage.SenderAccepted
	}
	return s.DB.PutSenderDecisions(ctx, actor.ID, fromIDs, decision)
}

// MuteConversation stops (or, with on false, restores) notifications
// about a thread, for a member who took part in it.
func (s *Service) MuteConversation(ctx context.Context, actor *storage.Actor, o *storage.Object, on bool) error {
	thread := o.ContextURI
	if thread == "" {
		thread = o.URI
	}
	return s.DB.MuteConversation(ctx, actor.ID, thread, on)
}

// DismissSuggestion keeps an account out of the member's suggestions.
func (s *Service) DismissSuggestion(ctx context.Context, actor, target *storage.Actor) error {
	return s.DB.DismissSuggestion(ctx, actor.ID, target.ID)
}
