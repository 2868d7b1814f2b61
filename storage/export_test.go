package storage

import (
	"context"
	"io/fs"
)

// MigrateFS exposes migrateFS to the external tests.
func (db *DB) MigrateFS(ctx context.Context, fsys fs.FS) ([]MigrationResult, error) {
	return db.migrateFS(ctx, nil, fsys)
}

// CachedStatements lists the SQL of the statements kept prepared (SQLite).
func (db *DB) CachedStatements() []string {
	if db.stmts == nil {
		return nil
	}
	db.stmts.mu.RLock()
	defer db.stmts.mu.RUnlock()
	var out []string
	for q := range db.stmts.stmts {
		out = append(out, q)
	}
	return out
}
