package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/storage"
)

// TestRefusesNewDatabase: a command run against a database that is not
// there (another folder, a mistyped path) says so instead of creating an
// empty instance, unless --init is given.
func TestRefusesNewDatabase(t *testing.T) {
	eachEmptyDB(t, func(t *testing.T, c *cli) {
		for _, args := range [][]string{{"account", "list"}, {"community", "list"}, {"federation", "mode"}, {"migrate"}} {
			msg := c.fails(1, args...)
			if !strings.Contains(msg, "no Commonplace database at") || !strings.Contains(msg, "--init") {
				t.Errorf("%v: %q", args, msg)
			}
		}
		msg := c.fails(1, "account", "list")
		if strings.HasPrefix(c.dsn, "postgres") {
			if !strings.Contains(msg, "postgres://") {
				t.Errorf("message does not name the database: %q", msg)
			}
		} else {
			abs, _ := filepath.Abs(c.dsn)
			if !strings.Contains(msg, abs) {
				t.Errorf("message does not name %s: %q", abs, msg)
			}
			if _, err := os.Stat(c.dsn); !os.IsNotExist(err) {
				t.Errorf("a refused command created %s: %v", c.dsn, err)
			}
		}
		c.ok("--init", "account", "list")
		// Created now: no --init needed any more.
		c.ok("community", "list")
	})
}

func TestBackupRestore(t *testing.T) {
	c := newCLI(t, storage.SQLite)
	c.ok("account", "create", "alice", "--email", "alice@example.org")
	dir := t.TempDir()
	backup := filepath.Join(dir, "nested", "backup.db")

	r := c.run("backup", backup)
	if r.code != 0 || !strings.Contains(r.stderr, "private keys") {
		t.Fatalf("backup: %s", r)
	}
	if fi, err := os.Stat(backup); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", fi, err)
	}
	if msg := c.fails(1, "backup", backup); !strings.Contains(msg, "exists") {
		t.Errorf("backup over an existing file: %q", msg)
	}

	// Changes after the backup are undone by a restore.
	c.ok("account", "create", "bob", "--email", "bob@example.org")
	if msg := c.fails(1, "restore", backup); !strings.Contains(msg, "--force") {
		t.Errorf("restore over the database without --force: %q", msg)
	}
	c.ok("restore", "--force", backup)
	out := c.ok("account", "list")
	if !strings.Contains(out, "alice") || strings.Contains(out, "bob") {
		t.Errorf("after restore: %q", out)
	}

	// Into a new place (a new machine): no --force, no --init needed.
	fresh := newEmptyCLI(t, storage.SQLite)
	fresh.ok("restore", backup)
	if out := fresh.ok("account", "list"); !strings.Contains(out, "alice") {
		t.Errorf("restored on a new machine: %q", out)
	}

	// What is not a Commonplace database is refused, leaving the target as it was.
	junk := filepath.Join(dir, "junk.db")
	if err := os.WriteFile(junk, []byte("not a database at all, but long enough to look like one"), 0o600); err != nil {
		t.Fatal(err)
	}
	if msg := c.fails(1, "restore", "--force", junk); !strings.Contains(msg, "restore") {
		t.Errorf("junk: %q", msg)
	}
	empty := filepath.Join(dir, "empty.db")
	db, err := storage.Open(context.Background(), empty)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if msg := c.fails(1, "restore", "--force", empty); !strings.Contains(msg, "not a Commonplace database") {
		t.Errorf("empty database: %q", msg)
	}
	if out := c.ok("account", "list"); !strings.Contains(out, "alice") {
		t.Errorf("after refused restores: %q", out)
	}
	entries, _ := os.ReadDir(filepath.Dir(c.dsn))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".restore-") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

func TestBackupPostgresPointsToPgDump(t *testing.T) {
	c := newCLI(t, storage.Postgres)
	if msg := c.fails(1, "backup", filepath.Join(t.TempDir(), "b.db")); !strings.Contains(msg, "pg_dump") {
		t.Errorf("backup on PostgreSQL: %q", msg)
	}
	if msg := c.fails(1, "restore", filepath.Join(t.TempDir(), "b.db")); !strings.Contains(msg, "pg_restore") {
		t.Errorf("restore on PostgreSQL: %q", msg)
	}
}
