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
