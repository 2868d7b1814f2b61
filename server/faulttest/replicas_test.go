package faulttest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/commonplace/commonplace/server/faulttest"
	"github.com/commonplace/commonplace/storage"
)

// The same activity delivered many times at once is processed once: one
// object, one redistribution, one delivery of each Announce.
func TestSameActivityConcurrently(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			w := newWorld(t, d, 1)
			w.startInProcess(nil)
			id, body := w.poster.Create(w.community.URI, "", 1)
			const copies = 16
			codes := make([]int, copies)
			errs := make([]error, copies)
			var wg sync.WaitGroup
			for i := range copies {
				wg.Go(func() { codes[i], errs[i] = w.send("http://"+w.addr, body) })
			}
			wg.Wait()
			for i := range copies {
				if errs[i] != nil || codes[i] != http.StatusAccepted {
					t.Fatalf("copy %d: %d %v", i, codes[i], errs[i])
				}
			}
			host := w.hosts()[0]
			eventually(t, 20*time.Second, "both Announces delivered", func() error {
				n, _ := host.GotType("Announce")
				return errorf(n == 2 && w.pendingDeliveries() == 0, "%d delivered", n)
			})
			ctx := context.Background()
			eventually(t, 10*time.Second, "the inbound queue to drain", func() error {
				n, err := w.db.CountActivities(ctx, storage.ActivityPending)
				return errorf(err == nil && n == 0, "%d pending (%v)", n, err)
			})
			time.Sleep(300 * time.Millisecond) // a late duplicate would show now
			noteID := strings.TrimSuffix(id, "/activity")
			var objects, activities, deliveries int64
			g := w.db.Gorm(ctx)
			g.Model(&storage.Object{}).Where("uri = ?", noteID).Count(&objects)
			g.Model(&storage.Activity{}).Where("uri = ?", id).Count(&activities)
			g.Model(&storage.Delivery{}).Count(&deliveries)
			if objects != 1 || activities != 1 || deliveries != 2 {
				t.Fatalf("%d objects, %d activities, %d deliveries; want 1, 1, 2", objects, activities, deliveries)
			}
			if _, total := host.GotType("Announce"); total != 2 {
				t.Fatalf("the follower's host accepted %d Announces, want 2", total)
			}
		})
	}
}

// Two replicas on one PostgreSQL database, behind a round-robin balancer
// and sharing nothing else: a fan-out reaches each host once (not once
// per replica), and either replica answers any request.
func TestTwoReplicas(t *testing.T) {
	w := newWorld(t, storage.Postgres, 50)
	for _, h := range w.hosts() {
		h.Respond = func(int) faulttest.Reply { return faulttest.Reply{Delay: 20 * time.Millisecond} }
	}
	var replicas []*faulttest.Proc
	var targets []*url.URL
	for range 2 {
		addr, err := faulttest.FreeAddr()
		if err != nil {
			t.Fatal(err)
		}
		p := w.proc(addr)
		replicas = append(replicas, p)
		targets = append(targets, &url.URL{Scheme: "http", Host: addr})
	}
	var next atomic.Int64
	lb := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(targets[next.Add(1)%int64(len(targets))])
		r.Out.Host = r.In.Host
	}}
	ln, err := net.Listen("tcp", w.addr)
	if err != nil {
		t.Fatal(err)
	}
	lbSrv := &http.Server{Handler: lb}
	go lbSrv.Serve(ln)
	t.Cleanup(func() { lbSrv.Close() })
	ctx := context.Background()
	for _, p := range replicas {
		if err := p.Start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// One post through the balancer, one straight to the second replica.
	for _, base := range []string{"http://" + w.addr, targets[1].String()} {
		if _, code, err := w.post(base, ""); err != nil || code != http.StatusAccepted {
			t.Fatalf("post via %s: %d %v", base, code, err)
		}
	}
	eventually(t, 60*time.Second, "every host to receive both posts", func() error {
		n := w.announced(4)
		return errorf(n == len(w.followers), "%d of %d hosts have all four Announces", n, len(w.followers))
	})
	eventually(t, 20*time.Second, "the queue to drain", func() error {
		n := w.pendingDeliveries()
		return errorf(n == 0, "%d pending", n)
	})
	if dups := w.duplicates(); dups != 0 {
		t.Fatalf("%d Announces delivered more than once", dups)
	}
	for _, h := range w.hosts() {
		if n := h.Requests(); n != 4 {
			t.Fatalf("host %s got %d requests, want 4", h.Domain, n)
		}
	}

	// Either replica serves what the other stored or sent.
	var paths []string
	for id := range w.hosts()[0].Got() {
		u, err := url.Parse(id)
		if err != nil || u.Host != w.addr {
			t.Fatalf("Announce id %q is not on the instance", id)
		}
		paths = append(paths, u.Path)
	}
	paths = append(paths, "/c/practice", "/c/practice/followers", "/.well-known/webfinger?resource=acct:practice@"+w.addr)
	for _, path := range paths {
		var bodies [][]byte
		for _, target := range targets {
			req, _ := http.NewRequest(http.MethodGet, target.String()+path, nil)
			req.Host = w.addr
			req.Header.Set("Accept", "application/activity+json")
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET %s from %s: %d", path, target.Host, resp.StatusCode)
			}
			bodies = append(bodies, body)
		}
		if !bytes.Equal(bodies[0], bodies[1]) {
			t.Fatalf("the replicas answer GET %s differently:\n%s\n%s", path, bodies[0], bodies[1])
		}
	}
}

