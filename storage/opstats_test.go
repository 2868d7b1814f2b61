package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func TestQueueStats(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		st, err := db.QueueStats(ctx, now)
		if err != nil || st != (storage.QueueStats{}) {
			t.Fatalf("empty queues: %+v %v", st, err)
		}

		a := localActor("alice", storage.TypePerson)
		if err := db.CreateAccount(ctx, a, &storage.Account{Email: "a@example.org"}); err != nil {
			t.Fatal(err)
		}
		for _, uri := range []string{"https://r.test/a/1", "https://r.test/a/2", "https://r.test/a/3"} {
			if _, err := db.PutInboundActivity(ctx, &storage.Activity{URI: uri, Type: "Create", ActorURI: "https://r.test/u/x", Raw: "{}"}); err != nil {
				t.Fatal(err)
			}
		}
		done, err := db.GetActivityByURI(ctx, "https://r.test/a/3")
		if err != nil {
			t.Fatal(err)
		}
		if err := db.FinishActivity(ctx, done.ID); err != nil {
			t.Fatal(err)
		}
		sent := &storage.Activity{URI: "http://example.test/a/1", Type: "Create", ActorURI: a.URI, Raw: "{}"}
		if err := db.PutLocalActivity(ctx, sent); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EnqueueDeliveries(ctx, sent.ID, a.ID, []string{"https://r.test/inbox", "https://s.test/inbox", "https://t.test/inbox"}); err != nil {
			t.Fatal(err)
		}
		claimed, err := db.ClaimDeliveries(ctx, time.Now(), time.Minute, 2, nil)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim: %v %d", err, len(claimed))
		}
		// One delivered, one waiting for a retry in an hour, one due.
		if err := db.MarkDelivered(ctx, claimed[0].ID, 202); err != nil {
			t.Fatal(err)
		}
		if err := db.MarkRetry(ctx, claimed[1].ID, 503, "busy", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}

		later := time.Now().UTC().Add(time.Second)
		st, err = db.QueueStats(ctx, later)
		if err != nil {
			t.Fatal(err)
		}
		if st.Inbound.Pending != 2 || st.Inbound.Due != 2 {
			t.Errorf("inbound %+v, want 2 pending, 2 due", st.Inbound)
		}
		if st.Delivery.Pending != 2 || st.Delivery.Due != 1 {
			t.Errorf("delivery %+v, want 2 pending, 1 due", st.Delivery)
		}
		for name, q := range map[string]storage.QueueDepth{"inbound": st.Inbound, "delivery": st.Delivery} {
			if q.Oldest.IsZero() || q.Oldest.Before(now.Add(-time.Minute)) || q.Oldest.After(later) {
				t.Errorf("%s oldest %v, want between %v and %v", name, q.Oldest, now, later)
			}
		}
	})
}

