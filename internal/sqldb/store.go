package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// Checkpoint is where a run stands, committed with each page: the next page
// to fetch (1-based) and, for orders, the modifiedAfter of the window in
// progress (it advances only once the window's rows are committed).
type Checkpoint struct {
	NextPage    int
	TotalPages  int
	OrderCursor time.Time
}

// Resume tells a new run where to start. For products and offers a scan left
// open by an earlier run (crashed, failed or cancelled) is continued: ScanID
// stays the same and Checkpoint.NextPage is the first page not committed.
type Resume struct {
	// Resumed is true when the run continues an open scan.
	Resumed bool
	// InterruptedRunID is the run found running with a stale heartbeat (a
	// crash), now marked failed; 0 if none.
	InterruptedRunID int64
	// ScanID identifies the product scan the run belongs to; MarkGone
	// compares what this scan saw against the table.
	ScanID     int64
	Checkpoint Checkpoint
}

// PageResult counts what one page did to the tables.
type PageResult struct {
	Inserted  int
	Updated   int
	Unchanged int
}

// Add returns r+o.
func (r PageResult) Add(o PageResult) PageResult {
	return PageResult{Inserted: r.Inserted + o.Inserted, Updated: r.Updated + o.Updated, Unchanged: r.Unchanged + o.Unchanged}
}

// RunningError is the cause of the EConflict StartRun returns when the
// account and stream already have a live run.
type RunningError struct {
	RunID   int64
	Account string
	Stream  magflow.Stream
}

// Error implements error.
func (e *RunningError) Error() string {
	return fmt.Sprintf("a %s sync of account %s is already running (run %d)", e.Stream, e.Account, e.RunID)
}

// RunningRunID returns the id of the run that made StartRun fail with
// EConflict.
func RunningRunID(err error) (int64, bool) {
	var re *RunningError
	if errors.As(err, &re) {
		return re.RunID, true
	}
	return 0, false
}

// execer is what *sql.Tx and *sql.DB share.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// placeholders returns "(?, ?, ...)" with n marks.
func placeholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// upsert inserts rows (each len(cols) values) in multi-row statements;
// on a conflict over key it overwrites every column but key and keep, plus
// the extra SET clauses.
func (db *DB) upsert(ctx context.Context, tx execer, table string, cols, key, keep []string, extra string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	skip := map[string]bool{}
	for _, c := range append(append([]string{}, key...), keep...) {
		skip[c] = true
	}
	var set []string
	for _, c := range cols {
		if !skip[c] {
			set = append(set, c+" = excluded."+c)
		}
	}
	if extra != "" {
		set = append(set, extra)
	}
	per := max(1, 2000/len(cols))
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(len(rows), start+per)]
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		ph := placeholders(len(cols))
		args := make([]any, 0, len(chunk)*len(cols))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(ph)
			args = append(args, r...)
		}
		b.WriteString(" ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET " + strings.Join(set, ", "))
		if _, err := tx.ExecContext(ctx, db.q(b.String()), args...); err != nil {
			return fmt.Errorf("upsert %s: %w", table, err)
		}
	}
	return nil
}

// inList returns "(?, ?, ...)" and the args for ids.
func inList[T any](ids []T) (string, []any) {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	return placeholders(len(ids)), args
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

func timePtr(n sql.NullTime) *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.Time.UTC()
	return &t
}

func nonNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}
