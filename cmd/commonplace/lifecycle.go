package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// worker is a background job that runs beside the HTTP server for the life
// of the process. run must return soon after its context is cancelled; an
// error returned before that stops the whole process, since a replica whose
// queue workers died would accept work it never does.
type worker struct {
	name string
	run  func(ctx context.Context) error
}

// newHTTPServer sets every timeout: federation peers are machines on the
// open internet, and a slow or hostile one must not hold connections open.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// Bodies are capped at MaxBodyBytes (1 MiB by default); 30s is
		// ample even on slow links.
		ReadTimeout:  30 * time.Second,
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  120 * time.Second,
		// Signed ActivityPub requests carry a few KiB of headers; the 1 MiB
		// default invites abuse.
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// runServer serves HTTP on ln and runs the workers until ctx is cancelled
// or one of them fails, then shuts down within timeout: first the HTTP
// server (no new requests, in-flight ones finish), then the workers (so work
// accepted by a last request is still in the database for the next start).
func runServer(ctx context.Context, hs *http.Server, ln net.Listener, workers []worker, timeout time.Duration, log *slog.Logger) error {
	// Workers outlive ctx until the HTTP server has drained.
	workCtx, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWorkers()
	failed := make(chan error, len(workers)+1)
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			log.Debug("worker started", "worker", w.name)
			err := w.run(workCtx)
			if err != nil && workCtx.Err() == nil {
				failed <- fmt.Errorf("worker %s: %w", w.name, err)
				return
			}
			log.Debug("worker stopped", "worker", w.name)
		})
	}
	go func() {
		if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			failed <- fmt.Errorf("http server: %w", err)
		}
	}()

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", timeout.String())
	case runErr = <-failed:
		log.Error("shutting down after a failure", "err", runErr)
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		hs.Close()
		runErr = errors.Join(runErr, fmt.Errorf("http server did not drain within %s: %w", timeout, err))
	}
	stopWorkers()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-shutdownCtx.Done():
		runErr = errors.Join(runErr, fmt.Errorf("workers did not stop within %s", timeout))
	}
	if runErr == nil {
		log.Info("stopped")
	}
	return runErr
}
