package delivery_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/delivery"
	"github.com/commonplace/commonplace/federation/httpsig"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// One key for the whole run: generating RSA keys is slow under -race.
var testKey = sync.OnceValues(httpsig.GenerateKey)

// fixture is a local actor and an activity it sends.
type fixture struct {
	db         *storage.DB
	activityID int64
	signerID   int64
	keyID      string
	pub        *rsa.PublicKey
	body       []byte
}

func newFixture(t *testing.T, db *storage.DB) *fixture {
	t.Helper()
	ctx := context.Background()
	key, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	privPEM, err := httpsig.EncodePrivateKeyPEM(key)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := httpsig.EncodePublicKeyPEM(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	const base = "http://local.test/c/practice"
	a := &storage.Actor{
		URI: base, Type: storage.TypeGroup, Username: "practice", Domain: "local.test", Local: true,
		InboxURI: base + "/inbox", KeyID: base + "#main-key",
		PublicKeyPEM: string(pubPEM), PrivateKeyPEM: string(privPEM),
	}
	if err := db.CreateActor(ctx, a); err != nil {
		t.Fatal(err)
	}
	body := `{"@context":"https://www.w3.org/ns/activitystreams","id":"` + base + `/announce/1","type":"Announce","actor":"` + base + `","object":"http://local.test/p/1"}`
	act := &storage.Activity{URI: base + "/announce/1", Type: "Announce", ActorURI: base, Raw: body, Local: true, State: storage.ActivityDone}
	if err := db.Gorm(ctx).Create(act).Error; err != nil {
		t.Fatal(err)
	}
	return &fixture{db: db, activityID: act.ID, signerID: a.ID, keyID: a.KeyID, pub: &key.PublicKey, body: []byte(body)}
}

// standIn is a remote server that accepts only requests signed by the
// fixture's actor, with a matching Digest, carrying the activity.
type standIn struct {
	srv   *httptest.Server
	delay time.Duration
	// respond answers the n-th request (from 1); nil means 202.
	respond func(n int, w http.ResponseWriter)

	mu          sync.Mutex
	count       int
	inFlight    int
	maxInFlight int
}

func (f *fixture) standIn(t *testing.T, delay time.Duration, respond func(n int, w http.ResponseWriter)) *standIn {
	t.Helper()
	s := &standIn{delay: delay, respond: respond}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.verify(t, r) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		s.mu.Lock()
		s.count++
		n := s.count
		s.inFlight++
		s.maxInFlight = max(s.maxInFlight, s.inFlight)
		s.mu.Unlock()
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
		}
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
		if s.respond == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		s.respond(n, w)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (f *fixture) verify(t *testing.T, r *http.Request) bool {
	v, err := httpsig.Parse(r) // checks Date, signed headers and Digest
	if err != nil {
		t.Errorf("stand-in %s: %v", r.Host, err)
		return false
	}
	if v.KeyID() != f.keyID {
		t.Errorf("stand-in %s: signed by %q, want %q", r.Host, v.KeyID(), f.keyID)
		return false
	}
	if err := v.Verify(f.pub); err != nil {
		t.Errorf("stand-in %s: %v", r.Host, err)
		return false
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/activity+json" || !bytes.Equal(v.Body(), f.body) {
		t.Errorf("stand-in %s: got %s %q with body %q", r.Host, r.Method, r.Header.Get("Content-Type"), v.Body())
		return false
	}
	return true
}

func (s *standIn) inbox() string { return s.srv.URL + "/inbox" }

func (s *standIn) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// closedPort returns an inbox on 127.0.0.1 where nothing listens.
func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/inbox"
}

