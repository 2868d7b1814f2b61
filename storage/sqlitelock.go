package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// sqliteLocker serialises migrations between processes that open the same
// SQLite file, the way PostgreSQL's advisory lock does for replicas. goose
// has no SQLite locker, and without one two processes starting together
// both try to create the tables.
type sqliteLocker struct {
	// stale is how old a lock may be before it is taken as left behind by a
	// crashed process.
	stale time.Duration
}

const sqliteLockTable = `CREATE TABLE IF NOT EXISTS commonplace_migration_lock (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	locked_at INTEGER NOT NULL
)`

func (l sqliteLocker) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, sqliteLockTable); err != nil {
		return fmt.Errorf("create migration lock table: %w", err)
	}
	for {
		now := time.Now()
		// Take the lock, or take it over if its holder died long ago.
		res, err := conn.ExecContext(ctx, `INSERT INTO commonplace_migration_lock (id, locked_at) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET locked_at = excluded.locked_at
			WHERE commonplace_migration_lock.locked_at < ?`, now.UnixMilli(), now.Add(-l.stale).UnixMilli())
		if err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for migration lock: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (l sqliteLocker) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, "DELETE FROM commonplace_migration_lock WHERE id = 1"); err != nil {
		return fmt.Errorf("release migration lock: %w", err)
	}
	return nil
}
