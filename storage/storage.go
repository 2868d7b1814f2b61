// Package storage keeps Commonplace's state in SQLite (the zero-configuration
// default) or PostgreSQL (production) through GORM. The schema is owned by
// versioned SQL migrations, one set per dialect, never by AutoMigrate.
//
// Nothing here knows about HTTP or ActivityPub documents: callers pass plain
// values and get models or the sentinel errors below.
package storage

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3/gormlite"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Sentinel errors. Callers match them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

//go:embed migrations
var migrations embed.FS

// Dialect names the database engine behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the storage handle shared by the whole process. It is safe for
// concurrent use.
type DB struct {
	gorm    *gorm.DB
	sql     *sql.DB
	dialect Dialect
	// dsn is kept for the PostgreSQL listener, which needs a connection
	// of its own (see events.go).
	dsn string
	// schema is PostgreSQL's current schema, which names the
	// notification channels so that databases sharing a server (tests,
	// one per schema) do not hear each other.
	schema string
	// tx is set on the handle that Tx passes to its function: what must
	// wait for the commit is recorded there.
	tx *txState
	// writer, on SQLite, is held by this process's transaction in
	// progress (a semaphore of one): see Tx.
	writer chan struct{}
	// stmts keeps SQLite's statements prepared (nil on PostgreSQL).
	stmts *stmtCache
}

// sqliteTimeFormat stores times as fixed-width UTC text with milliseconds (a format the driver
// also decodes without fractions, as goose writes them), so that SQLite
// compares them correctly as strings and its date functions understand them.
const sqliteTimeFormat = "2006-01-02 15:04:05.000"

// withoutJIT turns PostgreSQL's JIT compilation off for the connections
// of dsn, unless dsn sets it (pgx sends unknown URL parameters as run-time
// settings). A page's queries run in milliseconds, and compiling one whose
// estimated cost passes jit_above_cost took hundreds: 300 ms of a 330 ms
// home timeline on the generated instance of issue 17, item 4.
func withoutJIT(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn // pgx reports it
	}
	q := u.Query()
	if q.Has("jit") {
		return dsn
	}
	q.Set("jit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}

// Open connects to dsn: a postgres:// URL, or else a SQLite file path whose
// directory is created if missing.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg := &gorm.Config{
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return time.Now().UTC() },
		TranslateError: true,
	}
	var (
		g       *gorm.DB
		err     error
		dialect Dialect
	)
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		dialect = Postgres
		g, err = gorm.Open(postgres.Open(withoutJIT(dsn)), cfg)
	} else {
		dialect = SQLite
		if dir := filepath.Dir(dsn); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create database directory: %w", err)
			}
		}
		if err := prepareSQLiteFiles(dsn); err != nil {
			return nil, err
		}
		registerSQLiteExtensions()
		g, err = gorm.Open(gormlite.Open(sqliteDSN(dsn)), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if err := registerWriteTracking(g); err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	sqlDB, err := g.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	if dialect == SQLite {
		// One writer at a time is SQLite's nature; immediate transactions
		// and the busy timeout make writers wait instead of failing.
		// Every connection stays open: opening one (a WebAssembly
		// instance, its pragmas) cost as much CPU as a dozen queries,
		// and with database/sql's default of 2 idle connections a busy
		// process opened one for most transactions.
		sqlDB.SetMaxOpenConns(8)
		sqlDB.SetMaxIdleConns(8)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(16)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	if dialect == SQLite {
		if err := enableWAL(ctx, sqlDB); err != nil {
			sqlDB.Close()
			return nil, err
		}
		if err := settleSQLiteSideFiles(ctx, sqlDB, dsn); err != nil {
			sqlDB.Close()
			return nil, err
		}
	}
	db := &DB{gorm: g, sql: sqlDB, dialect: dialect, dsn: dsn}
	if dialect == SQLite {
		db.writer = make(chan struct{}, 1)
		// pgx keeps its statements prepared by itself; SQLite's driver
		// does not.
		db.stmts = newStmtCache(sqlDB)
		g.ConnPool, g.Statement.ConnPool = db.stmts, db.stmts
	}
	if dialect == Postgres {
		if err := sqlDB.QueryRowContext(ctx, "SELECT current_schema()").Scan(&db.schema); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("read current schema: %w", err)
		}
	}
	return db, nil
}