// start runs a worker on db until the test ends or stop is called.
func start(t *testing.T, db *storage.DB, opts delivery.Options) (w *delivery.Worker, stop func()) {
	t.Helper()
	client := transport.New(transport.Options{AllowPrivate: true, Timeout: 5 * time.Second})
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	w = delivery.New(db, client, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	w.Notify()
	return w, stop
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *fixture) enqueue(t *testing.T, inboxes ...string) {
	t.Helper()
	if _, err := f.db.EnqueueDeliveries(context.Background(), f.activityID, f.signerID, inboxes); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) settled(t *testing.T) func() bool {
	return func() bool {
		n, err := f.db.PendingDeliveries(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return n == 0
	}
}

func (f *fixture) delivery(t *testing.T, inbox string) storage.Delivery {
	t.Helper()
	var d storage.Delivery
	if err := f.db.Gorm(context.Background()).Where("inbox_uri = ?", inbox).Take(&d).Error; err != nil {
		t.Fatalf("delivery to %s: %v", inbox, err)
	}
	return d
}

func TestFanOut(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		hosts := make([]*standIn, 50)
		var inboxes []string
		for i := range hosts {
			hosts[i] = f.standIn(t, 0, nil)
			// Every member on a host shares its inbox: one request each.
			inboxes = append(inboxes, hosts[i].inbox(), hosts[i].inbox())
		}
		f.enqueue(t, inboxes...)
		w, stop := start(t, db, delivery.Options{})
		waitFor(t, "the fan-out", f.settled(t))
		stop()
		for i, h := range hosts {
			if n := h.requests(); n != 1 {
				t.Errorf("host %d got %d requests, want 1", i, n)
			}
		}
		counts, err := db.DeliveryCounts(context.Background(), f.activityID)
		if err != nil {
			t.Fatal(err)
		}
		if counts[storage.DeliveryDone] != 50 || len(counts) != 1 {
			t.Errorf("counts = %v, want 50 done", counts)
		}
		if s := w.Stats(); s != (delivery.Stats{Delivered: 50}) {
			t.Errorf("stats = %+v", s)
		}
	})
}

func TestRetriesAndRefusals(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		flaky := f.standIn(t, 0, func(n int, w http.ResponseWriter) {
			if n == 1 {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusOK)
		})
		status := func(code int) func(int, http.ResponseWriter) {
			return func(_ int, w http.ResponseWriter) { w.WriteHeader(code) }
		}
		gone := f.standIn(t, 0, status(http.StatusGone))
		forbidden := f.standIn(t, 0, status(http.StatusForbidden))
		unauthorized := f.standIn(t, 0, status(http.StatusUnauthorized))
		down := closedPort(t)
		f.enqueue(t, flaky.inbox(), gone.inbox(), forbidden.inbox(), unauthorized.inbox(), down)

		w, stop := start(t, db, delivery.Options{BaseBackoff: 10 * time.Millisecond, PollInterval: 20 * time.Millisecond})
		waitFor(t, "the retried and refused deliveries", func() bool {
			return f.delivery(t, flaky.inbox()).State == storage.DeliveryDone &&
				f.delivery(t, gone.inbox()).State == storage.DeliveryFailed &&
				f.delivery(t, forbidden.inbox()).State == storage.DeliveryFailed &&
				f.delivery(t, unauthorized.inbox()).Attempts >= 2 &&
				f.delivery(t, down).Attempts >= 2
		})
		stop()

		if n := flaky.requests(); n != 2 {
			t.Errorf("503-then-200 host got %d requests, want 2", n)
		}
		if d := f.delivery(t, flaky.inbox()); d.Attempts != 2 {
			t.Errorf("503-then-200 delivery took %d attempts, want 2", d.Attempts)
		}
		for _, c := range []struct {
			s    *standIn
			code int
		}{{gone, 410}, {forbidden, 403}} {
			if n := c.s.requests(); n != 1 {
				t.Errorf("%d host got %d requests, want 1 (no retry)", c.code, n)
			}
			if d := f.delivery(t, c.s.inbox()); d.LastStatus != c.code || d.Attempts != 1 {
				t.Errorf("%d delivery: %+v", c.code, d)
			}
		}
		if d := f.delivery(t, down); d.State != storage.DeliveryPending || d.LastStatus != 0 || d.LastError == "" {
			t.Errorf("delivery to a closed port: %+v, want pending with an error", d)
		}
		if h, err := db.GetHost(context.Background(), storage.DeliveryHost(down)); err != nil || h.ConsecutiveFailures < 2 {
			t.Errorf("closed port host = %+v, %v; want failures counted", h, err)
		}
		if s := w.Stats(); s.Delivered != 1 || s.Failed != 2 || s.Retried < 5 {
			t.Errorf("stats = %+v", s)
		}
	})
}

