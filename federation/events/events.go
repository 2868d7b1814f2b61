// Package events carries live events (a post became visible, was edited
// or deleted, a member was notified, a token was revoked) from the service
// that commits them to the transports that tell clients: WebSocket and SSE
// streaming. On PostgreSQL an event travels by NOTIFY inside the
// transaction that caused it, so it is heard by every replica exactly when
// that transaction commits and never when it rolls back; on SQLite, where
// one process owns the database, it is handed over in memory after the
// commit.
//
// Events are small: ids only. Each subscriber reads what it needs from the
// database, through its own visibility rules, when it hears one.
package events

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/commonplace/commonplace/storage"
)

// Kind names what happened.
type Kind string

const (
	// StatusCreated: a post was stored and may now be in timelines.
	StatusCreated Kind = "status.created"
	// StatusUpdated: a post was edited.
	StatusUpdated Kind = "status.updated"
	// StatusDeleted: a post was deleted (it remains as a tombstone).
	StatusDeleted Kind = "status.deleted"
	// Notified: Actor got the notification Notification.
	Notified Kind = "notification"
	// FiltersChanged: Actor's filters changed.
	FiltersChanged Kind = "filters.changed"
	// ConversationUpdated: Actor's direct conversation with the post
	// Object as its latest changed.
	ConversationUpdated Kind = "conversation"
	// TokenRevoked: the OAuth token Token may no longer be used.
	TokenRevoked Kind = "token.revoked"
	// Boosted: Actor boosted the post Object; Reblog is the boost.
	Boosted Kind = "boost.created"
	// Unboosted: Actor's boost Reblog of the post Object was withdrawn.
	Unboosted Kind = "boost.deleted"
)

// Event is one thing that happened, by id.
type Event struct {
	Kind         Kind  `json:"k"`
	Object       int64 `json:"o,omitempty"`
	Actor        int64 `json:"a,omitempty"`
	Notification int64 `json:"n,omitempty"`
	Token        int64 `json:"t,omitempty"`
	Reblog       int64 `json:"r,omitempty"`
	// At is when the event was published, for measuring latency.
	At time.Time `json:"at"`
}

// channel is the PostgreSQL notification channel of events.
const channel = "commonplace_events"

// Bus publishes events and hands them to this process's subscribers. A nil
// *Bus publishes nothing (CLI commands that build a service without one).
type Bus struct {
	db  *storage.DB
	log *slog.Logger

	mu   sync.Mutex
	subs map[*Subscription]struct{}

	listening atomic.Bool
	ready     chan struct{}
	readyOnce sync.Once
}

// New returns a bus over db. Call Run to hear other replicas' events.
func New(db *storage.DB, log *slog.Logger) *Bus {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := &Bus{db: db, log: log, subs: map[*Subscription]struct{}{}, ready: make(chan struct{})}
	if db.Dialect() != storage.Postgres {
		b.markReady()
	}
	return b
}

func (b *Bus) markReady() {
	b.listening.Store(true)
	b.readyOnce.Do(func() { close(b.ready) })
}

// Ready is closed once the bus hears every event: at once on SQLite, when
// Run first listens on PostgreSQL.
func (b *Bus) Ready() <-chan struct{} { return b.ready }

// Listening reports whether events published now will be heard here.
func (b *Bus) Listening() bool { return b.listening.Load() }

// Publish tells ev once the transaction tx belongs to commits (at once if
// tx is not a transaction). tx may be nil for the bus's own database.
func (b *Bus) Publish(ctx context.Context, tx *storage.DB, ev Event) error {
	if b == nil {
		return nil
	}
	if tx == nil {
		tx = b.db
	}
	if ev.At.IsZero() {
		ev.At = time.Now().UTC()
	}
	if b.db.Dialect() == storage.Postgres {
		payload, err := json.Marshal(ev)
		if err != nil {
			return err
		}
		return tx.Notify(ctx, channel, string(payload))
	}
	tx.AfterCommit(func() { b.deliver(ev) })
	return nil
}

// Run listens for events from every replica until ctx is done. On SQLite
// there are no other processes and it only waits.
func (b *Bus) Run(ctx context.Context) error {
	if b.db.Dialect() != storage.Postgres {
		<-ctx.Done()
		return nil
	}
	err := b.db.Listen(ctx, channel, storage.Listener{
		Connected: func() {
			b.markReady()
			b.log.Debug("listening for live events")
		},
		Failed: func(err error) {
			b.listening.Store(false)
			b.log.Warn("live events connection lost; reconnecting", "err", err)
		},
		Notified: func(payload string) {
			var ev Event
			if err := json.Unmarshal([]byte(payload), &ev); err != nil {
				b.log.Warn("malformed live event", "err", err)
				return
			}
			b.deliver(ev)
		},
	})
	if errors.Is(err, storage.ErrNoNotify) {
		return nil
	}
	return err
}

// deliver hands ev to every subscriber without waiting: a subscriber
// whose buffer is full misses it (and counts the miss).
func (b *Bus) deliver(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		select {
		case s.c <- ev:
		default:
			if s.missed.Add(1) == 1 {
				b.log.Warn("live event subscriber is behind; events dropped")
			}
		}
	}
}

// Subscription receives events on C until Close.
type Subscription struct {
	C      <-chan Event
	c      chan Event
	bus    *Bus
	missed atomic.Int64
}

// Subscribe returns a subscription buffering up to buffer events.
func (b *Bus) Subscribe(buffer int) *Subscription {
	c := make(chan Event, buffer)
	s := &Subscription{C: c, c: c, bus: b}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Missed is how many events the subscription dropped for want of room.
func (s *Subscription) Missed() int64 { return s.missed.Load() }

// Close ends the subscription. Its channel is not closed: a reader
// selects on its own context.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	delete(s.bus.subs, s)
	s.bus.mu.Unlock()
}
