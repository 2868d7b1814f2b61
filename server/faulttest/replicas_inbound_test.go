package faulttest_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/delivery"
	"github.com/commonplace/commonplace/server/faulttest"
	"github.com/commonplace/commonplace/storage"
)

// Two replicas on one PostgreSQL database drain one inbound queue: every
// activity is processed (none lost) and marked done once (none twice),
// whichever replica took it. Then one replica is killed (SIGKILL) in the
// middle of a backlog: the other finishes it, taking what the dead one had
// claimed once that claim's lease has run out.
func TestTwoReplicasShareInbound(t *testing.T) {
	w := newWorld(t, storage.Postgres, 1)
	ctx := context.Background()
	host := w.hosts()[0]
	// Known to run Mastodon: one delivery (the boost) per post.
	host.Software = "mastodon"
	if err := w.db.PutHostSoftware(ctx, storage.HostSoftware{Domain: host.Domain, Software: "mastodon", Version: "4.3.0", CheckedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := faulttest.InstallQueueLog(ctx, w.db, true); err != nil {
		t.Fatal(err)
	}
	// Long enough that a live replica, however loaded the machine, keeps
	// its claims until it has finished them: a lease that runs out under a
	// live worker lets another take the activity too, by design.
	const lease = 10 * time.Second
	names := []string{"replica-a", "replica-b"}
	var replicas []*faulttest.Proc
	for _, name := range names {
		addr, err := faulttest.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		dsn, err := faulttest.ReplicaDSN(w.dsn, name)
		if err != nil {
			t.Fatal(err)
		}
		p := w.proc(addr)
		p.Env = append(p.Env, "COMMONPLACE_DATABASE="+dsn, "COMMONPLACE_QUEUE_LEASE="+lease.String())
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
		replicas = append(replicas, p)
	}
	// The instance's public address, where the stand-ins fetch the
	// community's key to verify what it sends, is served by the replica
	// that stays alive.
	ln, err := net.Listen("tcp", w.addr)
	if err != nil {
		t.Fatal(err)
	}
	public := &http.Server{Handler: &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(&url.URL{Scheme: "http", Host: replicas[1].Listen})
		r.Out.Host = r.In.Host
	}}}
	go public.Serve(ln)
	t.Cleanup(func() { public.Close() })

	// queue writes n Creates straight into the queue, as the inbox writes
	// them, and wakes the replicas with one more each through their
	// inboxes; it returns how many it added.
	next := 1000
	queue := func(n int, to []*faulttest.Proc) int {
		t.Helper()
		now := time.Now().UTC()
		rows := make([]storage.Activity, n)
		for i := range rows {
			next++
			id, body := w.poster.Create(w.community.URI, "", next)
			rows[i] = storage.Activity{
				URI: id, Type: "Create", ActorURI: w.poster.URI, ObjectURI: id[:len(id)-len("/activity")],
				Raw: string(body), State: storage.ActivityPending, RunAfter: &now,
			}
		}
		if err := w.db.Gorm(ctx).CreateInBatches(rows, 500).Error; err != nil {
			t.Fatal(err)
		}
		for _, p := range to {
			if _, code, err := w.post("http://"+p.Listen, ""); err != nil || code != http.StatusAccepted {
				t.Fatalf("wake %s: %d %v", p.Listen, code, err)
			}
		}
		return n + len(to)
	}
	count := func(state string) int64 {
		var n int64
		if err := w.db.Gorm(ctx).Model(&storage.Activity{}).Where("NOT local AND state = ?", state).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	drained := func(within time.Duration) {
		t.Helper()
		eventually(t, within, "the inbound queue to drain", func() error {
			n := count(storage.ActivityPending)
			return errorf(n == 0, "%d pending", n)
		})
	}

	// Both replicas share a backlog.
	total := queue(200, replicas)
	drained(60 * time.Second)
	marks, twice, err := faulttest.DoneMarks(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("shared backlog of %d: done marks by replica %v", total, marks)
	if done := count(storage.ActivityDone); done != int64(total) {
		t.Fatalf("%d of %d activities done (%d failed)", done, total, count(storage.ActivityFailed))
	}
	if twice != 0 || marks[names[0]]+marks[names[1]] != int64(total) {
		t.Fatalf("done marks %v for %d activities, %d activities marked twice: want each marked once", marks, total, twice)
	}

	// A replica dies in the middle of a backlog.
	before := marks[names[0]]
	total += queue(400, replicas)
	eventually(t, 60*time.Second, "replica a to be under way", func() error {
		m, _, err := faulttest.DoneMarks(ctx, w.db)
		if err == nil && count(storage.ActivityPending) == 0 {
			t.Fatal("the backlog was done before the kill")
		}
		return errorf(err == nil && m[names[0]] >= before+10, "replica a marked %d (%v)", m[names[0]]-before, err)
	})
	replicas[0].Kill()
	drained(lease + 60*time.Second)
	if done := count(storage.ActivityDone); done != int64(total) {
		t.Fatalf("%d of %d activities done (%d failed)", done, total, count(storage.ActivityFailed))
	}

	// What the dead replica had claimed and not marked done, the survivor
	// took once the claim's lease had run out, and marked done once.
	events, err := faulttest.ReadQueueLog(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	doneBy := map[int64][]string{}
	for _, e := range events {
		if e.Done {
			doneBy[e.ActivityID] = append(doneBy[e.ActivityID], e.Replica)
		}
	}
	orphans := map[int64]time.Time{} // claimed by a, never marked by a: lease end
	for _, e := range events {
		if !e.Done && e.Replica == names[0] && e.LockedUntil != nil && len(doneBy[e.ActivityID]) > 0 && doneBy[e.ActivityID][0] != names[0] {
			orphans[e.ActivityID] = *e.LockedUntil
		}
	}
	if len(orphans) == 0 {
		t.Fatal("replica a held no claim when it was killed: the test did not test the takeover")
	}
	t.Logf("replica a held %d claims when it was killed", len(orphans))
	for _, e := range events {
		until, ok := orphans[e.ActivityID]
		if !ok || e.Done || e.Replica != names[1] {
			continue
		}
		if e.At.Before(until) {
			t.Fatalf("activity %d: replica b claimed it at %s, before replica a's lease ran out at %s", e.ActivityID, e.At, until)
		}
		delete(orphans, e.ActivityID)
	}
	if len(orphans) != 0 {
		t.Fatalf("%d activities claimed by the dead replica were not claimed again by the survivor", len(orphans))
	}
	marks, twice, err = faulttest.DoneMarks(ctx, w.db)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after the kill: %d activities, done marks by replica %v", total, marks)
	if twice != 0 || marks[names[0]]+marks[names[1]] != int64(total) {
		t.Fatalf("done marks %v for %d activities, %d activities marked twice: want each marked once", marks, total, twice)
	}

	// Each post stored once and boosted to the follower's host, a boost
	// sent twice only if it was in flight, or sent and not yet recorded,
	// when the replica died.
	var posts int64
	if err := w.db.Gorm(ctx).Model(&storage.Object{}).Where("community_actor_id = ?", w.community.ID).Count(&posts).Error; err != nil {
		t.Fatal(err)
	}
	if posts != int64(total) {
		t.Fatalf("%d posts stored for %d Creates", posts, total)
	}
	eventually(t, lease+60*time.Second, "every post boosted", func() error {
		n, _ := host.GotType("Announce")
		return errorf(n == total && w.pendingDeliveries() == 0, "%d of %d boosts, %d deliveries pending", n, total, w.pendingDeliveries())
	})
	if dups, bound := w.duplicates(), deliveryWorkers+delivery.DefaultMarkBatch; dups > bound {
		t.Fatalf("%d boosts delivered twice, more than the %d in flight or not yet recorded", dups, bound)
	}
}
