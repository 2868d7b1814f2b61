package faulttest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation/delivery"
	"github.com/commonplace/commonplace/server/faulttest"
	"github.com/commonplace/commonplace/storage"
)

const deliveryWorkers = 8 // COMMONPLACE_DELIVERY_WORKERS in world.env

// The server is killed (SIGKILL) in the middle of a fan-out to 200 hosts
// and started again: every host receives the post, and duplicates are
// bounded by the deliveries that were in flight or whose success was not
// yet written at the kill.
func TestKillDuringFanout(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			w := newWorld(t, d, 200)
			for _, h := range w.hosts() {
				// Slow hosts stretch the fan-out to a few seconds.
				h.Respond = func(int) faulttest.Reply { return faulttest.Reply{Delay: 30 * time.Millisecond} }
			}
			p := w.proc(w.addr)
			ctx := context.Background()
			if err := p.Start(ctx); err != nil {
				t.Fatal(err)
			}
			_, code, err := w.post("http://"+w.addr, "")
			if err != nil || code != http.StatusAccepted {
				t.Fatalf("post: %d %v", code, err)
			}
			eventually(t, 30*time.Second, "the fan-out under way", func() error {
				n := w.farm.Accepted.Load()
				return errorf(n >= 40, "%d delivered", n)
			})
			p.Kill()
			atKill := w.farm.Accepted.Load()
			if atKill >= 400 {
				t.Fatalf("the fan-out was over (%d deliveries) before the kill", atKill)
			}
			if err := p.Start(ctx); err != nil {
				t.Fatalf("restart: %v", err)
			}
			eventually(t, 60*time.Second, "every host to receive both Announces", func() error {
				n := w.announced(2)
				return errorf(n == len(w.followers), "%d of %d hosts have both", n, len(w.followers))
			})
			eventually(t, 20*time.Second, "the queue to drain", func() error {
				n := w.pendingDeliveries()
				return errorf(n == 0, "%d pending", n)
			})
			// A delivery can be sent twice if the kill came while it was in
			// flight, or after it was sent but before its success was
			// written (successes are written in batches).
			bound := deliveryWorkers + delivery.DefaultMarkBatch
			dups := w.duplicates()
			t.Logf("%s: killed after %d of 400 deliveries; restart took %s; %d duplicates (bound %d)",
				d, atKill, p.Ready.Round(time.Millisecond), dups, bound)
			if dups > bound {
				t.Fatalf("%d duplicate deliveries, more than the %d in flight or not yet recorded", dups, bound)
			}
			if refused := w.farm.Refused.Load(); refused != 0 {
				t.Fatalf("stand-ins refused %d deliveries", refused)
			}
		})
	}
}

// Stand-in hosts that fail for a while get every delivery once they
// recover, retried with backoff (and Retry-After honoured); a 410 or a 403
// is final.
func TestDeliveryRetries(t *testing.T) {
	w := newWorld(t, storage.SQLite, 7)
	h := w.hosts()
	failFirst := func(n int, r faulttest.Reply) func(int) faulttest.Reply {
		return func(i int) faulttest.Reply {
			if i < n {
				return r
			}
			return faulttest.Reply{}
		}
	}
	h[0].Respond = failFirst(2, faulttest.Reply{Status: 500})
	h[1].Respond = failFirst(1, faulttest.Reply{Status: 503, RetryAfter: "2"})
	h[2].Respond = failFirst(1, faulttest.Reply{Delay: 5 * time.Second}) // past the 2s request timeout
	h[3].Down()                                                          // refuses connections for a second
	h[4].Respond = func(int) faulttest.Reply { return faulttest.Reply{Status: http.StatusGone} }
	h[5].Respond = func(int) faulttest.Reply { return faulttest.Reply{Status: http.StatusForbidden} }
	// h[6] is healthy.

	// The hosts read FEP-1b12 Announces, so each gets exactly one request
	// per activity: what the community sends is recorded as known.
	for _, host := range h {
		if err := w.db.PutHostSoftware(context.Background(), storage.HostSoftware{Domain: host.Domain, Software: "lemmy", CheckedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	// A base of 1s makes five failures in a row within the second that h3
	// is down, which would back the host off for a minute, vanishingly
	// unlikely; the request timeout is short so that h2's hang ends fast,
	// yet long enough that a loaded machine (CI with the race detector)
	// does not time out the answers of the other hosts, which would make
	// a 410 or a 503 look like a timeout and be retried.
	w.startInProcess(func(c *config.Config) { c.RetryBase, c.RequestTimeout = time.Second, 2*time.Second })
	parent := w.parentPost()
	_, code, err := w.post("http://"+w.addr, parent)
	if err != nil || code != http.StatusAccepted {
		t.Fatalf("post: %d %v", code, err)
	}
	time.Sleep(time.Second)
	if err := h[3].Up(); err != nil {
		t.Fatal(err)
	}
	recovering := []int{0, 1, 2, 3, 6}
	eventually(t, 30*time.Second, "every recovering host to receive the reply", func() error {
		for _, i := range recovering {
			if d, _ := h[i].GotType("Announce"); d != 1 {
				return errorf(false, "host %d has %d", i, d)
			}
		}
		return nil
	})
	eventually(t, 10*time.Second, "the queue to drain", func() error {
		n := w.pendingDeliveries()
		return errorf(n == 0, "%d pending", n)
	})
	if n := h[0].Requests(); n != 3 {
		t.Errorf("host answering 500 twice got %d requests, want 3", n)
	}
	if times := h[1].Times(); len(times) != 2 || times[1].Sub(times[0]) < 1900*time.Millisecond {
		t.Errorf("host answering 503 with Retry-After: 2 was retried at %v", times)
	}
	if n := h[2].Requests(); n < 2 {
		t.Errorf("host that timed out got %d requests", n)
	}
	for _, i := range []int{4, 5} {
		if n := h[i].Requests(); n != 1 {
			t.Errorf("host %d answering %d got %d requests, want 1 (no retry)", i, []int{410, 403}[i-4], n)
		}
	}
	var states []struct {
		Host       string
		State      string
		LastStatus int
		Attempts   int
	}
	if err := w.db.Gorm(context.Background()).Model(&storage.Delivery{}).Select("host, state, last_status, attempts").Scan(&states).Error; err != nil {
		t.Fatal(err)
	}
	for _, s := range states {
		switch s.Host {
		case h[4].Domain, h[5].Domain:
			if s.State != storage.DeliveryFailed || s.Attempts != 1 {
				t.Errorf("refused delivery to %s: %+v", s.Host, s)
			}
		default:
			if s.State != storage.DeliveryDone {
				t.Errorf("delivery to %s: %+v", s.Host, s)
			}
		}
	}
	for _, i := range recovering {
		if _, total := h[i].GotType("Announce"); total != 1 {
			t.Errorf("host %d accepted the reply %d times", i, total)
		}
	}
}
