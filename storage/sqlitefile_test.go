package storage_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/commonplace/commonplace/storage"
)

// TestSQLiteFileOwnerOnly: the database holds every actor's private key;
// a SQLite file Open creates is its owner's only, and so are its
// write-ahead log and shared memory. A file the admin made keeps its mode,
// and the side files follow it.
func TestSQLiteFileOwnerOnly(t *testing.T) {
	ctx := context.Background()
	perms := func(path string) map[string]os.FileMode {
		m := map[string]os.FileMode{}
		for _, f := range []string{path, path + "-wal", path + "-shm"} {
			st, err := os.Stat(f)
			if err != nil {
				t.Fatal(err)
			}
			m[filepath.Base(f)] = st.Mode().Perm()
		}
		return m
	}
	open := func(path string) *storage.DB {
		db, err := storage.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(ctx, nil); err != nil {
			t.Fatal(err)
		}
		return db
	}
	fresh := filepath.Join(t.TempDir(), "data", "commonplace.db")
	open(fresh).Close() // the last connection's close removes the side files
	open(fresh)
	for f, mode := range perms(fresh) {
		if mode != 0o600 {
			t.Errorf("%s created %#o, want 0600", f, mode)
		}
	}
	made := filepath.Join(t.TempDir(), "commonplace.db")
	if err := os.WriteFile(made, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(made, 0o640); err != nil { // whatever the umask
		t.Fatal(err)
	}
	open(made)
	for f, mode := range perms(made) {
		if mode != 0o640 {
			t.Errorf("%s is %#o, want the admin's 0640", f, mode)
		}
	}
}
