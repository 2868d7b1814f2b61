package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/commonplace/commonplace/storage"
)

// backupWarning is printed with every backup: the file is the instance.
const backupWarning = `The backup holds the instance's private keys, password hashes and sessions:
keep it where only the instance's operators can read it.`

func (a *app) backupCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Copy the SQLite database to FILE while the server runs",
		Long: `Write a consistent copy of the SQLite database to FILE (which must not
exist) while the server keeps running: SQLite's VACUUM INTO reads one
snapshot, and writers carry on. The file is made readable by its owner only.

` + backupWarning + `

PostgreSQL is backed up with its own tools, also while running:
  pg_dump --format=custom --file=commonplace.dump "$COMMONPLACE_DATABASE"
and restored into an empty database with pg_restore --no-owner.`,
		Example: "  commonplace backup /var/backups/commonplace-$(date +%F).db",
		Args:    argsNamed("FILE"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			if cfg.IsPostgres() {
				return fmt.Errorf("%w: pg_dump --format=custom --file=FILE \"$COMMONPLACE_DATABASE\"", storage.ErrBackupUnsupported)
			}
			db, err := openStorage(cmd.Context(), cfg, false)
			if err != nil {
				return err
			}
			defer db.Close()
			if err := db.Backup(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.Stdout, "backed up %s to %s\n", cfg.DatabasePath(), args[0])
			fmt.Fprintln(a.Stderr, backupWarning)
			return nil
		}),
	}
}

func (a *app) restoreCommand() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Put a backup made by commonplace backup in place of the SQLite database",
		Long: `Check FILE (SQLite's integrity check, and that it is a Commonplace
database), then put a copy of it in place of the configured SQLite database.
Stop the server first: a running server keeps writing to the file it opened.
An existing database is only replaced with --force. Migrations newer than
the backup are applied when the server starts.

PostgreSQL: restore a pg_dump archive into an empty database with
  pg_restore --no-owner --dbname="$COMMONPLACE_DATABASE" commonplace.dump`,
		Example: "  commonplace restore --force /var/backups/commonplace-2026-11-30.db",
		Args:    argsNamed("FILE"),
		RunE: a.action(func(cmd *cobra.Command, args []string) error {
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			if cfg.IsPostgres() {
				return fmt.Errorf("%w: pg_restore --no-owner --dbname=\"$COMMONPLACE_DATABASE\" FILE", storage.ErrBackupUnsupported)
			}
			target := cfg.DatabasePath()
			if _, err := os.Stat(target); err == nil && !force {
				return fmt.Errorf("%s exists: pass --force to replace it with %s (stop the server first)", target, args[0])
			}
			// The copy is checked where it will live, then renamed over the
			// database, so that a failed check or copy leaves it untouched.
			tmp, err := copyBeside(args[0], target)
			if err != nil {
				return fmt.Errorf("restore %s: %w", args[0], err)
			}
			defer func() {
				for _, f := range []string{tmp, tmp + "-wal", tmp + "-shm"} {
					os.Remove(f)
				}
			}()
			check, err := storage.Open(cmd.Context(), tmp)
			if err != nil {
				return fmt.Errorf("restore %s: %w", args[0], err)
			}
			err = check.Check(cmd.Context())
			check.Close()
			if err != nil {
				return fmt.Errorf("restore %s: %w", args[0], err)
			}
			// A write-ahead log left by the old database would be replayed
			// into the restored one.
			for _, suffix := range []string{"-wal", "-shm"} {
				if err := os.Remove(target + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
					return fmt.Errorf("restore: %w", err)
				}
			}
			if err := os.Rename(tmp, target); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
			fmt.Fprintf(a.Stdout, "restored %s from %s\n", target, args[0])
			return nil
		}),
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing database")
	return cmd
}

// copyBeside copies src to a new file in dst's directory, readable by its
// owner only, and returns its name.
func copyBeside(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	out, err := os.CreateTemp(dir, filepath.Base(dst)+".restore-*")
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(out.Name())
		return "", err
	}
	if err := out.Close(); err != nil {
		os.Remove(out.Name())
		return "", err
	}
	return out.Name(), nil
}
