package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func TestPrune(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		a := localActor("alice", storage.TypePerson)
		if err := db.CreateAccount(ctx, a, &storage.Account{Email: "a@example.org"}); err != nil {
			t.Fatal(err)
		}
		in := func(uri string) *storage.Activity {
			act := &storage.Activity{URI: uri, Type: "Create", ActorURI: "https://r.test/u/x", Raw: "{}"}
			if _, err := db.PutInboundActivity(ctx, act); err != nil {
				t.Fatal(err)
			}
			return act
		}
		done, pending := in("https://r.test/a/done"), in("https://r.test/a/pending")
		if err := db.FinishActivity(ctx, done.ID); err != nil {
			t.Fatal(err)
		}
		sent := &storage.Activity{URI: "http://example.test/a/1", Type: "Create", ActorURI: a.URI, Raw: "{}"}
		if err := db.PutLocalActivity(ctx, sent); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EnqueueDeliveries(ctx, sent.ID, a.ID, []string{"https://r.test/inbox", "https://s.test/inbox"}); err != nil {
			t.Fatal(err)
		}
		claimed, err := db.ClaimDeliveries(ctx, time.Now(), time.Minute, 1, nil)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %d", err, len(claimed))
		}
		if err := db.MarkDelivered(ctx, claimed[0].ID, 202); err != nil {
			t.Fatal(err)
		}

		// Nothing is old enough yet.
		if r, err := db.Prune(ctx, time.Now().Add(-time.Hour), 100); err != nil || r != (storage.PruneResult{}) {
			t.Fatalf("early prune: %+v %v", r, err)
		}
		r, err := db.Prune(ctx, time.Now().Add(time.Hour), 100)
		if err != nil || r.Activities != 1 || r.Deliveries != 1 {
			t.Fatalf("prune: %+v %v", r, err)
		}
		for _, uri := range []string{pending.URI, sent.URI} {
			if _, err := db.GetActivityByURI(ctx, uri); err != nil {
				t.Errorf("%s pruned: %v", uri, err)
			}
		}
		if n, _ := db.PendingDeliveries(ctx); n != 1 {
			t.Errorf("pending deliveries %d, want 1", n)
		}
	})
}