func TestFailingHostsAndSessions(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		now := time.Now()
		for i, h := range []string{"a.test", "b.test", "b.test", "c.test", "c.test", "c.test"} {
			if _, err := db.RecordHostFailure(ctx, h, now.Add(time.Duration(i)*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.RecordHostSuccess(ctx, "a.test"); err != nil {
			t.Fatal(err)
		}
		hosts, err := db.FailingHosts(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(hosts) != 2 || hosts[0].Domain != "c.test" || hosts[0].ConsecutiveFailures != 3 || hosts[1].Domain != "b.test" {
			t.Errorf("failing hosts %+v, want c.test (3), b.test (2)", hosts)
		}
		if hosts, _ := db.FailingHosts(ctx, 1); len(hosts) != 1 {
			t.Errorf("limit 1 gave %d hosts", len(hosts))
		}

		a := localActor("alice", storage.TypePerson)
		acct := &storage.Account{Email: "a@example.org"}
		if err := db.CreateAccount(ctx, a, acct); err != nil {
			t.Fatal(err)
		}
		for i, exp := range []time.Time{now.Add(time.Hour), now.Add(2 * time.Hour), now.Add(-time.Hour)} {
			s := &storage.Session{TokenHash: string(rune('a' + i)), AccountID: acct.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: exp}
			if err := db.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := db.ActiveSessions(ctx, now); err != nil || n != 2 {
			t.Errorf("active sessions %d %v, want 2", n, err)
		}
	})
}

func TestDeliveryHealth(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		a := localActor("alice", storage.TypePerson)
		if err := db.CreateAccount(ctx, a, &storage.Account{Email: "a@example.org"}); err != nil {
			t.Fatal(err)
		}
		sent := &storage.Activity{URI: "http://example.test/a/1", Type: "Create", ActorURI: a.URI, Raw: "{}"}
		if err := db.PutLocalActivity(ctx, sent); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EnqueueDeliveries(ctx, sent.ID, a.ID, []string{
			"https://down.test/u/1/inbox", "https://down.test/u/2/inbox", "https://busy.test/inbox", "https://fine.test/inbox",
		}); err != nil {
			t.Fatal(err)
		}
		claimed, err := db.ClaimDeliveries(ctx, time.Now(), time.Minute, 10, nil)
		if err != nil || len(claimed) != 4 {
			t.Fatalf("claim: %v %d", err, len(claimed))
		}
		start := time.Now().UTC().Add(-time.Hour)
		for _, d := range claimed {
			switch d.Host {
			case "down.test":
				if err := db.MarkRetry(ctx, d.ID, 0, "dial tcp: connection refused", time.Now().Add(time.Hour)); err != nil {
					t.Fatal(err)
				}
			case "fine.test":
				if err := db.MarkDelivered(ctx, d.ID, 202); err != nil {
					t.Fatal(err)
				}
			default:
				if err := db.ReleaseDeliveries(ctx, d.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i := range 6 {
			if _, err := db.RecordHostFailure(ctx, "down.test", start.Add(time.Duration(i)*time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
		health, err := db.DeliveryHealth(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(health) != 2 || health[0].Domain != "down.test" || health[1].Domain != "busy.test" {
			t.Fatalf("health %+v, want down.test then busy.test", health)
		}
		down := health[0]
		if down.Queued != 2 || down.Failures != 6 || down.LastError != "dial tcp: connection refused" ||
			down.FailingSince == nil || down.FailingSince.Sub(start).Abs() > time.Second ||
			down.BackoffUntil == nil || down.Oldest.IsZero() {
			t.Errorf("down.test %+v", down)
		}
		if health[1].Queued != 1 || health[1].Failures != 0 {
			t.Errorf("busy.test %+v", health[1])
		}

		n, err := db.RetryHost(ctx, "DOWN.test", time.Now())
		if err != nil || n != 2 {
			t.Fatalf("retry: %d %v", n, err)
		}
		h, err := db.GetHost(ctx, "down.test")
		if err != nil || h.BackoffUntil != nil {
			t.Fatalf("after retry: %+v %v", h, err)
		}
		if st, _ := db.QueueStats(ctx, time.Now().Add(time.Second)); st.Delivery.Due != 3 {
			t.Errorf("due after retry %d, want 3", st.Delivery.Due)
		}

		// A success ends the run; the next failure starts a new one.
		if err := db.RecordHostSuccess(ctx, "down.test"); err != nil {
			t.Fatal(err)
		}
		if h, _ := db.GetHost(ctx, "down.test"); h.FailingSince != nil {
			t.Errorf("failing since %v after a success", h.FailingSince)
		}
		later := time.Now().UTC()
		if _, err := db.RecordHostFailure(ctx, "down.test", later); err != nil {
			t.Fatal(err)
		}
		if h, _ := db.GetHost(ctx, "down.test"); h.FailingSince == nil || h.FailingSince.Sub(later).Abs() > time.Second {
			t.Errorf("failing since %v, want about %v", h.FailingSince, later)
		}
	})
}
