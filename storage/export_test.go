package storage

import (
	"context"
	"io/fs"
)

// MigrateFS exposes migrateFS to the external tests.
func (db *DB) MigrateFS(ctx context.Context, fsys fs.FS) ([]MigrationResult, error) {
	return db.migrateFS(ctx, nil, fsys)
}
