package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

var quiet = slog.New(slog.DiscardHandler)

func TestRunServerStartsAndStopsWorkers(t *testing.T) {
	ln := listenLoopback(t)
	var started, stopped atomic.Int32
	w := worker{name: "test", run: func(ctx context.Context) error {
		started.Add(1)
		<-ctx.Done()
		stopped.Add(1)
		return ctx.Err()
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	hs := newHTTPServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), quiet)
	go func() { done <- runServer(ctx, hs, ln, []worker{w, w}, 5*time.Second, quiet) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runServer: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("runServer did not return after cancel")
	}
	if started.Load() != 2 || stopped.Load() != 2 {
		t.Errorf("workers started %d, stopped %d; want 2 and 2", started.Load(), stopped.Load())
	}
}

func TestRunServerStopsWhenAWorkerFails(t *testing.T) {
	ln := listenLoopback(t)
	boom := errors.New("queue table missing")
	ws := []worker{{name: "delivery", run: func(context.Context) error { return boom }}}
	err := runServer(context.Background(), newHTTPServer(http.NotFoundHandler(), quiet), ln, ws, 5*time.Second, quiet)
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "delivery") {
		t.Errorf("runServer = %v, want the worker's error with its name", err)
	}
}

func TestRunServerBoundsShutdown(t *testing.T) {
	ln := listenLoopback(t)
	release := make(chan struct{})
	defer close(release)
	stubborn := worker{name: "stubborn", run: func(context.Context) error { <-release; return nil }}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := runServer(ctx, newHTTPServer(http.NotFoundHandler(), quiet), ln, []worker{stubborn}, 200*time.Millisecond, quiet)
	if err == nil || !strings.Contains(err.Error(), "did not stop") {
		t.Errorf("runServer = %v, want a timeout naming the workers", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %s despite a 200ms timeout", d)
	}
}

func TestHTTPServerTimeouts(t *testing.T) {
	hs := newHTTPServer(http.NotFoundHandler(), quiet)
	if hs.ReadHeaderTimeout == 0 || hs.ReadTimeout == 0 || hs.WriteTimeout == 0 || hs.IdleTimeout == 0 || hs.MaxHeaderBytes == 0 {
		t.Errorf("every timeout and the header cap must be set: %+v", hs)
	}
}