// enableWAL switches the database file to write-ahead logging, which lets
// readers work while one writer writes. The mode is stored in the file, but
// switching needs a moment without other writers, so it is retried briefly
// when another process holds the file.
func enableWAL(ctx context.Context, db *sql.DB) error {
	var err error
	for range 50 {
		var mode string
		if err = db.QueryRowContext(ctx, "PRAGMA journal_mode=wal").Scan(&mode); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("enable SQLite write-ahead log: %w", err)
}

func sqliteDSN(path string) string {
	q := url.Values{}
	q.Set("_txlock", "immediate")
	q.Set("_timefmt", sqliteTimeFormat)
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(normal)")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// DSN is the connection string the database was opened with (replicas in
// tests open it again).
func (db *DB) DSN() string { return db.dsn }

// Dialect reports the database engine.
func (db *DB) Dialect() Dialect { return db.dialect }

// Close releases the connection pool.
func (db *DB) Close() error {
	if db.stmts != nil {
		db.stmts.close()
	}
	return db.sql.Close()
}

// Ping checks that the database answers; /readyz uses it.
func (db *DB) Ping(ctx context.Context) error { return db.sql.PingContext(ctx) }

// Gorm exposes the GORM handle for packages that build their own queries
// on top of storage's models.
func (db *DB) Gorm(ctx context.Context) *gorm.DB { return db.gorm.WithContext(ctx) }

// Tx runs fn in one transaction. On SQLite it is an immediate transaction,
// so concurrent writers queue instead of failing. Functions given to
// AfterCommit inside fn run once the outermost transaction has committed,
// and never if it rolls back.
//
// On SQLite the process's transactions also take turns in the process
// before they begin: SQLite's own wait for its write lock (the busy
// timeout) polls with sleeps of up to 100 ms, so with several workers
// writing at once most of a transaction's time went to sleeping while the
// lock was free. Waiting here hands the turn over at once. Another process
// on the same file still waits through the busy timeout.
func (db *DB) Tx(ctx context.Context, fn func(tx *DB) error) error {
	if db.writer != nil && db.tx == nil {
		select {
		case db.writer <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		defer func() { <-db.writer }()
	}
	state := &txState{}
	err := db.gorm.WithContext(ctx).Transaction(func(g *gorm.DB) error {
		return fn(&DB{gorm: g, sql: db.sql, dialect: db.dialect, dsn: db.dsn, schema: db.schema, tx: state, writer: db.writer, stmts: db.stmts})
	})
	if err != nil {
		return err
	}
	if db.tx != nil {
		// A nested transaction (a savepoint) commits with its parent.
		db.tx.hooks = append(db.tx.hooks, state.hooks...)
		return nil
	}
	for _, h := range state.hooks {
		h()
	}
	return nil
}

// txState is what a transaction holds until it commits.
type txState struct {
	hooks []func()
}

// AfterCommit runs fn when the transaction db belongs to has committed,
// or at once when db is not a transaction (its writes are already
// committed). fn must not block.
func (db *DB) AfterCommit(fn func()) {
	if db.tx == nil {
		fn()
		return
	}
	db.tx.hooks = append(db.tx.hooks, fn)
}

// InTx reports whether db is a transaction's handle.
func (db *DB) InTx() bool { return db.tx != nil }

// MigrationResult describes one applied migration.
type MigrationResult struct {
	Version  int64
	Source   string
	Duration time.Duration
}

// Migrate applies every pending migration. A lock (PostgreSQL's session
// advisory lock, a lock row on SQLite) makes processes that start together
// apply them once.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) ([]MigrationResult, error) {
	fsys, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return db.migrateFS(ctx, log, fsys)
}

// UndoMigration undoes one applied migration (runs its Down section), so
// that it can be applied again: commonplace-bench's scale scenario times
// the latest migrations on a large database this way.
func (db *DB) UndoMigration(ctx context.Context, version int64) error {
	fsys, err := fs.Sub(migrations, "migrations/"+string(db.dialect))
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	p, err := db.migrationProvider(fsys)
	if err != nil {
		return err
	}
	if _, err := p.ApplyVersion(ctx, version, false); err != nil {
		return fmt.Errorf("undo migration %d: %w", version, err)
	}
	return nil
}

// migrationProvider is goose's, over fsys (one dialect's folder).
func (db *DB) migrationProvider(fsys fs.FS) (*goose.Provider, error) {
	opts := []goose.ProviderOption{goose.WithSessionLocker(sqliteLocker{stale: 10 * time.Minute})}
	gooseDialect := goose.DialectSQLite3
	if db.dialect == Postgres {
		gooseDialect = goose.DialectPostgres
		// The lock is per schema: instances that share a server in
		// different schemas (tests run one per schema, in parallel) do
		// not wait for each other, while replicas of one instance do.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID(db.schema)), lock.WithLockTimeout(1, 300))
		if err != nil {
			return nil, fmt.Errorf("migration lock: %w", err)
		}
		opts = []goose.ProviderOption{goose.WithSessionLocker(locker)}
	}
	// Migrations are numbered by the issue that adds them (00901, 01201…),
	// so they land out of numeric order; an upgraded database applies the
	// ones it has not seen, whatever their number.
	opts = append(opts, goose.WithAllowOutofOrder(true))
	p, err := goose.NewProvider(gooseDialect, db.sql, fsys, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return p, nil
}

// migrateFS applies the migrations in fsys (one dialect's folder).
func (db *DB) migrateFS(ctx context.Context, log *slog.Logger, fsys fs.FS) ([]MigrationResult, error) {
	p, err := db.migrationProvider(fsys)
	if err != nil {
		return nil, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply migrations: %w", err)
	}
	out := make([]MigrationResult, 0, len(results))
	for _, r := range results {
		out = append(out, MigrationResult{Version: r.Source.Version, Source: r.Source.Path, Duration: r.Duration})
		if log != nil {
			log.Info("migration applied", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
		}
	}
	return out, nil
}

// migrationLockID is goose's advisory lock id for the public schema, and
// one derived from the name for any other.
func migrationLockID(schema string) int64 {
	if schema == "" || schema == "public" {
		return lock.DefaultLockID
	}
	h := fnv.New64a()
	h.Write([]byte(schema))
	return lock.DefaultLockID ^ int64(h.Sum64()>>1)
}

// translate maps driver errors to the package's sentinels.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return ErrConflict
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return ErrConflict
	}
	if strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return ErrConflict
	}
	return err
}

// wrap gives an error its operation, keeping sentinels matchable.
func wrap(err error, op string, args ...any) error {
	if err == nil {
		return nil
	}
	err = translate(err)
	return fmt.Errorf("%s: %w", fmt.Sprintf(op, args...), err)
}
