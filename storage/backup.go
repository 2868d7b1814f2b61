package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Initialized reports whether the database holds Commonplace's schema
// (migrations have run at least once), as opposed to a new empty one.
func (db *DB) Initialized(ctx context.Context) (bool, error) {
	var n int64
	var err error
	if db.dialect == Postgres {
		err = db.sql.QueryRowContext(ctx, `SELECT count(*) FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_name = 'goose_db_version'`).Scan(&n)
	} else {
		err = db.sql.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`).Scan(&n)
	}
	if err != nil {
		return false, fmt.Errorf("check for the schema: %w", err)
	}
	return n > 0, nil
}

// ErrBackupUnsupported is returned by Backup on PostgreSQL, whose own tools
// (pg_dump) make consistent backups of a running server.
var ErrBackupUnsupported = errors.New("online backup is for SQLite; back up PostgreSQL with pg_dump")

// Backup writes a consistent copy of a SQLite database to path while the
// database stays in use (VACUUM INTO reads one snapshot; writers carry
// on). path must not exist: VACUUM INTO refuses to overwrite, and so does
// this, before starting.
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.dialect != SQLite {
		return ErrBackupUnsupported
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("backup to %s: %w: the file exists", path, ErrConflict)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("backup to %s: %w", path, err)
		}
	}
	if _, err := db.sql.ExecContext(ctx, "VACUUM INTO ?", path); err != nil {
		os.Remove(path)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	// The copy holds private keys and password hashes: readable by the
	// owner only.
	if err := os.Chmod(path, 0o600); err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}

// Check runs SQLite's integrity check and confirms the file holds
// Commonplace's schema; restore uses it on a backup before putting it in
// place.
func (db *DB) Check(ctx context.Context) error {
	if db.dialect != SQLite {
		return ErrBackupUnsupported
	}
	var res string
	if err := db.sql.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("integrity check: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("integrity check: %s", res)
	}
	ok, err := db.Initialized(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errors.New("not a Commonplace database (no migrations recorded)")
	}
	return nil
}
