package federation

import (
	"context"
	"time"

	"github.com/commonplace/commonplace/federation/events"
	"github.com/commonplace/commonplace/storage"
)

// Writes that live clients hear about. Each records its change and
// publishes the event on the same transaction, so the event is told
// exactly when the change commits. Every path that creates, edits or
// deletes a post, or notifies a member, goes through these.

// created tells the timelines of a post stored on tx with its tags and
// notifications.
func (s *Service) created(ctx context.Context, tx *storage.DB, o *storage.Object) error {
	return s.Events.Publish(ctx, tx, events.Event{Kind: events.StatusCreated, Object: o.ID})
}

// updateObject applies an edit of a post and tells the timelines.
func (s *Service) updateObject(ctx context.Context, tx *storage.DB, id int64, u storage.ObjectUpdate) error {
	if err := tx.UpdateObject(ctx, id, u); err != nil {
		return err
	}
	if err := indexObject(ctx, tx, id, u.Name, u.Summary, u.Content); err != nil {
		return err
	}
	return s.Events.Publish(ctx, tx, events.Event{Kind: events.StatusUpdated, Object: id})
}

// tombstone deletes a post and tells the timelines.
func (s *Service) tombstone(ctx context.Context, tx *storage.DB, id int64) error {
	if err := s.entryGone(ctx, tx, id); err != nil {
		return err
	}
	if err := tx.TombstoneObject(ctx, id, time.Now()); err != nil {
		return err
	}
	if err := s.dropObjectMedia(ctx, tx, id); err != nil {
		return err
	}
	return s.Events.Publish(ctx, tx, events.Event{Kind: events.StatusDeleted, Object: id})
}

// putBoost records a person's boost and tells the home timelines of the
// booster and their followers.
func (s *Service) putBoost(ctx context.Context, tx *storage.DB, r *storage.Reblog) error {
	if err := tx.PutReblog(ctx, r); err != nil {
		return err
	}
	return s.Events.Publish(ctx, tx, events.Event{Kind: events.Boosted, Actor: r.ActorID, Object: r.ObjectID, Reblog: r.ID})
}

// dropBoost removes a person's boost and tells the home timelines it was
// in.
func (s *Service) dropBoost(ctx context.Context, tx *storage.DB, r *storage.Reblog) error {
	if err := tx.DeleteReblogByURI(ctx, r.URI); err != nil {
		return err
	}
	return s.Events.Publish(ctx, tx, events.Event{Kind: events.Unboosted, Actor: r.ActorID, Object: r.ObjectID, Reblog: r.ID})
}

// notify records a notification for a local member and, when it is new,
// tells the member's live clients and queues its Web Push.
func (s *Service) notify(ctx context.Context, tx *storage.DB, n *storage.Notification) error {
	fresh, err := tx.PutNotification(ctx, n)
	if err != nil || !fresh {
		return err
	}
	if queued, err := tx.EnqueuePushes(ctx, n); err != nil {
		return err
	} else if queued > 0 && s.PushWake != nil {
		tx.AfterCommit(s.PushWake)
	}
	return s.Events.Publish(ctx, tx, events.Event{Kind: events.Notified, Actor: n.RecipientActorID, Notification: n.ID})
}

// TokenRevoked tells every replica's live connections that a token is no
// longer valid, so that they close.
func (s *Service) TokenRevoked(ctx context.Context, tokenID int64) error {
	return s.Events.Publish(ctx, nil, events.Event{Kind: events.TokenRevoked, Token: tokenID})
}

// conversed records a direct post in the conversations of the local
// people it is for (its local author and the local actors it names) and
// tells their live clients.
func (s *Service) conversed(ctx context.Context, tx *storage.DB, o *storage.Object, named []string) error {
	if o.Visibility != storage.VisibilityDirect {
		return nil
	}
	var people []int64
	if o.AuthorActor != nil && o.AuthorActor.Local {
		people = append(people, o.AuthorActorID)
	}
	for _, uri := range named {
		if !s.URLs.IsLocal(uri) {
			continue
		}
		a, err := tx.GetActorByURI(ctx, uri)
		if err != nil {
			if ignoreNotFound(err) == nil {
				continue
			}
			return err
		}
		if a.Type == storage.TypePerson && a.ID != o.AuthorActorID {
			people = append(people, a.ID)
		}
	}
	for _, id := range people {
		if _, err := tx.TouchConversation(ctx, id, o); err != nil {
			return err
		}
		if err := s.Events.Publish(ctx, tx, events.Event{Kind: events.ConversationUpdated, Actor: id, Object: o.ID}); err != nil {
			return err
		}
	}
	return nil
}
