// Package fedtest starts whole Commonplace instances on loopback for tests:
// real HTTP servers, real signatures, real databases (SQLite, or
// PostgreSQL when storagetest enables it), so that several instances in
// one test federate exactly as they would across the Internet.
package fedtest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/instance"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// Node is one running instance.
type Node struct {
	t        testing.TB
	Domain   string // 127.0.0.1:port, or a name (StartNamed)
	URL      string // http://Domain
	DB       *storage.DB
	Service  *federation.Service
	Instance *instance.Instance

	stop func()
}

// Start runs a fresh instance on 127.0.0.1 with a new database of dialect
// d. It stops when the test ends. Set FEDTEST_LOG=1 to see its logs.
func Start(t testing.TB, d storage.Dialect) *Node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startOn(t, d, ln.Addr().String(), ln)
}

// StartNamed runs a fresh instance at http://NAME, on port 80 of a random
// loopback address named in /etc/hosts, as a GoToSocial peer needs (it
// drops the port from ids). Node.Domain is the name. It needs root; the
// test is skipped without it.
func StartNamed(t testing.TB, d storage.Dialect) *Node {
	t.Helper()
	h := reserveHost(t, "cp", true)
	return startOn(t, d, h.Name, h.Listener)
}

// StartWith is Start with settings changed by configure (registration
// mode, SMTP, ...) before the instance starts.
func StartWith(t testing.TB, d storage.Dialect, configure func(*config.Config)) *Node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startOn(t, d, ln.Addr().String(), ln, configure)
}

func startOn(t testing.TB, d storage.Dialect, domain string, ln net.Listener, configure ...func(*config.Config)) *Node {
	t.Helper()
	cfg := config.Default()
	cfg.Domain = domain
	cfg.Protocol = "http"
	cfg.Listen = ln.Addr().String()
	cfg.AllowPrivateAddresses = true
	cfg.InboxWorkers = 4
	cfg.DeliveryWorkers = 8
	cfg.DataDir = t.TempDir() // media files
	for _, f := range configure {
		f(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	db := storagetest.Open(t, d)
	n := &Node{t: t, Domain: domain, URL: cfg.BaseURL(), DB: db}
	n.start(cfg, ln)
	t.Cleanup(n.Stop)
	return n
}

// Replica starts another process of n's instance: same public domain and
// database, its own connection pool, workers and listener (its URL is its
// own address; Domain stays n's). Only PostgreSQL is shared by processes.
func (n *Node) Replica() *Node {
	n.t.Helper()
	if n.DB.Dialect() != storage.Postgres {
		n.t.Fatal("replicas need PostgreSQL")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		n.t.Fatal(err)
	}
	cfg := n.Instance.Config
	cfg.Listen = ln.Addr().String()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := storage.Open(ctx, n.DB.DSN())
	if err != nil {
		n.t.Fatal(err)
	}
	n.t.Cleanup(func() { db.Close() })
	r := &Node{t: n.t, Domain: n.Domain, URL: "http://" + ln.Addr().String(), DB: db}
	r.start(cfg, ln)
	n.t.Cleanup(r.Stop)
	return r
}

func (n *Node) start(cfg config.Config, ln net.Listener) {
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("FEDTEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("node", cfg.Domain)
	}
	ctx, cancel := context.WithCancel(context.Background())
	inst, err := instance.New(ctx, cfg, n.DB, log)
	if err != nil {
		cancel()
		n.t.Fatal(err)
	}
	n.Instance, n.Service = inst, inst.Service
	defer func() {
		// Events published before the bus listens would be lost to this
		// process's streaming clients.
		select {
		case <-inst.Events.Ready():
		case <-time.After(10 * time.Second):
			n.t.Error("the live event bus did not start listening")
		}
	}()
	srv := &http.Server{Handler: inst.Server.Handler(), ReadHeaderTimeout: 5 * time.Second}
	srv.RegisterOnShutdown(inst.Server.ShuttingDown)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("serve", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		inst.Run(ctx)
	}()
	var once sync.Once
	n.stop = func() {
		once.Do(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			srv.Shutdown(sctx)
			cancel()
			wg.Wait()
		})
	}
}

// Stop shuts the instance down gracefully. It is safe to call twice.
func (n *Node) Stop() { n.stop() }

// Member creates a local member.
func (n *Node) Member(name string) *storage.Actor {
	n.t.Helper()
	acct, err := n.Service.CreateAccount(context.Background(), federation.NewAccount{Username: name, Email: name + "@example.org"})
	if err != nil {
		n.t.Fatalf("create member %s on %s: %v", name, n.Domain, err)
	}
	return acct.Actor
}

// Community creates a local community owned by owner (may be "").
func (n *Node) Community(name string, closed bool, owner string) *storage.Community {
	n.t.Helper()
	c, err := n.Service.CreateCommunity(context.Background(), federation.NewCommunity{
		Name: name, Title: strings.ToUpper(name[:1]) + name[1:], Summary: "The " + name + " community.", Closed: closed, Owner: owner,
	})
	if err != nil {
		n.t.Fatalf("create community %s on %s: %v", name, n.Domain, err)
	}
	return c
}

// Handle returns name@domain on this node.
func (n *Node) Handle(name string) string { return name + "@" + n.Domain }

// Eventually polls cond until it holds or the deadline passes.
func Eventually(t testing.TB, what string, cond func() (bool, error)) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (last error: %v)", what, last)
}

// WaitSoftware waits until the node knows what software the server at
// host (host[:port]) runs, from its NodeInfo: until then a community sends
// it both forms of its Announces.
func (n *Node) WaitSoftware(host string) {
	n.t.Helper()
	Eventually(n.t, "the software of "+host+" to be known on "+n.Domain, func() (bool, error) {
		rows, err := n.DB.HostsSoftware(context.Background(), []string{host})
		return err == nil && rows[strings.ToLower(host)].Software != "", err
	})
}

// Settled waits until the node has no inbound activity pending and no
// delivery pending, so that a test can assert that something did NOT
// happen.
func (n *Node) Settled() {
	n.t.Helper()
	Eventually(n.t, fmt.Sprintf("%s to settle", n.Domain), func() (bool, error) {
		ctx := context.Background()
		in, err := n.DB.CountActivities(ctx, storage.ActivityPending)
		if err != nil {
			return false, err
		}
		out, err := n.DB.PendingDeliveries(ctx)
		return in == 0 && out == 0, err
	})
}
