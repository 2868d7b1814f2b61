package main

import (
	"context"
	"fmt"

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
	db, err := openStorage(ctx, cfg)
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
	return runServer(ctx, newHTTPServer(inst.Server.Handler(), log), ln, workers, cfg.ShutdownTimeout, log)
}
