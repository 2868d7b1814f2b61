package faulttest_test

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/faulttest"
	"github.com/commonplace/commonplace/server/instance"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// The binary is built once per test run, into a directory removed at the
// end.
var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "commonplace-faulttest-")
		if binErr != nil {
			return
		}
		// Generous: a loaded machine (CI, several packages building at
		// once) can take minutes to link the binary.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		binPath, binErr = faulttest.Build(ctx, binDir)
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// One key serves every stand-in actor: verifying costs the same whoever
// owns it, and generating keys is slow.
var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
)

func sharedKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		keys, err := faulttest.Keys(1)
		if err != nil {
			panic(err)
		}
		key = keys[0]
	})
	return key
}

// world is a database with a community on a server address that is not
// yet served, a farm of stand-in hosts with one follower on each, and a
// poster on a host of its own (the last).
type world struct {
	t         *testing.T
	dialect   storage.Dialect
	dsn       string
	db        *storage.DB
	addr      string // the server's public host:port
	community *storage.Actor
	farm      *faulttest.Farm
	followers []*faulttest.RemoteActor
	poster    *faulttest.RemoteActor
	posterRow *storage.Actor
	next      int
	mu        sync.Mutex
}

func newWorld(t *testing.T, d storage.Dialect, followerHosts int) *world {
	t.Helper()
	ctx := context.Background()
	dsn := storagetest.DSN(t, d)
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	addr, err := faulttest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	svc := federation.NewService(db, "http://"+addr, slog.New(slog.DiscardHandler))
	c, err := svc.CreateCommunity(ctx, federation.NewCommunity{Name: "practice", Title: "Practice", Summary: "Fault tests."})
	if err != nil {
		t.Fatal(err)
	}
	farm, err := faulttest.NewFarm(followerHosts + 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(farm.Close)
	w := &world{t: t, dialect: d, dsn: dsn, db: db, addr: addr, community: c.Actor, farm: farm}
	k := sharedKey(t)
	for _, h := range farm.Hosts[:followerHosts] {
		a, err := farm.NewActor(h, "member", k)
		if err != nil {
			t.Fatal(err)
		}
		w.followers = append(w.followers, a)
	}
	if w.poster, err = farm.NewActor(farm.Hosts[followerHosts], "poster", k); err != nil {
		t.Fatal(err)
	}
	if err := faulttest.Seed(ctx, db, c.Actor, w.followers); err != nil {
		t.Fatal(err)
	}
	if err := faulttest.Seed(ctx, db, nil, []*faulttest.RemoteActor{w.poster}); err != nil {
		t.Fatal(err)
	}
	if w.posterRow, err = db.GetActorByURI(ctx, w.poster.URI); err != nil {
		t.Fatal(err)
	}
	return w
}

// hosts are the followers' hosts.
func (w *world) hosts() []*faulttest.Host { return w.farm.Hosts[:len(w.followers)] }

// env is the settings of a commonplace process serving the world: short
// leases, timeouts and backoff, so that recovery takes seconds.
func (w *world) env(listen string) []string {
	return []string{
		"COMMONPLACE_DOMAIN=" + w.addr, "COMMONPLACE_PROTOCOL=http", "COMMONPLACE_LISTEN=" + listen,
		"COMMONPLACE_DATABASE=" + w.dsn, "COMMONPLACE_ALLOW_PRIVATE_ADDRESSES=true",
		"COMMONPLACE_LOG_LEVEL=info", "COMMONPLACE_DELIVERY_WORKERS=8", "COMMONPLACE_INBOX_WORKERS=4",
		"COMMONPLACE_REQUEST_TIMEOUT=2s", "COMMONPLACE_QUEUE_LEASE=3s", "COMMONPLACE_RETRY_BASE=200ms",
		"COMMONPLACE_SHUTDOWN_TIMEOUT=5s",
	}
}

// proc returns a commonplace process for the world listening on listen,
// stopped when the test ends; its log is shown if the test fails.
func (w *world) proc(listen string) *faulttest.Proc {
	w.t.Helper()
	log := &lockedBuffer{}
	p := &faulttest.Proc{Bin: binary(w.t), Listen: listen, Env: w.env(listen), Log: log}
	w.t.Cleanup(func() {
		p.Stop()
		if w.t.Failed() {
			w.t.Logf("log of the process on %s:\n%s", listen, log.String())
		}
	})
	return p
}

// startInProcess serves the world from this test process (so that the race
// detector watches the server too), with cfg adjusted by tune.
func (w *world) startInProcess(tune func(*config.Config)) {
	w.t.Helper()
	ln, err := net.Listen("tcp", w.addr)
	if err != nil {
		w.t.Fatal(err)
	}
	cfg := config.Default()
	cfg.Domain, cfg.Protocol, cfg.Listen, cfg.Database = w.addr, "http", w.addr, w.dsn
	cfg.AllowPrivateAddresses = true
	cfg.DeliveryWorkers = 8
	cfg.RequestTimeout, cfg.QueueLease, cfg.RetryBase = 2*time.Second, 5*time.Second, 200*time.Millisecond
	if tune != nil {
		tune(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		w.t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("FEDTEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst, err := instance.New(ctx, cfg, w.db, log)
	if err != nil {
		cancel()
		w.t.Fatal(err)
	}
	srv := &http.Server{Handler: inst.Server.Handler(), ReadHeaderTimeout: 5 * time.Second}
	var wg sync.WaitGroup
	wg.Go(func() { srv.Serve(ln) })
	wg.Go(func() { inst.Run(ctx) })
	w.t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		srv.Shutdown(sctx)
		cancel()
		wg.Wait()
	})
}

// post has the poster send a new Create to the community (a reply to
// parent if set) through base (the server's or a balancer's URL), and
// returns the activity id and the status code.
func (w *world) post(base, parent string) (string, int, error) {
	w.mu.Lock()
	w.next++
	n := w.next
	w.mu.Unlock()
	id, body := w.poster.Create(w.community.URI, parent, n)
	code, err := w.send(base, body)
	return id, code, err
}

// send posts body, freshly signed by the poster, to the shared inbox at
// base.
func (w *world) send(base string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/inbox", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Host = w.addr // the public address, which a balancer passes on
	if err := w.poster.Sign(req, body, time.Now()); err != nil {
		return 0, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

var httpClient = &http.Client{Timeout: 10 * time.Second}

// parentPost stores a post by the poster in the community, so that a
// reply to it is redistributed as one activity per host (a top-level post
// is two: the activity and a boost).
func (w *world) parentPost() string {
	w.t.Helper()
	uri := w.poster.URI + "/statuses/0"
	err := w.db.CreateObject(context.Background(), &storage.Object{
		URI: uri, Type: "Note", AuthorActorID: w.posterRow.ID, CommunityActorID: &w.community.ID,
		ContextURI: uri, Content: "<p>A thread.</p>", Raw: "{}", PublishedAt: time.Now().UTC(),
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return uri
}

// announced reports how many follower hosts have accepted at least want
// distinct Announces.
func (w *world) announced(want int) int {
	n := 0
	for _, h := range w.hosts() {
		if d, _ := h.GotType("Announce"); d >= want {
			n++
		}
	}
	return n
}

// duplicates counts Announces accepted more than once, over all hosts.
func (w *world) duplicates() int {
	n := 0
	for _, h := range w.hosts() {
		d, total := h.GotType("Announce")
		n += total - d
	}
	return n
}

func (w *world) pendingDeliveries() int64 {
	n, err := w.db.PendingDeliveries(context.Background())
	if err != nil {
		return -1
	}
	return n
}

// eventually polls cond until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s: %v", within, what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func errorf(cond bool, format string, args ...any) error {
	if cond {
		return nil
	}
	return fmt.Errorf(format, args...)
}

var errNotYet = errors.New("not yet")

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() > 1<<20 {
		return len(p), nil
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
