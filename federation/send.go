package federation

import (
	"context"
	"fmt"

	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// send records an activity of a local actor and queues its delivery to
// inboxes, on tx, so that the delivery is durable exactly when what caused
// it is. The caller notifies the delivery workers after commit.
func (s *Service) send(ctx context.Context, tx *storage.DB, from *storage.Actor, body []byte, inboxes []string) (*storage.Activity, error) {
	return s.sendInOrder(ctx, tx, from, body, inboxes)
}

// sendInOrder is send with the inboxes in groups, queued one group after
// another: workers claim deliveries in the order they were queued, so no
// delivery of a group waits behind one of a later group.
func (s *Service) sendInOrder(ctx context.Context, tx *storage.DB, from *storage.Actor, body []byte, groups ...[]string) (*storage.Activity, error) {
	head, err := vocab.Peek(body)
	if err != nil {
		return nil, fmt.Errorf("outgoing activity: %w", err)
	}
	act, err := vocab.ParseActivity(body)
	if err != nil {
		return nil, fmt.Errorf("outgoing activity: %w", err)
	}
	a := &storage.Activity{URI: head.ID, Type: head.Type, ActorURI: from.URI, ObjectURI: act.Object.ID(), Raw: string(body)}
	if err := tx.PutLocalActivity(ctx, a); err != nil {
		return nil, err
	}
	for _, inboxes := range groups {
		var remote []string
		for _, in := range inboxes {
			if in != "" && !s.URLs.IsLocal(in) {
				remote = append(remote, in)
			}
		}
		// Nothing is queued for a server the federation policy refuses.
		if remote, err = s.allowedInboxes(ctx, tx, remote); err != nil {
			return nil, err
		}
		if len(remote) > 0 {
			if _, err := tx.EnqueueDeliveries(ctx, a.ID, from.ID, remote); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

// notifyDeliveries wakes the delivery workers after a commit.
func (s *Service) notifyDeliveries() {
	if s.Wake != nil {
		s.Wake()
	}
}
