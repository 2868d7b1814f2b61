package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"

	"net"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/server"
	"github.com/commonplace/commonplace/server/instance"
)

func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the Commonplace server",
		Long: `Run the Commonplace server: apply pending migrations, create the instance
actor on first start, serve HTTP on the listen address and run the background
workers until SIGINT or SIGTERM, then shut down gracefully within
COMMONPLACE_SHUTDOWN_TIMEOUT.`,
		Example: `  commonplace serve
  commonplace serve --domain social.example.org --listen :8080 --database postgres://commonplace@db/commonplace`,
		Args: cobra.NoArgs,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			return a.serve(cmd.Context(), cfg)
		}),
	}
}

// serve wires the process together and runs it until ctx is cancelled.
func (a *app) serve(ctx context.Context, cfg config.Config) error {
	log := newLogger(cfg, a.Stderr)
	db, err := openStorage(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, log); err != nil {
		return err
	}
	inst, err := instance.New(ctx, cfg, db, log)
	if err != nil {
		return err
	}
	ln := a.listener
	if ln == nil {
		if ln, err = net.Listen("tcp", cfg.Listen); err != nil {
			return fmt.Errorf("listen on %s (COMMONPLACE_LISTEN): %w", cfg.Listen, err)
		}
	}
	log.Info("commonplace serving", "version", server.Version, "url", cfg.BaseURL(),
		"listen", ln.Addr().String(), "database", string(db.Dialect()))
	// The federation workers (inbox processing, delivery queue) run beside
	// the HTTP server on every replica; they take their work from the
	// database, so replicas share it without coordination.
	workers := []worker{{name: "federation", run: inst.Run}}
	if cfg.DebugListen != "" {
		workers = append(workers, worker{name: "profiler", run: func(ctx context.Context) error {
			return serveProfiler(ctx, cfg.DebugListen, log)
		}})
	}
	if cfg.MetricsListen != "" {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", inst.Server.MetricsHandler())
		workers = append(workers, worker{name: "metrics", run: func(ctx context.Context) error {
			return serveAside(ctx, "metrics", "COMMONPLACE_METRICS_LISTEN", cfg.MetricsListen, mux, log)
		}})
	}
	hs := newHTTPServer(inst.Server.Handler(), log)
	hs.RegisterOnShutdown(inst.Server.ShuttingDown)
	return runServer(ctx, hs, ln, workers, cfg.ShutdownTimeout, log)
}

// serveProfiler serves net/http/pprof on addr until ctx is done. It has its
// own listener so that the profiler is never reachable through the public
// one.
func serveProfiler(ctx context.Context, addr string, log *slog.Logger) error {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return serveAside(ctx, "profiler", "COMMONPLACE_DEBUG_LISTEN", addr, mux, log)
}

// serveAside serves h on addr, a listener of its own beside the public
// one, until ctx is done.
func serveAside(ctx context.Context, name, env, addr string, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s on %s (%s): %w", name, addr, env, err)
	}
	log.Info(name+" serving", "listen", ln.Addr().String())
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
