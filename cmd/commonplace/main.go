// Command commonplace is the one Commonplace binary: it serves an instance,
// applies migrations and administers members and communities.
//
// This file only wires: it loads the configuration, opens storage, builds the
// services and runs a command. The commands live in the other files.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	go func() {
		// After the first signal starts a graceful shutdown, a second one
		// kills the process the default way.
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, LookupEnv: os.LookupEnv})
	stop()
	os.Exit(code)
}

// env is the process's surroundings, injected so that tests run commands
// in-process with their own arguments, environment and streams.
type env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	LookupEnv      func(string) (string, bool)
}

// newLogger writes structured logs to w in the configured format and level.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	level, _ := config.ParseLevel(cfg.LogLevel) // Validate has checked it.
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStorage connects to the configured database. The caller closes it.
// Unless create is set it refuses a database that does not exist yet or
// holds no schema: a command run from another folder, or with a mistyped
// path, would otherwise start a new empty instance and list nothing.
func openStorage(ctx context.Context, cfg config.Config, create bool) (*storage.DB, error) {
	dsn, where := cfg.DatabasePath(), cfg.DatabasePath()
	if abs, err := filepath.Abs(where); err == nil {
		where = abs
	}
	if cfg.IsPostgres() {
		dsn, where = cfg.Database, redactURL(cfg.Database)
	} else if !create {
		if _, err := os.Stat(dsn); errors.Is(err, os.ErrNotExist) {
			return nil, errNoDatabase(where)
		}
	}
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if !create {
		ok, err := db.Initialized(ctx)
		if err == nil && !ok {
			err = errNoDatabase(where)
		}
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

func errNoDatabase(where string) error {
	return fmt.Errorf("no Commonplace database at %s: point --database or --data-dir (COMMONPLACE_DATABASE, COMMONPLACE_DATA_DIR) at the instance's database, or pass --init to create a new empty one there", where)
}

// redactURL hides a database URL's password for messages.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the configured PostgreSQL database"
	}
	return u.Redacted()
}

// openService opens storage, applies pending migrations and builds the
// federation service. The caller closes the returned DB.
func openService(ctx context.Context, cfg config.Config, log *slog.Logger, create bool) (*federation.Service, *storage.DB, error) {
	db, err := openStorage(ctx, cfg, create)
	if err != nil {
		return nil, nil, err
	}
	if _, err := db.Migrate(ctx, log); err != nil {
		db.Close()
		return nil, nil, err
	}
	return federation.NewService(db, cfg.BaseURL(), log), db, nil
}

// config loads the configuration for cmd: defaults, file, environment,
// then the flags set on the command line. Flags are fed to config.Load as
// the top layer of the environment so that Load's rules (a non-default
// domain implies https unless a protocol is given) apply to them too.
func (a *app) config(cmd *cobra.Command) (config.Config, error) {
	flags := cmd.Flags()
	set := map[string]string{}
	for _, o := range overrides {
		if fl := flags.Lookup(o.flag); fl != nil && fl.Changed {
			set[o.env] = fl.Value.String()
		}
	}
	lookup := func(name string) (string, bool) {
		if v, ok := set[name]; ok {
			return v, true
		}
		if a.LookupEnv == nil {
			return "", false
		}
		return a.LookupEnv(name)
	}
	cfg, err := config.Load(a.configFile, lookup)
	if err == nil {
		err = cfg.Validate()
	}
	if err != nil {
		return cfg, configError{fmt.Errorf("configuration: %w%s", err, flagHint(cmd, err))}
	}
	return cfg, nil
}

// flagHint names the flag that set a bad value, since config's messages
// name the environment variable and YAML key.
func flagHint(cmd *cobra.Command, err error) string {
	for _, o := range overrides {
		if fl := cmd.Flags().Lookup(o.flag); fl != nil && fl.Changed && strings.HasPrefix(err.Error(), o.env) {
			return " (set by --" + o.flag + ")"
		}
	}
	return ""
}

// open loads the configuration and opens the service for an admin command.
// Logs go to stderr so that stdout stays the command's output.
func (a *app) open(cmd *cobra.Command) (*federation.Service, func(), error) {
	cfg, err := a.config(cmd)
	if err != nil {
		return nil, nil, err
	}
	svc, db, err := openService(cmd.Context(), cfg, newLogger(cfg, a.Stderr), a.init)
	if err != nil {
		return nil, nil, err
	}
	return svc, func() { db.Close() }, nil
}
