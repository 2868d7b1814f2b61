package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// deliveryFixture stores a local actor and an activity it sent, the two
// rows every delivery refers to.
func deliveryFixture(t *testing.T, db *storage.DB) (activityID, actorID int64) {
	t.Helper()
	ctx := context.Background()
	a := &storage.Actor{
		URI: "http://example.test/u/sender", Type: storage.TypePerson, Username: "sender",
		Domain: "example.test", Local: true, InboxURI: "http://example.test/u/sender/inbox",
		KeyID: "http://example.test/u/sender#main-key", PublicKeyPEM: "pem",
	}
	if err := db.CreateActor(ctx, a); err != nil {
		t.Fatal(err)
	}
	act := &storage.Activity{
		URI: "http://example.test/activities/1", Type: "Create", ActorURI: a.URI,
		Raw: `{"type":"Create"}`, Local: true, State: storage.ActivityDone,
	}
	if err := db.Gorm(ctx).Create(act).Error; err != nil {
		t.Fatal(err)
	}
	return act.ID, a.ID
}

func inboxes(n, hosts int) []string {
	out := make([]string, n)
	for i := range n {
		out[i] = fmt.Sprintf("https://h%d.example/users/u%d/inbox", i%hosts, i)
	}
	return out
}

func TestDeliveryHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://Mastodon.Example/inbox":     "mastodon.example",
		"https://mastodon.example:443/inbox": "mastodon.example",
		"http://mastodon.example:80/inbox":   "mastodon.example",
		"http://127.0.0.1:8080/inbox":        "127.0.0.1:8080",
		"https://[::1]/inbox":                "[::1]",
		"https://[::1]:8443/inbox":           "[::1]:8443",
		"ftp://example/inbox":                "",
		"/inbox":                             "",
		"not a url":                          "",
	} {
		if got := storage.DeliveryHost(in); got != want {
			t.Errorf("DeliveryHost(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEnqueueDeliveries(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		activityID, actorID := deliveryFixture(t, db)
		list := inboxes(1200, 40)
		// Duplicates, blanks and junk are skipped, not errors.
		list = append(list, list[:300]...)
		list = append(list, "", "  ", "mailto:someone@example", "HTTPS://UPPER.example/Inbox")
		n, err := db.EnqueueDeliveries(ctx, activityID, actorID, list)
		if err != nil {
			t.Fatal(err)
		}
		if n != 1201 {
			t.Fatalf("enqueued %d, want 1201", n)
		}
		counts, err := db.DeliveryCounts(ctx, activityID)
		if err != nil {
			t.Fatal(err)
		}
		if counts[storage.DeliveryPending] != 1201 || len(counts) != 1 {
			t.Fatalf("counts = %v, want 1201 pending", counts)
		}
		// Enqueueing again adds nothing: ON CONFLICT keeps the first row.
		if n, err := db.EnqueueDeliveries(ctx, activityID, actorID, list[:700]); err != nil || n != 0 {
			t.Fatalf("re-enqueue = %d, %v; want 0, nil", n, err)
		}
		got, err := db.ClaimDeliveries(ctx, time.Now(), time.Minute, 2000, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1201 {
			t.Fatalf("claimed %d, want 1201", len(got))
		}
		for _, d := range got {
			if d.InboxURI == "HTTPS://UPPER.example/Inbox" && d.Host != "upper.example" {
				t.Errorf("host of %s = %q, want lower case", d.InboxURI, d.Host)
			}
			if d.ActivityID != activityID || d.SignerActorID != actorID || d.State != storage.DeliveryPending || d.LockedUntil == nil {
				t.Fatalf("claimed row %+v", d)
			}
		}
		if p, err := db.PendingDeliveries(ctx); err != nil || p != 1201 {
			t.Fatalf("PendingDeliveries = %d, %v", p, err)
		}
	})
}

func TestEnqueueDeliveriesInTx(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		activityID, actorID := deliveryFixture(t, db)
		rollback := errors.New("rollback")
		err := db.Tx(ctx, func(tx *storage.DB) error {
			if n, err := tx.EnqueueDeliveries(ctx, activityID, actorID, inboxes(600, 3)); err != nil || n != 600 {
				t.Errorf("enqueue in tx = %d, %v", n, err)
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("Tx = %v", err)
		}
		if p, err := db.PendingDeliveries(ctx); err != nil || p != 0 {
			t.Fatalf("after rollback: %d pending, %v; want 0", p, err)
		}
		err = db.Tx(ctx, func(tx *storage.DB) error {
			_, err := tx.EnqueueDeliveries(ctx, activityID, actorID, inboxes(600, 3))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := db.PendingDeliveries(ctx); err != nil || p != 600 {
			t.Fatalf("after commit: %d pending, %v; want 600", p, err)
		}
	})
}

// TestClaimDeliveriesConcurrently has claimers on two handles (two
// "replicas") and several goroutines each race for the same rows.
func TestClaimDeliveriesConcurrently(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			dsn := storagetest.DSN(t, d)
			dbs := make([]*storage.DB, 2)
			for i := range dbs {
				db, err := storage.Open(ctx, dsn)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				if _, err := db.Migrate(ctx, nil); err != nil {
					t.Fatal(err)
				}
				dbs[i] = db
			}
			activityID, actorID := deliveryFixture(t, dbs[0])
			if _, err := dbs[0].EnqueueDeliveries(ctx, activityID, actorID, inboxes(500, 25)); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			var (
				mu   sync.Mutex
				seen = map[int64]int{}
				wg   sync.WaitGroup
			)
			for g := range 8 {
				wg.Go(func() {
					db := dbs[g%2]
					for {
						got, err := db.ClaimDeliveries(ctx, now, time.Hour, 7, nil)
						if err != nil {
							t.Error(err)
							return
						}
						if len(got) == 0 {
							return
						}
						mu.Lock()
						for _, d := range got {
							seen[d.ID]++
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(seen) != 500 {
				t.Errorf("claimed %d distinct rows, want 500", len(seen))
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("delivery %d claimed %d times", id, n)
				}
			}
		})
	}
}

func TestClaimDeliveriesLeaseAndExclude(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		activityID, actorID := deliveryFixture(t, db)
		if _, err := db.EnqueueDeliveries(ctx, activityID, actorID, inboxes(10, 2)); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		// Hosts at capacity stay for others.
		got, err := db.ClaimDeliveries(ctx, now, time.Minute, 100, []string{"h0.example"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("claimed %d excluding h0, want 5", len(got))
		}
		for _, d := range got {
			if d.Host != "h1.example" {
				t.Fatalf("claimed a delivery to excluded host %s", d.Host)
			}
		}
		got, err = db.ClaimDeliveries(ctx, now, time.Minute, 100, nil)
		if err != nil || len(got) != 5 {
			t.Fatalf("second claim = %d, %v; want the 5 rows of h0", len(got), err)
		}
		if got, _ := db.ClaimDeliveries(ctx, now.Add(30*time.Second), time.Minute, 100, nil); len(got) != 0 {
			t.Fatalf("claimed %d leased rows", len(got))
		}
		// A worker that died holding them: they come back when the lease ends.
		got, err = db.ClaimDeliveries(ctx, now.Add(2*time.Minute), time.Minute, 100, nil)
		if err != nil || len(got) != 10 {
			t.Fatalf("claim after lease = %d, %v; want 10", len(got), err)
		}
		// Released rows are claimable at once, and keep their attempt count.
		if err := db.ReleaseDeliveries(ctx, got[0].ID, got[1].ID); err != nil {
			t.Fatal(err)
		}
		again, err := db.ClaimDeliveries(ctx, now.Add(2*time.Minute), time.Minute, 100, nil)
		if err != nil || len(again) != 2 || again[0].Attempts != 0 {
			t.Fatalf("claim after release = %+v, %v", again, err)
		}
	})
}

func TestHostBackoff(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		activityID, actorID := deliveryFixture(t, db)
		if _, err := db.EnqueueDeliveries(ctx, activityID, actorID, inboxes(10, 2)); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		for i := 1; i <= 5; i++ {
			n, err := db.RecordHostFailure(ctx, "H0.example", now)
			if err != nil || n != i {
				t.Fatalf("failure %d: count %d, %v", i, n, err)
			}
		}
		h, err := db.GetHost(ctx, "h0.example")
		if err != nil {
			t.Fatal(err)
		}
		if h.BackoffUntil == nil || !h.BackoffUntil.After(now) {
			t.Fatalf("after 5 failures backoff_until = %v, want after %v", h.BackoffUntil, now)
		}
		// Stragglers failing during the backoff do not lengthen it.
		if n, err := db.RecordHostFailure(ctx, "h0.example", now.Add(time.Second)); err != nil || n != 5 {
			t.Fatalf("failure during backoff: count %d, %v; want 5", n, err)
		}
		got, err := db.ClaimDeliveries(ctx, now, time.Second, 100, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("claimed %d during h0's backoff, want 5", len(got))
		}
		for _, d := range got {
			if d.Host == "h0.example" {
				t.Fatal("claimed a delivery to a backed-off host")
			}
		}
		later := now.Add(storage.HostBackoff(5) + time.Second)
		if got, err := db.ClaimDeliveries(ctx, later, time.Second, 100, nil); err != nil || len(got) != 10 {
			t.Fatalf("claim after backoff = %d, %v; want 10", len(got), err)
		}
		// The next failure after the backoff doubles it; a success ends it.
		if n, err := db.RecordHostFailure(ctx, "h0.example", later); err != nil || n != 6 {
			t.Fatalf("failure after backoff: count %d, %v; want 6", n, err)
		}
		if h, _ := db.GetHost(ctx, "h0.example"); h.BackoffUntil == nil || h.BackoffUntil.Before(later.Add(storage.HostBackoff(6)-time.Second)) {
			t.Fatalf("backoff_until = %v, want about %v", h.BackoffUntil, later.Add(storage.HostBackoff(6)))
		}
		if err := db.RecordHostSuccess(ctx, "h0.example"); err != nil {
			t.Fatal(err)
		}
		h, err = db.GetHost(ctx, "h0.example")
		if err != nil || h.ConsecutiveFailures != 0 || h.BackoffUntil != nil || h.LastSuccessAt == nil {
			t.Fatalf("after success host = %+v, %v", h, err)
		}
		if err := db.RecordHostSuccess(ctx, "new.example"); err != nil {
			t.Fatal(err)
		}
	})
	for n, want := range map[int]time.Duration{0: 0, 4: 0, 5: time.Minute, 6: 2 * time.Minute, 10: 32 * time.Minute, 14: 6 * time.Hour, 1000: 6 * time.Hour} {
		if got := storage.HostBackoff(n); got != want {
			t.Errorf("HostBackoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestDeliveryTransitions(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		activityID, actorID := deliveryFixture(t, db)
		if _, err := db.EnqueueDeliveries(ctx, activityID, actorID, inboxes(6, 3)); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		got, err := db.ClaimDeliveries(ctx, now, time.Hour, 100, nil)
		if err != nil || len(got) != 6 {
			t.Fatalf("claim = %d, %v", len(got), err)
		}
		retry, done, failed := got[0], got[1], got[2]

		next := now.Add(10 * time.Minute)
		if err := db.MarkRetry(ctx, retry.ID, 503, "503 Service Unavailable", next); err != nil {
			t.Fatal(err)
		}
		d, err := db.GetDelivery(ctx, retry.ID)
		if err != nil || d.Attempts != 1 || d.LockedUntil != nil || d.LastStatus != 503 || d.State != storage.DeliveryPending {
			t.Fatalf("after retry %+v, %v", d, err)
		}
		if got, _ := db.ClaimDeliveries(ctx, now.Add(5*time.Minute), time.Minute, 100, nil); len(got) != 0 {
			t.Fatalf("claimed %d before the retry is due (others still leased)", len(got))
		}
		if got, _ := db.ClaimDeliveries(ctx, next, time.Second, 100, nil); len(got) != 1 || got[0].ID != retry.ID {
			t.Fatalf("claimed %d at retry time, want the retry only", len(got))
		}

		if err := db.MarkDelivered(ctx, done.ID, 202); err != nil {
			t.Fatal(err)
		}
		d, _ = db.GetDelivery(ctx, done.ID)
		if d.State != storage.DeliveryDone || d.DeliveredAt == nil || d.LastStatus != 202 || d.Attempts != 1 {
			t.Fatalf("after delivered %+v", d)
		}
		// A late answer from a second attempt does not touch a finished row.
		if err := db.MarkRetry(ctx, done.ID, 500, "late", next); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("retry of a done delivery = %v, want ErrNotFound", err)
		}

		long := strings.Repeat("é", 600) + "\x00\xff"
		if err := db.MarkFailed(ctx, failed.ID, 403, long); err != nil {
			t.Fatal(err)
		}
		d, _ = db.GetDelivery(ctx, failed.ID)
		if d.State != storage.DeliveryFailed || len(d.LastError) > 500 || len(d.LastError) < 400 || !utf8.ValidString(d.LastError) {
			t.Fatalf("after failed: state %s, error of %d bytes", d.State, len(d.LastError))
		}

		dropped, err := db.DropDeliveriesToHost(ctx, "H2.example")
		if err != nil {
			t.Fatal(err)
		}
		counts, err := db.DeliveryCounts(ctx, activityID)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{storage.DeliveryDone: 1, storage.DeliveryFailed: 1, storage.DeliveryDropped: dropped, storage.DeliveryPending: 4 - dropped}
		if dropped < 1 || fmt.Sprint(counts) != fmt.Sprint(want) {
			t.Fatalf("counts = %v (dropped %d), want %v", counts, dropped, want)
		}
		if p, _ := db.PendingDeliveries(ctx); p != 4-dropped {
			t.Fatalf("pending = %d, want %d", p, 4-dropped)
		}
	})
}

func TestHostSoftware(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		// A host with a delivery history keeps it.
		if _, err := db.RecordHostFailure(ctx, "lemmy.test", time.Now()); err != nil {
			t.Fatal(err)
		}
		got, err := db.HostsSoftware(ctx, []string{"lemmy.test", "masto.test"})
		if err != nil || len(got) != 0 {
			t.Fatalf("before any check: %v, %v", got, err)
		}
		at := time.Now().UTC().Truncate(time.Second)
		for _, h := range []storage.HostSoftware{
			{Domain: "Lemmy.test", Software: "lemmy", Version: "0.19.5", CheckedAt: at},
			{Domain: "masto.test", Software: "mastodon", Version: "4.3.0", CheckedAt: at},
			{Domain: "quiet.test", CheckedAt: at},
		} {
			if err := db.PutHostSoftware(ctx, h); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.PutHostSoftware(ctx, storage.HostSoftware{Domain: "masto.test", Software: "mastodon", Version: "4.4.0", CheckedAt: at}); err != nil {
			t.Fatal(err)
		}
		got, err = db.HostsSoftware(ctx, []string{"lemmy.test", "MASTO.test", "quiet.test", "never.test"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]storage.HostSoftware{
			"lemmy.test": {Domain: "lemmy.test", Software: "lemmy", Version: "0.19.5", CheckedAt: at},
			"masto.test": {Domain: "masto.test", Software: "mastodon", Version: "4.4.0", CheckedAt: at},
			"quiet.test": {Domain: "quiet.test", CheckedAt: at},
		}
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for k, w := range want {
			if g := got[k]; g.Domain != w.Domain || g.Software != w.Software || g.Version != w.Version || !g.CheckedAt.Equal(w.CheckedAt) {
				t.Errorf("%s: got %+v, want %+v", k, g, w)
			}
		}
		var h storage.Host
		if err := db.Gorm(ctx).Where("domain = ?", "lemmy.test").First(&h).Error; err != nil || h.ConsecutiveFailures != 1 {
			t.Errorf("lemmy.test's delivery health was lost: %+v, %v", h, err)
		}
	})
}
