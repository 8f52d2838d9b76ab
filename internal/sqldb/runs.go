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

// StartRun opens a running run for account and stream.
//
// Single flight: when another run of the pair is running with a fresh
// heartbeat (within Lease), it fails with EConflict whose cause is a
// *RunningError naming that run (see RunningRunID). A running run whose
// heartbeat is stale is taken to have crashed: it is marked failed
// ("interrupted") and the new run resumes its open scan from the checkpoint.
// Orders runs always get the stored order cursor.
func (db *DB) StartRun(ctx context.Context, account string, stream magflow.Stream, trigger string) (magflow.SyncRun, Resume, error) {
	if _, err := magflow.ParseStream(string(stream)); err != nil {
		return magflow.SyncRun{}, Resume{}, err
	}
	if account == "" {
		return magflow.SyncRun{}, Resume{}, &magflow.Error{Code: magflow.EInvalid, Field: "account", Message: "account is required"}
	}
	var run magflow.SyncRun
	var res Resume
	err := db.inTx(ctx, fmt.Sprintf("start %s %s run", account, stream), func(tx *sql.Tx) error {
		now := db.now()
		run, res = magflow.SyncRun{}, Resume{}
		var id int64
		var hb time.Time
		var owner string
		err := tx.QueryRowContext(ctx, db.q("SELECT id, heartbeat_at, owner FROM emag_sync_logs WHERE account = ? AND stream = ? AND status = ?"),
			account, string(stream), string(magflow.RunRunning)).Scan(&id, &hb, &owner)
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return fmt.Errorf("find running run: %w", err)
		case ownerDead(owner):
			reason := fmt.Sprintf("interrupted: its process %s died", owner)
			if _, err := tx.ExecContext(ctx, db.q("UPDATE emag_sync_logs SET status = ?, reason = ?, finished_at = ? WHERE id = ?"),
				string(magflow.RunFailed), reason, now, id); err != nil {
				return fmt.Errorf("mark run %d interrupted: %w", id, err)
			}
			res.InterruptedRunID = id
			db.logger.Warn("took over a sync run whose process died", "account", account, "stream", stream, "run", id, "owner", owner)
		case now.Sub(hb) < db.lease():
			return &magflow.Error{Code: magflow.EConflict, Message: (&RunningError{RunID: id, Account: account, Stream: stream}).Error(),
				Err: &RunningError{RunID: id, Account: account, Stream: stream}}
		default:
			reason := fmt.Sprintf("interrupted: no heartbeat since %s", hb.UTC().Format(time.RFC3339))
			if _, err := tx.ExecContext(ctx, db.q("UPDATE emag_sync_logs SET status = ?, reason = ?, finished_at = ? WHERE id = ?"),
				string(magflow.RunFailed), reason, now, id); err != nil {
				return fmt.Errorf("mark run %d interrupted: %w", id, err)
			}
			res.InterruptedRunID = id
			db.logger.Warn("took over an interrupted sync run", "account", account, "stream", stream, "run", id, "last_heartbeat", hb)
		}

		var cp struct {
			scanID, next, total int64
			open                bool
			cursor              sql.NullTime
		}
		err = tx.QueryRowContext(ctx, db.q("SELECT scan_id, scan_open, next_page, total_pages, order_cursor FROM emag_sync_checkpoints WHERE account = ? AND stream = ?"),
			account, string(stream)).Scan(&cp.scanID, &cp.open, &cp.next, &cp.total, &cp.cursor)
		if err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("read checkpoint: %w", err)
		}
		if cp.cursor.Valid {
			res.Checkpoint.OrderCursor = cp.cursor.Time.UTC()
		}
		if cp.open {
			res.Resumed = true
			res.ScanID = cp.scanID
			res.Checkpoint.NextPage = int(cp.next)
			res.Checkpoint.TotalPages = int(cp.total)
		}

		err = tx.QueryRowContext(ctx, db.q(`INSERT INTO emag_sync_logs (account, stream, status, trigger, scan_id, resumed_from, started_at, heartbeat_at, owner)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), account, string(stream), string(magflow.RunRunning), trigger, res.ScanID, res.InterruptedRunID, now, now, db.owner).Scan(&run.ID)
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		if !res.Resumed {
			res.ScanID = run.ID
			if _, err := tx.ExecContext(ctx, db.q("UPDATE emag_sync_logs SET scan_id = ? WHERE id = ?"), run.ID, run.ID); err != nil {
				return fmt.Errorf("set scan: %w", err)
			}
			// A new scan starts: what abandoned scans saw no longer counts.
			if _, err := tx.ExecContext(ctx, db.q("DELETE FROM emag_scan_seen WHERE account = ? AND stream = ?"), account, string(stream)); err != nil {
				return fmt.Errorf("clear seen ids: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, db.q("INSERT INTO emag_sync_progress (run_id, account, stream, updated_at) VALUES (?, ?, ?, ?)"),
			run.ID, account, string(stream), now); err != nil {
			return fmt.Errorf("insert progress: %w", err)
		}
		run.Account, run.Stream, run.Status, run.Trigger, run.StartedAt = account, stream, magflow.RunRunning, trigger, now
		return nil
	})
	if err != nil {
		// Another process won the race for the running slot.
		if magflow.ErrorCode(err) == magflow.EConflict {
			if _, ok := RunningRunID(err); !ok {
				var id int64
				if qerr := db.write.QueryRowContext(ctx, db.q("SELECT id FROM emag_sync_logs WHERE account = ? AND stream = ? AND status = ?"),
					account, string(stream), string(magflow.RunRunning)).Scan(&id); qerr == nil {
					re := &RunningError{RunID: id, Account: account, Stream: stream}
					return magflow.SyncRun{}, Resume{}, &magflow.Error{Code: magflow.EConflict, Message: re.Error(), Err: re}
				}
			}
		}
		return magflow.SyncRun{}, Resume{}, err
	}
	return run, res, nil
}

// Heartbeat renews the lease of a running run. It fails with EConflict when
// the run is no longer running (finished, or taken over).
func (db *DB) Heartbeat(ctx context.Context, runID int64) error {
	return db.inTx(ctx, fmt.Sprintf("heartbeat run %d", runID), func(tx *sql.Tx) error {
		if _, err := db.liveRun(ctx, tx, runID, ""); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.q("UPDATE emag_sync_logs SET heartbeat_at = ? WHERE id = ?"), db.now(), runID)
		return err
	})
}

// UpdateProgress overwrites the live counters of a running run with the
// engine's view, with its rate (items per second) and ETA, and renews its
// heartbeat.
func (db *DB) UpdateProgress(ctx context.Context, runID int64, c magflow.RunCounters, rate float64, eta time.Duration) error {
	return db.inTx(ctx, fmt.Sprintf("update progress of run %d", runID), func(tx *sql.Tx) error {
		if _, err := db.liveRun(ctx, tx, runID, ""); err != nil {
			return err
		}
		now := db.now()
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE emag_sync_progress SET page = ?, total_pages = ?, items = ?, inserted = ?, updated = ?, unchanged = ?,
requests = ?, retries = ?, throttled = ?, holes = ?, rate = ?, eta_seconds = ?, updated_at = ? WHERE run_id = ?`),
			c.Page, c.TotalPages, c.Items, c.Inserted, c.Updated, c.Unchanged, c.Requests, c.Retries, c.Throttled, c.Holes,
			rate, eta.Seconds(), now, runID); err != nil {
			return err
		}
		return db.writeCounters(ctx, tx, runID, c, now)
	})
}

