package sqldb

import (
	"context"
	"database/sql"
	"strconv"
	"sync"
)

// maxCachedStmts bounds each statement cache: list queries vary with their
// filters, and a query beyond the bound is simply prepared each time.
const maxCachedStmts = 256

// stmtCache keeps prepared statements by query text. SQLite parses a query
// on every call otherwise (a multi-row upsert costs more to parse than to
// run); PostgreSQL needs none (pgx caches its prepared statements itself).
//
// The writer's single connection cannot prepare while a transaction holds
// it, so the write cache only notes the queries it misses (lookup) and
// prepares them once the transaction has ended (preparePending).
type stmtCache struct {
	mu      sync.Mutex
	m       map[string]*sql.Stmt
	pending map[string]bool
	closed  bool
}

// get returns the statement of query, preparing it on pool if needed.
func (c *stmtCache) get(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st, nil
	}
	if len(c.m) >= maxCachedStmts {
		return nil, nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*sql.Stmt{}
	}
	c.m[query] = st
	return st, nil
}

// lookup returns the statement of query, or nil after noting it for
// preparePending.
func (c *stmtCache) lookup(query string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[query]; ok {
		return st
	}
	if len(c.m)+len(c.pending) < maxCachedStmts {
		if c.pending == nil {
			c.pending = map[string]bool{}
		}
		c.pending[query] = true
	}
	return nil
}

// preparePending prepares the queries lookup missed. Failures are left
// for the next time (the queries run unprepared meanwhile).
func (c *stmtCache) preparePending(ctx context.Context, pool *sql.DB) {
	c.mu.Lock()
	todo := c.pending
	c.pending = nil
	c.mu.Unlock()
	for q := range todo {
		st, err := pool.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if _, ok := c.m[q]; ok || c.m == nil && c.closed {
			st.Close()
		} else {
			if c.m == nil {
				c.m = map[string]*sql.Stmt{}
			}
			c.m[q] = st
		}
		c.mu.Unlock()
	}
}

// hasPending reports whether preparePending has work.
func (c *stmtCache) hasPending() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending) > 0
}

func (c *stmtCache) close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var first error
	for _, st := range c.m {
		if err := st.Close(); err != nil && first == nil {
			first = err
		}
	}
	c.m, c.pending, c.closed = nil, nil, true
	return first
}

// txExec runs query (with "?" placeholders) in tx, through a cached
// prepared statement on SQLite.
func (db *DB) txExec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	query = db.q(query)
	if db.dialect == SQLite {
		if st := db.wstmts.lookup(query); st != nil {
			return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		}
	}
	return tx.ExecContext(ctx, query, args...)
}

// txQuery is txExec for a query returning rows.
func (db *DB) txQuery(ctx context.Context, tx *sql.Tx, query string, args ...any) (*sql.Rows, error) {
	query = db.q(query)
	if db.dialect == SQLite {
		if st := db.wstmts.lookup(query); st != nil {
			return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
		}
	}
	return tx.QueryContext(ctx, query, args...)
}

// txQueryRow is txQuery for one row.
func (db *DB) txQueryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	query = db.q(query)
	if db.dialect == SQLite {
		if st := db.wstmts.lookup(query); st != nil {
			return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
		}
	}
	return tx.QueryRowContext(ctx, query, args...)
}

// readQuery runs query on the read pool, through a cached prepared
// statement on SQLite.
func (db *DB) readQuery(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	query = db.q(query)
	if db.dialect == SQLite {
		st, err := db.rstmts.get(ctx, db.read, query)
		if err != nil {
			return nil, err
		}
		if st != nil {
			return st.QueryContext(ctx, args...)
		}
	}
	return db.read.QueryContext(ctx, query, args...)
}

// readQueryRow is readQuery for one row.
func (db *DB) readQueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	query = db.q(query)
	if db.dialect == SQLite {
		if st, err := db.rstmts.get(ctx, db.read, query); err == nil && st != nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return db.read.QueryRowContext(ctx, query, args...)
}

// idsCond returns a condition on col matching every id of a list passed as
// one argument (so one prepared statement serves every list length), and
// that argument.
func (db *DB) idsCond(col string, ids []int64) (string, any) {
	if db.dialect == Postgres {
		return col + " = ANY(?)", ids
	}
	return col + " IN (SELECT value FROM json_each(?))", jsonIDs(ids)
}

func jsonIDs(ids []int64) string {
	b := make([]byte, 0, len(ids)*8+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}