// PostgreSQL restarts while activities pour in: the server recovers on its
// own and every activity it accepted (202) is processed and redistributed.
//
// By default the restart is simulated by a TCP proxy in front of the
// database that drops every connection and refuses new ones for two
// seconds, which is what a client sees of a restart, without disturbing
// other tests that share the database server. With
// COMMONPLACE_TEST_PG_RESTART=1 (run alone by .ci/run) the real server is
// restarted with pg_ctlcluster.
func TestPostgresRestart(t *testing.T) {
	w := newWorld(t, storage.Postgres, 1)
	realRestart := os.Getenv("COMMONPLACE_TEST_PG_RESTART") == "1"
	dsn := w.dsn
	var restart func()
	if realRestart {
		restart = func() { restartPostgres(t) }
	} else {
		u, err := url.Parse(w.dsn)
		if err != nil {
			t.Fatal(err)
		}
		proxy := newTCPProxy(t, u.Host)
		u.Host = proxy.addr
		dsn = u.String()
		restart = func() { proxy.restart(2 * time.Second) }
	}
	p := w.proc(w.addr)
	p.Env = append(p.Env, "COMMONPLACE_DATABASE="+dsn)
	ctx := context.Background()
	if err := p.Start(ctx); err != nil {
		t.Fatal(err)
	}

	var (
		mu       sync.Mutex
		accepted []string
		codes    = map[int]int{}
		failures int
	)
	stop := time.Now().Add(6 * time.Second)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for time.Now().Before(stop) {
				id, code, err := w.post("http://"+w.addr, "")
				mu.Lock()
				switch {
				case err != nil:
					failures++
				case code == http.StatusAccepted:
					accepted = append(accepted, id)
				}
				codes[code]++
				mu.Unlock()
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	restart()
	wg.Wait()
	// Recovered without a restart of its own: it takes a new post.
	eventually(t, 30*time.Second, "the server to accept posts again", func() error {
		id, code, err := w.post("http://"+w.addr, "")
		if err == nil && code == http.StatusAccepted {
			mu.Lock()
			accepted = append(accepted, id)
			mu.Unlock()
			return nil
		}
		return errorf(false, "%d %v", code, err)
	})
	if !p.Alive() {
		t.Fatal("the server died")
	}
	t.Logf("real restart %v: %d posts accepted; answers %v; %d transport errors", realRestart, len(accepted), codes, failures)
	if len(accepted) < 10 {
		t.Fatalf("only %d posts accepted", len(accepted))
	}
	eventually(t, 60*time.Second, "every accepted activity processed", func() error {
		var done int64
		err := w.db.Gorm(ctx).Model(&storage.Activity{}).Where("uri IN ? AND state = ?", accepted, storage.ActivityDone).Count(&done).Error
		return errorf(err == nil && done == int64(len(accepted)), "%d of %d done (%v)", done, len(accepted), err)
	})
	host := w.hosts()[0]
	// Each post gets two Announces (the host's software is unknown). A
	// post answered with an error during the restart may still have been
	// taken: its transaction can commit while the connection that would
	// confirm it is cut (the sender retries, and the id makes the retry a
	// no-op). Those may add theirs; every accepted post must have its own.
	ambiguous := failures + codes[http.StatusInternalServerError] + codes[http.StatusServiceUnavailable]
	eventually(t, 60*time.Second, "every accepted post redistributed", func() error {
		n, _ := host.GotType("Announce")
		return errorf(n >= 2*len(accepted) && n <= 2*(len(accepted)+ambiguous), "%d Announces delivered, want %d (up to %d)", n, 2*len(accepted), 2*(len(accepted)+ambiguous))
	})
	resp, err := httpClient.Get("http://" + w.addr + "/readyz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz after the restart: %v %v", resp, err)
	}
	resp.Body.Close()
}

func restartPostgres(t *testing.T) {
	t.Helper()
	versions, err := os.ReadDir("/etc/postgresql")
	if err != nil || len(versions) == 0 {
		t.Fatalf("no PostgreSQL cluster to restart: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pg_ctlcluster", "--skip-systemctl-redirect", versions[0].Name(), "main", "restart").CombinedOutput()
	if err != nil {
		// Leave it running whatever happened.
		exec.Command("pg_ctlcluster", "--skip-systemctl-redirect", versions[0].Name(), "main", "start").Run()
		t.Fatalf("restart PostgreSQL: %v\n%s", err, out)
	}
}

// tcpProxy forwards connections to a database; restart drops them all and
// refuses new ones for a while, as a restarting server does.
type tcpProxy struct {
	t        *testing.T
	addr     string
	upstream string
	mu       sync.Mutex
	ln       net.Listener
	conns    map[net.Conn]bool
	closed   bool
}

func newTCPProxy(t *testing.T, upstream string) *tcpProxy {
	t.Helper()
	addr, err := faulttest.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{t: t, addr: addr, upstream: upstream, conns: map[net.Conn]bool{}}
	if err := p.listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
		p.drop()
	})
	return p
}

func (p *tcpProxy) listen() error {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
	return nil
}

func (p *tcpProxy) forward(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.upstream, 5*time.Second)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[c], p.conns[up] = true, true
	p.mu.Unlock()
	var wg sync.WaitGroup
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		dst.Close()
		src.Close()
	}
	wg.Go(func() { pipe(up, c) })
	wg.Go(func() { pipe(c, up) })
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// drop closes the listener and every connection.
func (p *tcpProxy) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
}

func (p *tcpProxy) restart(down time.Duration) {
	p.drop()
	time.AfterFunc(down, func() {
		p.mu.Lock()
		closed := p.closed
		p.mu.Unlock()
		if closed {
			return
		}
		if err := p.listen(); err != nil && !errors.Is(err, net.ErrClosed) {
			p.t.Errorf("proxy listen again: %v", err)
		}
	})
}
