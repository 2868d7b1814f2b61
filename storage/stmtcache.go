package storage

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// maxCachedStmts bounds stmtCache. The statements GORM and this package
// build are a few hundred shapes; ones past the bound are prepared for
// each use, as without the cache.
const maxCachedStmts = 1024

// stmtCache is GORM's connection pool on SQLite: it keeps every statement
// prepared, on each connection, instead of parsing its SQL for each use.
// SQLite compiles a statement's SQL into a program when it is prepared,
// and with the WebAssembly build that was about a quarter of the CPU of
// processing an activity.
//
// GORM's own PrepareStmt does not do this for statements first run in a
// transaction (most of ours): it prepares them on the transaction, and
// database/sql closes those when the transaction ends. Here they are
// prepared on the pool, and a transaction runs them through
// sql.Tx.StmtContext, which reuses what its connection has prepared.
// SQLite re-prepares a statement by itself when the schema changes.
type stmtCache struct {
	db *sql.DB

	mu      sync.RWMutex
	stmts   map[string]*sql.Stmt
	pending map[string]bool // being prepared in the background
}

var (
	_ gorm.ConnPool         = (*stmtCache)(nil)
	_ gorm.ConnPoolBeginner = (*stmtCache)(nil)
	_ gorm.GetDBConnector   = (*stmtCache)(nil)
	_ gorm.Tx               = (*stmtCacheTx)(nil)
	_ gorm.GetDBConnector   = (*stmtCacheTx)(nil)
)

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: make(map[string]*sql.Stmt), pending: make(map[string]bool)}
}

// cacheable leaves out what is run once: savepoints (named at random by
// GORM) and transaction control.
func cacheable(query string) bool {
	q := strings.TrimLeft(query, " \t\r\n")
	if len(q) < 8 {
		return false
	}
	switch strings.ToUpper(q[:4]) {
	case "SAVE", "RELE", "ROLL", "BEGI", "COMM", "PRAG", "VACU":
		return false
	}
	return true
}

// stmt returns the cached statement for query, nil when there is none
// (the caller runs query unprepared). A statement not yet cached is
// prepared here outside transactions, and in the background for a
// transaction: preparing on the pool takes a second connection, which a
// transaction must not wait for while it holds one.
func (c *stmtCache) stmt(ctx context.Context, query string, inTx bool) *sql.Stmt {
	if !cacheable(query) {
		return nil
	}
	c.mu.RLock()
	st, ok := c.stmts[query]
	full := len(c.stmts) >= maxCachedStmts
	c.mu.RUnlock()
	if ok || full {
		return st
	}
	if inTx {
		c.mu.Lock()
		started := c.pending[query]
		c.pending[query] = true
		c.mu.Unlock()
		if !started {
			go c.prepare(context.WithoutCancel(ctx), query)
		}
		return nil
	}
	return c.prepare(ctx, query)
}

func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	st, err := c.db.PrepareContext(ctx, query)
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.pending, query)
	if err != nil {
		return nil // run unprepared, which reports the error
	}
	if old, ok := c.stmts[query]; ok {
		st.Close() // prepared twice at once
		return old
	}
	if len(c.stmts) >= maxCachedStmts {
		st.Close()
		return nil
	}
	c.stmts[query] = st
	return st
}

func (c *stmtCache) GetDBConn() (*sql.DB, error) { return c.db, nil }

func (c *stmtCache) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return c.db.PrepareContext(ctx, query)
}

func (c *stmtCache) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := c.stmt(ctx, query, false); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, query, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, query, false); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, query, args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := c.stmt(ctx, query, false); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, query, args...)
}

func (c *stmtCache) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	tx, err := c.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &stmtCacheTx{Tx: tx, c: c}, nil
}

// close releases the prepared statements.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.stmts {
		st.Close()
		delete(c.stmts, q)
	}
}

// stmtCacheTx is a transaction on stmtCache.
type stmtCacheTx struct {
	*sql.Tx
	c *stmtCache
}

func (t *stmtCacheTx) GetDBConn() (*sql.DB, error) { return t.c.db, nil }

func (t *stmtCacheTx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if st := t.c.stmt(ctx, query, true); st != nil {
		return t.Tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return t.Tx.ExecContext(ctx, query, args...)
}

func (t *stmtCacheTx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if st := t.c.stmt(ctx, query, true); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return t.Tx.QueryContext(ctx, query, args...)
}

func (t *stmtCacheTx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if st := t.c.stmt(ctx, query, true); st != nil {
		return t.Tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return t.Tx.QueryRowContext(ctx, query, args...)
}