func (db *DB) writeCounters(ctx context.Context, tx execer, runID int64, c magflow.RunCounters, now time.Time) error {
	_, err := tx.ExecContext(ctx, db.q(`UPDATE emag_sync_logs SET pages = ?, total_pages = ?, items = ?, inserted = ?, updated = ?, unchanged = ?,
gone = CASE WHEN ? > gone THEN ? ELSE gone END, duplicates = ?, requests = ?, retries = ?, throttled = ?, holes = ?, heartbeat_at = ? WHERE id = ?`),
		c.Page, c.TotalPages, c.Items, c.Inserted, c.Updated, c.Unchanged, c.Gone, c.Gone, c.Duplicates, c.Requests, c.Retries,
		c.Throttled, c.Holes, now, runID)
	return err
}

// FinishRun ends a running run with a terminal status, its final counters,
// a reason (when not completed) and whether --max-pages capped it. A
// completed, partial or capped products/offers run closes its scan (the next
// run starts a new one; holes are fetched first); a failed or cancelled one
// leaves the scan open so the next run resumes it.
func (db *DB) FinishRun(ctx context.Context, runID int64, status magflow.RunStatus, c magflow.RunCounters, reason string, capped bool) error {
	if !status.Finished() {
		return &magflow.Error{Code: magflow.EInvalid, Field: "status", Message: fmt.Sprintf("%q is not a terminal run status", status)}
	}
	return db.inTx(ctx, fmt.Sprintf("finish run %d", runID), func(tx *sql.Tx) error {
		ri, err := db.liveRun(ctx, tx, runID, "")
		if err != nil {
			return err
		}
		now := db.now()
		if err := db.writeCounters(ctx, tx, runID, c, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q("UPDATE emag_sync_logs SET status = ?, reason = ?, capped = ?, finished_at = ? WHERE id = ?"),
			string(status), reason, capped, now, runID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE emag_sync_progress SET page = ?, total_pages = ?, items = ?, inserted = ?, updated = ?, unchanged = ?,
requests = ?, retries = ?, throttled = ?, holes = ?, eta_seconds = 0, updated_at = ? WHERE run_id = ?`),
			c.Page, c.TotalPages, c.Items, c.Inserted, c.Updated, c.Unchanged, c.Requests, c.Retries, c.Throttled, c.Holes, now, runID); err != nil {
			return err
		}
		closeScan := status == magflow.RunCompleted || status == magflow.RunPartial || capped
		if closeScan {
			if _, err := tx.ExecContext(ctx, db.q("UPDATE emag_sync_checkpoints SET scan_open = ?, next_page = 0, updated_at = ? WHERE account = ? AND stream = ?"),
				false, now, ri.account, string(ri.stream)); err != nil {
				return err
			}
		}
		return nil
	})
}

// CancelRequested and friends live in the engine; the store only records.

// Progress is the live state of one run.
type Progress struct {
	RunID     int64
	Account   string
	Stream    magflow.Stream
	Status    magflow.RunStatus
	Counters  magflow.RunCounters
	Rate      float64 // items per second
	ETA       time.Duration
	StartedAt time.Time
	UpdatedAt time.Time
}

// RunningProgress returns the live progress of every running run, or of one
// account's when account is not empty, ordered by account and stream.
func (db *DB) RunningProgress(ctx context.Context, account string) ([]Progress, error) {
	q := `SELECT p.run_id, p.account, p.stream, l.status, p.page, p.total_pages, p.items, p.inserted, p.updated, p.unchanged,
p.requests, p.retries, p.throttled, p.holes, p.rate, p.eta_seconds, l.started_at, p.updated_at
FROM emag_sync_progress p JOIN emag_sync_logs l ON l.id = p.run_id WHERE l.status = ?`
	args := []any{string(magflow.RunRunning)}
	if account != "" {
		q += " AND p.account = ?"
		args = append(args, account)
	}
	q += " ORDER BY p.account, p.stream"
	return db.progress(ctx, q, args...)
}

// RunProgress returns the progress of one run (running or finished).
func (db *DB) RunProgress(ctx context.Context, runID int64) (Progress, error) {
	ps, err := db.progress(ctx, `SELECT p.run_id, p.account, p.stream, l.status, p.page, p.total_pages, p.items, p.inserted, p.updated, p.unchanged,
p.requests, p.retries, p.throttled, p.holes, p.rate, p.eta_seconds, l.started_at, p.updated_at
FROM emag_sync_progress p JOIN emag_sync_logs l ON l.id = p.run_id WHERE p.run_id = ?`, runID)
	if err != nil {
		return Progress{}, err
	}
	if len(ps) == 0 {
		return Progress{}, magflow.Errorf(magflow.ENotFound, "no progress for sync run %d", runID)
	}
	return ps[0], nil
}

func (db *DB) progress(ctx context.Context, q string, args ...any) ([]Progress, error) {
	rows, err := db.read.QueryContext(ctx, db.q(q), args...)
	if err != nil {
		return nil, db.wrap("read progress", err)
	}
	defer rows.Close()
	var out []Progress
	for rows.Next() {
		var p Progress
		var eta float64
		c := &p.Counters
		if err := rows.Scan(&p.RunID, &p.Account, &p.Stream, &p.Status, &c.Page, &c.TotalPages, &c.Items, &c.Inserted, &c.Updated,
			&c.Unchanged, &c.Requests, &c.Retries, &c.Throttled, &c.Holes, &p.Rate, &eta, &p.StartedAt, &p.UpdatedAt); err != nil {
			return nil, db.wrap("read progress", err)
		}
		p.ETA = time.Duration(eta * float64(time.Second))
		p.StartedAt, p.UpdatedAt = p.StartedAt.UTC(), p.UpdatedAt.UTC()
		out = append(out, p)
	}
	return out, db.wrap("read progress", rows.Err())
}

const runCols = `id, account, stream, status, trigger, started_at, finished_at, capped, reason, pages, total_pages, items, inserted,
updated, unchanged, gone, duplicates, requests, retries, throttled, holes, heartbeat_at`

// Run is a sync run as stored, with the lease heartbeat.
type Run struct {
	magflow.SyncRun
	HeartbeatAt time.Time
}

func scanRun(sc interface{ Scan(...any) error }) (Run, error) {
	var r Run
	var fin sql.NullTime
	c := &r.Counters
	err := sc.Scan(&r.ID, &r.Account, &r.Stream, &r.Status, &r.Trigger, &r.StartedAt, &fin, &r.Capped, &r.Reason, &c.Page,
		&c.TotalPages, &c.Items, &c.Inserted, &c.Updated, &c.Unchanged, &c.Gone, &c.Duplicates, &c.Requests, &c.Retries,
		&c.Throttled, &c.Holes, &r.HeartbeatAt)
	r.StartedAt, r.HeartbeatAt = r.StartedAt.UTC(), r.HeartbeatAt.UTC()
	r.FinishedAt = timePtr(fin)
	return r, err
}

// RunFilter selects runs. Zero fields do not filter.
type RunFilter struct {
	Account string
	Stream  magflow.Stream
	Status  magflow.RunStatus
	Trigger string
	Since   time.Time // started at or after
	Until   time.Time // started before
	Limit   int       // default 50, at most 1000
	Offset  int
}

// ListRuns returns runs newest first and the total count matching f.
func (db *DB) ListRuns(ctx context.Context, f RunFilter) ([]Run, int, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Account != "" {
		add("account = ?", f.Account)
	}
	if f.Stream != "" {
		add("stream = ?", string(f.Stream))
	}
	if f.Status != "" {
		add("status = ?", string(f.Status))
	}
	if f.Trigger != "" {
		add("trigger = ?", f.Trigger)
	}
	if !f.Since.IsZero() {
		add("started_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		add("started_at < ?", f.Until.UTC())
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var total int
	if err := db.read.QueryRowContext(ctx, db.q("SELECT COUNT(*) FROM emag_sync_logs"+w), args...).Scan(&total); err != nil {
		return nil, 0, db.wrap("count runs", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	rows, err := db.read.QueryContext(ctx, db.q("SELECT "+runCols+" FROM emag_sync_logs"+w+" ORDER BY id DESC LIMIT ? OFFSET ?"),
		append(args, limit, max(0, f.Offset))...)
	if err != nil {
		return nil, 0, db.wrap("list runs", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, 0, db.wrap("list runs", err)
		}
		out = append(out, r)
	}
	return out, total, db.wrap("list runs", rows.Err())
}

// GetRun returns one run with the holes it recorded.
func (db *DB) GetRun(ctx context.Context, runID int64) (Run, []magflow.Hole, error) {
	r, err := scanRun(db.read.QueryRowContext(ctx, db.q("SELECT "+runCols+" FROM emag_sync_logs WHERE id = ?"), runID))
	if errors.Is(err, sql.ErrNoRows) {
		return Run{}, nil, magflow.Errorf(magflow.ENotFound, "sync run %d not found", runID)
	}
	if err != nil {
		return Run{}, nil, db.wrap("get run", err)
	}
	holes, err := db.holes(ctx, "run_id = ?", runID)
	return r, holes, err
}

// LatestRuns returns the newest run of every account and stream (or of one
// account when account is not empty), ordered by account and stream.
func (db *DB) LatestRuns(ctx context.Context, account string) ([]Run, error) {
	q := "SELECT " + runCols + " FROM emag_sync_logs WHERE id IN (SELECT MAX(id) FROM emag_sync_logs GROUP BY account, stream)"
	var args []any
	if account != "" {
		q += " AND account = ?"
		args = append(args, account)
	}
	rows, err := db.read.QueryContext(ctx, db.q(q+" ORDER BY account, stream"), args...)
	if err != nil {
		return nil, db.wrap("latest runs", err)
	}
	defer rows.Close()
	var out []Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, db.wrap("latest runs", err)
		}
		out = append(out, r)
	}
	return out, db.wrap("latest runs", rows.Err())
}

// RecordHole records that a page failed after every retry. An open hole for
// the same account, stream and page is updated (tries add up).
func (db *DB) RecordHole(ctx context.Context, h magflow.Hole) error {
	return db.inTx(ctx, fmt.Sprintf("record hole %s %s page %d", h.Account, h.Stream, h.Page), func(tx *sql.Tx) error {
		now := db.now()
		tries := max(1, h.Tries)
		r, err := tx.ExecContext(ctx, db.q(`UPDATE emag_sync_holes SET run_id = ?, error = ?, tries = tries + ?, updated_at = ?
WHERE account = ? AND stream = ? AND page = ? AND resolved_at IS NULL`), h.RunID, h.Error, tries, now, h.Account, string(h.Stream), h.Page)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO emag_sync_holes (account, stream, page, run_id, error, tries, created_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`), h.Account, string(h.Stream), h.Page, h.RunID, h.Error, tries, now, now); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, db.q("UPDATE emag_sync_logs SET holes = (SELECT COUNT(*) FROM emag_sync_holes WHERE run_id = ?) WHERE id = ?"), h.RunID, h.RunID)
		return err
	})
}