func TestGiveUpWhenTooOld(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		down := closedPort(t)
		f.enqueue(t, down)
		// Seen from three days later, the delivery is past MaxAge.
		later := func() time.Time { return time.Now().Add(72 * time.Hour) }
		w, stop := start(t, db, delivery.Options{Now: later})
		waitFor(t, "the expired delivery", f.settled(t))
		stop()
		d := f.delivery(t, down)
		if d.State != storage.DeliveryFailed || d.Attempts != 1 || len(d.LastError) < 8 || d.LastError[:8] != "expired:" {
			t.Errorf("expired delivery: %+v", d)
		}
		if s := w.Stats(); s != (delivery.Stats{Failed: 1}) {
			t.Errorf("stats = %+v", s)
		}
	})
}

func TestPerHostLimit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		host := f.standIn(t, 30*time.Millisecond, nil)
		var inboxes []string
		for i := range 24 {
			inboxes = append(inboxes, fmt.Sprintf("%s/users/%d/inbox", host.srv.URL, i))
		}
		other := f.standIn(t, 0, nil)
		f.enqueue(t, append(inboxes, other.inbox())...)
		start(t, db, delivery.Options{Workers: 16, PerHost: 3})
		waitFor(t, "all deliveries", f.settled(t))
		host.mu.Lock()
		defer host.mu.Unlock()
		if host.count != 24 || host.maxInFlight > 3 {
			t.Errorf("host got %d requests, at most %d at once; want 24, at most 3", host.count, host.maxInFlight)
		}
		if other.requests() != 1 {
			t.Errorf("other host got %d requests, want 1", other.requests())
		}
	})
}

func TestRestartResumes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		hosts := make([]*standIn, 12)
		var inboxes []string
		for i := range hosts {
			hosts[i] = f.standIn(t, 300*time.Millisecond, nil)
			inboxes = append(inboxes, hosts[i].inbox())
		}
		f.enqueue(t, inboxes...)
		total := func() (n int) {
			for _, h := range hosts {
				n += h.requests()
			}
			return n
		}
		const workers = 4
		_, stop := start(t, db, delivery.Options{Workers: workers, ShutdownGrace: time.Millisecond})
		waitFor(t, "the first requests", func() bool { return total() >= 2 })
		stop() // mid-fan-out: requests in flight are cut off
		if n, _ := db.PendingDeliveries(context.Background()); n == 0 {
			t.Fatal("the first worker finished the fan-out; nothing left to resume")
		}
		start(t, db, delivery.Options{Workers: workers})
		waitFor(t, "the resumed fan-out", f.settled(t))
		for i, h := range hosts {
			if h.requests() == 0 {
				t.Errorf("host %d never got the activity", i)
			}
		}
		if dup := total() - len(hosts); dup > workers {
			t.Errorf("%d duplicate requests, want at most the %d that were in flight", dup, workers)
		}
	})
}

// TestTwoReplicas runs two workers on two handles of one database, as two
// replicas would: every host gets the activity exactly once.
func TestTwoReplicas(t *testing.T) {
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
			f := newFixture(t, dbs[0])
			hosts := make([]*standIn, 30)
			var inboxes []string
			for i := range hosts {
				hosts[i] = f.standIn(t, 20*time.Millisecond, nil)
				inboxes = append(inboxes, hosts[i].inbox())
			}
			f.enqueue(t, inboxes...)
			w1, _ := start(t, dbs[0], delivery.Options{Workers: 4, PollInterval: 10 * time.Millisecond})
			w2, _ := start(t, dbs[1], delivery.Options{Workers: 4, PollInterval: 10 * time.Millisecond})
			waitFor(t, "the fan-out", f.settled(t))
			for i, h := range hosts {
				if n := h.requests(); n != 1 {
					t.Errorf("host %d got %d requests, want 1", i, n)
				}
			}
			s1, s2 := w1.Stats(), w2.Stats()
			if s1.Delivered+s2.Delivered != 30 {
				t.Errorf("delivered %d + %d, want 30", s1.Delivered, s2.Delivered)
			}
			t.Logf("replica 1 delivered %d, replica 2 delivered %d", s1.Delivered, s2.Delivered)
		})
	}
}

