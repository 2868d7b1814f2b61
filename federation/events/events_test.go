package events_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/events"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// An event is told when its transaction commits, never before and never
// for a transaction that rolls back; on PostgreSQL a second bus (another
// replica) hears it too.
func TestPublishAfterCommit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		bus := events.New(db, nil)
		go bus.Run(ctx)
		<-bus.Ready()
		sub := bus.Subscribe(10)
		defer sub.Close()
		var others []*events.Subscription
		if db.Dialect() == storage.Postgres {
			other, err := storage.Open(ctx, db.DSN())
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			replica := events.New(other, nil)
			go replica.Run(ctx)
			<-replica.Ready()
			others = append(others, replica.Subscribe(10))
		}
		expect := func(want int64) {
			t.Helper()
			for _, s := range append([]*events.Subscription{sub}, others...) {
				select {
				case ev := <-s.C:
					if ev.Object != want || ev.Kind != events.StatusCreated {
						t.Fatalf("got %+v, want object %d", ev, want)
					}
				case <-time.After(5 * time.Second):
					t.Fatalf("event for object %d not heard", want)
				}
			}
		}
		quiet := func() {
			t.Helper()
			for _, s := range append([]*events.Subscription{sub}, others...) {
				select {
				case ev := <-s.C:
					t.Fatalf("unexpected event %+v", ev)
				case <-time.After(300 * time.Millisecond):
				}
			}
		}

		boom := errors.New("roll back")
		err := db.Tx(ctx, func(tx *storage.DB) error {
			if err := bus.Publish(ctx, tx, events.Event{Kind: events.StatusCreated, Object: 1}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		quiet()

		err = db.Tx(ctx, func(tx *storage.DB) error {
			if err := bus.Publish(ctx, tx, events.Event{Kind: events.StatusCreated, Object: 2}); err != nil {
				return err
			}
			// Nested transactions commit with their parent.
			if err := tx.Tx(ctx, func(tx *storage.DB) error {
				return bus.Publish(ctx, tx, events.Event{Kind: events.StatusCreated, Object: 3})
			}); err != nil {
				return err
			}
			quiet() // nothing before the commit
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		expect(2)
		expect(3)

		// Outside a transaction an event is told at once.
		if err := bus.Publish(ctx, nil, events.Event{Kind: events.StatusCreated, Object: 4}); err != nil {
			t.Fatal(err)
		}
		expect(4)
	})
}

// A subscriber that does not read misses events rather than holding up
// the publisher.
func TestSlowSubscriberMisses(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	bus := events.New(db, nil)
	sub := bus.Subscribe(2)
	defer sub.Close()
	for i := range 5 {
		if err := bus.Publish(context.Background(), nil, events.Event{Kind: events.StatusCreated, Object: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if sub.Missed() != 3 {
		t.Fatalf("missed %d, want 3", sub.Missed())
	}
}