// Holes returns the open holes of an account and stream by page.
func (db *DB) Holes(ctx context.Context, account string, stream magflow.Stream) ([]magflow.Hole, error) {
	return db.holes(ctx, "account = ? AND stream = ? AND resolved_at IS NULL", account, string(stream))
}

func (db *DB) holes(ctx context.Context, where string, args ...any) ([]magflow.Hole, error) {
	rows, err := db.read.QueryContext(ctx, db.q("SELECT account, stream, page, run_id, error, tries FROM emag_sync_holes WHERE "+where+" ORDER BY page, id"), args...)
	if err != nil {
		return nil, db.wrap("read holes", err)
	}
	defer rows.Close()
	var out []magflow.Hole
	for rows.Next() {
		var h magflow.Hole
		if err := rows.Scan(&h.Account, &h.Stream, &h.Page, &h.RunID, &h.Error, &h.Tries); err != nil {
			return nil, db.wrap("read holes", err)
		}
		out = append(out, h)
	}
	return out, db.wrap("read holes", rows.Err())
}

// ResolveHole closes the open hole of a page, filled by runID. Pages applied
// with ApplyProductPage resolve their hole themselves.
func (db *DB) ResolveHole(ctx context.Context, account string, stream magflow.Stream, page int, runID int64) error {
	return db.inTx(ctx, fmt.Sprintf("resolve hole %s %s page %d", account, stream, page), func(tx *sql.Tx) error {
		return db.resolveHoleTx(ctx, tx, account, stream, page, runID, db.now())
	})
}

func (db *DB) resolveHoleTx(ctx context.Context, tx execer, account string, stream magflow.Stream, page int, runID int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, db.q(`UPDATE emag_sync_holes SET resolved_at = ?, resolved_run_id = ?, updated_at = ?
WHERE account = ? AND stream = ? AND page = ? AND resolved_at IS NULL`), now, runID, now, account, string(stream), page); err != nil {
		return fmt.Errorf("resolve hole: %w", err)
	}
	return nil
}
