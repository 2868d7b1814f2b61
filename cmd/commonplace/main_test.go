package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// cli runs commonplace in-process against one database, with an
// environment of its own: the test process's environment is never read.
type cli struct {
	t   *testing.T
	env map[string]string
	dsn string
}

// result is what one invocation left behind.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// newCLI returns a cli on a new database of dialect d, created and
// migrated as "migrate --init" does.
func newCLI(t *testing.T, d storage.Dialect) *cli {
	c := newEmptyCLI(t, d)
	c.ok("migrate", "--init")
	return c
}

// newEmptyCLI returns a cli on a database of dialect d that does not exist
// yet (SQLite) or is empty (PostgreSQL).
func newEmptyCLI(t *testing.T, d storage.Dialect) *cli {
	dsn := storagetest.DSN(t, d)
	return &cli{t: t, dsn: dsn, env: map[string]string{
		"COMMONPLACE_DATABASE":  dsn,
		"COMMONPLACE_LOG_LEVEL": "warn",
	}}
}

// eachDB runs fn against SQLite and, when COMMONPLACE_TEST_POSTGRES is set,
// PostgreSQL (skipped with a message otherwise).
func eachDB(t *testing.T, fn func(t *testing.T, c *cli)) {
	t.Helper()
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, newCLI(t, d))
		})
	}
}

// eachEmptyDB is eachDB on databases that do not exist yet or are empty.
func eachEmptyDB(t *testing.T, fn func(t *testing.T, c *cli)) {
	t.Helper()
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, newEmptyCLI(t, d))
		})
	}
}

func (c *cli) lookup(name string) (string, bool) {
	v, ok := c.env[name]
	return v, ok
}

// runIn runs one command line with stdin and returns its result.
func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, env{Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr, LookupEnv: c.lookup})
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

func (c *cli) run(args ...string) result {
	c.t.Helper()
	return c.runIn("", args...)
}

// ok runs a command line that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != 0 {
		c.t.Fatalf("commonplace %s: %s", strings.Join(args, " "), r)
	}
	return r.stdout
}

// fails runs a command line that must exit with code and returns stderr.
func (c *cli) fails(code int, args ...string) string {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code {
		c.t.Fatalf("commonplace %s: want exit %d, got %s", strings.Join(args, " "), code, r)
	}
	return r.stderr
}

// openDB opens the cli's database for checks the CLI does not print.
func (c *cli) openDB() *storage.DB {
	c.t.Helper()
	db, err := storage.Open(context.Background(), c.dsn)
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { db.Close() })
	return db
}

// syncBuffer is a bytes.Buffer safe for a server goroutine writing logs
// while the test reads them.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
