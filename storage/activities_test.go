package storage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func TestInboundActivityQueue(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		const n = 60
		for i := range n {
			a := &storage.Activity{URI: fmt.Sprintf("https://r.test/a/%d", i), Type: "Create", ActorURI: "https://r.test/u/x", Raw: "{}"}
			fresh, err := db.PutInboundActivity(ctx, a)
			if err != nil || !fresh {
				t.Fatalf("put %d: %v %v", i, fresh, err)
			}
		}
		// The same id again is accepted but not queued twice.
		fresh, err := db.PutInboundActivity(ctx, &storage.Activity{URI: "https://r.test/a/0", Type: "Create", ActorURI: "x", Raw: "{}"})
		if err != nil || fresh {
			t.Fatalf("duplicate put: fresh=%v err=%v", fresh, err)
		}

		// Three workers claim concurrently: every activity is taken once.
		var mu sync.Mutex
		seen := map[int64]int{}
		var wg sync.WaitGroup
		errs := make(chan error, 3)
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, err := db.ClaimInboundActivities(ctx, time.Now().UTC(), time.Minute, 7)
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, a := range got {
						seen[a.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if len(seen) != n {
			t.Fatalf("claimed %d distinct activities, want %d", len(seen), n)
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("activity %d claimed %d times", id, c)
			}
		}
		// Leases run out: a crashed worker's activities come back.
		again, err := db.ClaimInboundActivities(ctx, time.Now().UTC().Add(2*time.Minute), time.Minute, 100)
		if err != nil || len(again) != n {
			t.Fatalf("after lease expiry claimed %d, %v; want %d", len(again), err, n)
		}
		if again[0].Raw != "{}" || again[0].URI == "" {
			t.Fatalf("claimed row not loaded: %+v", again[0])
		}
		if err := db.FinishActivity(ctx, again[0].ID); err != nil {
			t.Fatal(err)
		}
		if err := db.RetryActivity(ctx, again[1].ID, "boom", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := db.FailActivity(ctx, again[2].ID, "bad"); err != nil {
			t.Fatal(err)
		}
		later, err := db.ClaimInboundActivities(ctx, time.Now().UTC().Add(4*time.Minute), time.Minute, 100)
		if err != nil || len(later) != n-3 {
			t.Fatalf("claimed %d, want %d (done, failed and postponed excluded): %v", len(later), n-3, err)
		}
		if c, _ := db.CountActivities(ctx, storage.ActivityDone); c != 1 {
			t.Fatalf("done = %d", c)
		}
	})
}

// FinishActivities marks a batch done at once; the others stay claimable.
func TestFinishActivities(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		for i := range 5 {
			a := &storage.Activity{URI: fmt.Sprintf("https://r.test/f/%d", i), Type: "Follow", ActorURI: "https://r.test/u/x", Raw: "{}"}
			if _, err := db.PutInboundActivity(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		got, err := db.ClaimInboundActivities(ctx, time.Now().UTC(), time.Minute, 5)
		if err != nil || len(got) != 5 {
			t.Fatalf("claimed %d, %v", len(got), err)
		}
		if err := db.FinishActivities(ctx, []int64{got[0].ID, got[2].ID, got[4].ID}); err != nil {
			t.Fatal(err)
		}
		if c, _ := db.CountActivities(ctx, storage.ActivityDone); c != 3 {
			t.Fatalf("done = %d, want 3", c)
		}
		later, err := db.ClaimInboundActivities(ctx, time.Now().UTC().Add(2*time.Minute), time.Minute, 10)
		if err != nil || len(later) != 2 || later[0].ID != got[1].ID || later[1].ID != got[3].ID {
			t.Fatalf("after the lease claimed %+v, %v; want the two unfinished", later, err)
		}
	})
}

// On SQLite the process's transactions take turns before they begin:
// many at once all commit (none fails on the busy timeout), and one
// waiting for its turn gives up when its context ends.
func TestSQLiteTransactionsTakeTurns(t *testing.T) {
	db := storagetest.Open(t, storage.SQLite)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for i := range 32 {
		wg.Go(func() {
			errs <- db.Tx(ctx, func(tx *storage.DB) error {
				_, err := tx.PutInboundActivity(ctx, &storage.Activity{URI: fmt.Sprintf("https://r.test/t/%d", i), Type: "Create", ActorURI: "x", Raw: "{}"})
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c, _ := db.CountActivities(ctx, storage.ActivityPending); c != 32 {
		t.Fatalf("pending = %d, want 32", c)
	}

	held := make(chan struct{})
	release := make(chan struct{})
	go db.Tx(ctx, func(tx *storage.DB) error {
		close(held)
		<-release
		return nil
	})
	<-held
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	err := db.Tx(cctx, func(tx *storage.DB) error { return nil })
	close(release)
	if err == nil {
		t.Fatal("a transaction waiting for its turn ran after its context ended")
	}
	// Nested transactions (savepoints) do not wait for their parent.
	if err := db.Tx(ctx, func(tx *storage.DB) error {
		return tx.Tx(ctx, func(*storage.DB) error { return nil })
	}); err != nil {
		t.Fatal(err)
	}
}
