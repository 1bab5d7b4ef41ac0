package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// maxStmts bounds the prepared statements kept per connection pool. Queries are a fixed set
// of texts, except lists that spell out an IN (…) of the client's length: those past the
// bound run unprepared rather than growing the cache without end.
const maxStmts = 512

// stmtCache keeps one prepared statement per query text of a pool. Preparing is what SQLite
// spends most on for the short reads of the hot path (parsing and planning the SQL); database/sql
// prepares a *sql.Stmt on each connection of the pool once and reuses it from then on.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
	// pending are queries first seen in a transaction, prepared after it ends: preparing on
	// the pool needs a connection, and the writer's one is the transaction's until then.
	pending map[string]struct{}
	// closed is set when the store closes: every query then fails as the store being
	// unavailable (database/sql's own "database is closed" error has no type to match).
	closed atomic.Bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: make(map[string]*sql.Stmt), pending: make(map[string]struct{})}
}

// get returns the statement for query, preparing it on first use; nil when the cache is full
// or, in a transaction (inTx), when the query is new (it is prepared by preparePending). No
// lock is held while preparing: that waits for a connection, which a transaction may hold
// while it waits for this cache.
func (c *stmtCache) get(ctx context.Context, query string, inTx bool) (*sql.Stmt, error) {
	c.mu.RLock()
	st, ok := c.m[query]
	full := len(c.m)+len(c.pending) >= maxStmts
	c.mu.RUnlock()
	if ok || full {
		return st, nil
	}
	if inTx {
		c.mu.Lock()
		if len(c.m)+len(c.pending) < maxStmts {
			c.pending[query] = struct{}{}
		}
		c.mu.Unlock()
		return nil, nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	return c.keep(query, st), nil
}

// keep stores st for query and returns the statement to use: the one another caller prepared
// meanwhile, if any, or st; nil when the cache filled up meanwhile.
func (c *stmtCache) keep(query string, st *sql.Stmt) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok {
		st.Close()
		return prev
	}
	if len(c.m) >= maxStmts {
		st.Close()
		return nil
	}
	c.m[query] = st
	return st
}

// preparePending prepares the queries first seen in a transaction, once it has ended. A query
// that fails to prepare is dropped: it runs unprepared, and reports its error, as before.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	var qs []string
	for q := range c.pending {
		qs = append(qs, q)
		delete(c.pending, q)
	}
	c.mu.Unlock()
	for _, q := range qs {
		if st, err := c.db.PrepareContext(ctx, q); err == nil {
			c.keep(q, st)
		}
	}
}

func (c *stmtCache) close() {
	c.closed.Store(true)
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// prepared is a querier that runs each query through the pool's statement cache, on the pool
// or, when tx is set, on the transaction (which reuses the statement already prepared on its
// connection).
type prepared struct {
	c  *stmtCache
	tx *sql.Tx
}

func (p prepared) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if p.c.closed.Load() {
		return nil, errClosed()
	}
	st, err := p.c.get(ctx, query, p.tx != nil)
	if err != nil || st == nil {
		return nil, err
	}
	if p.tx != nil {
		return p.tx.StmtContext(ctx, st), nil
	}
	return st, nil
}

func (p prepared) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		if p.tx != nil {
			return p.tx.ExecContext(ctx, query, args...)
		}
		return p.c.db.ExecContext(ctx, query, args...)
	}
	return st.ExecContext(ctx, args...)
}

func (p prepared) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := p.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if st == nil {
		if p.tx != nil {
			return p.tx.QueryContext(ctx, query, args...)
		}
		return p.c.db.QueryContext(ctx, query, args...)
	}
	return st.QueryContext(ctx, args...)
}

// QueryRowContext returns a row whose Scan reports a failed prepare, as sql.Row does for a
// failed query, and a closed store as unavailable.
func (p prepared) QueryRowContext(ctx context.Context, query string, args ...any) row {
	st, err := p.stmt(ctx, query)
	if err != nil && p.c.closed.Load() {
		return failedRow{err}
	}
	if err != nil || st == nil {
		// Unprepared: the driver reports the same error again through the Row.
		if p.tx != nil {
			return p.tx.QueryRowContext(ctx, query, args...)
		}
		return p.c.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

// row is one row of a query: *sql.Row, or failedRow.
type row interface{ Scan(dest ...any) error }

// failedRow is a row whose query could not run.
type failedRow struct{ err error }

func (r failedRow) Scan(...any) error { return r.err }
