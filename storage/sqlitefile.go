package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// The database holds every actor's private key, password hashes and
// sessions: a SQLite file we create is readable by its owner only. The
// driver creates files (the database, and lazily its write-ahead log and
// shared memory) with mode 0666 less the umask, and does not give the side
// files the database file's mode as SQLite's own Unix VFS does; so the
// files are made here before the driver opens them (SQLite accepts an
// empty log and truncates the shared memory when it first opens it). A
// database without pages deletes a log it finds and makes its own at its
// first write: settleSQLiteSideFiles writes once and sets the mode then.

// prepareSQLiteFiles creates the database file with mode 0600 if it does
// not exist (an existing file keeps the mode its admin gave it), and its
// write-ahead log and shared-memory files with the database file's mode.
func prepareSQLiteFiles(path string) error {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	if err := createIfMissing(path); err != nil {
		return fmt.Errorf("create database file: %w", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("database file: %w", err)
	}
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if err := createIfMissing(side); err != nil {
			return fmt.Errorf("create database file: %w", err)
		}
		if err := os.Chmod(side, st.Mode().Perm()); err != nil {
			return fmt.Errorf("database file permissions: %w", err)
		}
	}
	return nil
}

func createIfMissing(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// settleSQLiteSideFiles makes SQLite create the write-ahead log of a
// database that has none yet (a new one), by a write that changes nothing,
// and gives both side files the database file's mode.
func settleSQLiteSideFiles(ctx context.Context, db *sql.DB, path string) error {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil
	}
	if _, err := os.Stat(path + "-wal"); errors.Is(err, fs.ErrNotExist) {
		var v int
		if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("read database version: %w", err)
		}
		if _, err := db.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v)); err != nil {
			return fmt.Errorf("write database version: %w", err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("database file: %w", err)
	}
	for _, side := range []string{path + "-wal", path + "-shm"} {
		if err := os.Chmod(side, st.Mode().Perm()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("database file permissions: %w", err)
		}
	}
	return nil
}