// TestBatchedMarking checks how successes are recorded in batches: each
// delivery is marked once, full batches are written at once, the rest at
// shutdown, and until then a delivery stays pending and leased, so that
// after a crash only the unwritten ones are sent again.
func TestBatchedMarking(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newFixture(t, db)
		hosts := make([]*standIn, 12)
		var inboxes []string
		for i := range hosts {
			hosts[i] = f.standIn(t, 0, nil)
			inboxes = append(inboxes, hosts[i].inbox())
		}
		total := func() (n int) {
			for _, h := range hosts {
				n += h.requests()
			}
			return n
		}
		done := func() int64 {
			c, err := db.DeliveryCounts(ctx, f.activityID)
			if err != nil {
				t.Fatal(err)
			}
			return c[storage.DeliveryDone]
		}
		f.enqueue(t, inboxes...)
		// Batches of 5 and no timed flush: 10 are written as two full
		// batches; 2 wait. One worker, so that batches fill one at a time.
		w, stop := start(t, db, delivery.Options{Workers: 1, MarkBatch: 5, MarkDelay: time.Hour})
		waitFor(t, "every request", func() bool { return total() == len(hosts) })
		waitFor(t, "two full batches", func() bool { return done() == 10 })
		if n, _ := db.PendingDeliveries(ctx); n != 2 {
			t.Fatalf("%d pending, want the 2 of the unwritten batch", n)
		}

		// A crash now: the unwritten rows keep their lease, and once it
		// has run out a new process sends exactly those again.
		afterLease := func() time.Time { return time.Now().Add(delivery.DefaultLease + time.Second) }
		w2, stop2 := start(t, db, delivery.Options{Now: afterLease, MarkBatch: 1})
		waitFor(t, "the re-sent deliveries", f.settled(t))
		stop2()
		if dup := total() - len(hosts); dup != 2 {
			t.Errorf("%d requests re-sent after the crash, want the 2 unwritten", dup)
		}
		if s := w2.Stats(); s.Delivered != 2 {
			t.Errorf("second process: stats = %+v, want 2 delivered", s)
		}

		// The first process shuts down: its final flush finds the rows
		// already done and changes nothing, and each row was counted once.
		stop()
		if s := w.Stats(); s.Delivered != 12 {
			t.Errorf("first process: stats = %+v, want 12 delivered", s)
		}
		for _, in := range inboxes {
			if d := f.delivery(t, in); d.State != storage.DeliveryDone || d.Attempts != 1 {
				t.Errorf("delivery to %s: state %s after %d attempts, want done after 1", in, d.State, d.Attempts)
			}
		}
	})
}

// TestShutdownFlushes checks that successes waiting to be recorded are
// written when the worker stops.
func TestShutdownFlushes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		f := newFixture(t, db)
		h := f.standIn(t, 0, nil)
		f.enqueue(t, h.inbox())
		w, stop := start(t, db, delivery.Options{MarkDelay: time.Hour})
		waitFor(t, "the request", func() bool { return h.requests() == 1 })
		if d := f.delivery(t, h.inbox()); d.State != storage.DeliveryPending || d.LockedUntil == nil {
			t.Errorf("before shutdown: %+v, want pending and leased", d)
		}
		stop()
		if d := f.delivery(t, h.inbox()); d.State != storage.DeliveryDone || d.Attempts != 1 || d.LockedUntil != nil {
			t.Errorf("after shutdown: %+v, want done after 1 attempt, no lease", d)
		}
		if host, err := db.GetHost(context.Background(), storage.DeliveryHost(h.inbox())); err != nil || host.LastSuccessAt == nil {
			t.Errorf("host = %+v, %v; want its success recorded", host, err)
		}
		if s := w.Stats(); s != (delivery.Stats{Delivered: 1}) {
			t.Errorf("stats = %+v", s)
		}
	})
}
