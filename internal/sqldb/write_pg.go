package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/magflow/magflow"
)

// pgPageCommitMode sets synchronous_commit = off for a page transaction
// (pgPageLookup runs it, without a round trip of its own).
//
// The page commits without waiting for its WAL flush. A crash of the
// PostgreSQL server may then lose the last pages committed before it, but
// never part of one: the page's rows and the checkpoint that records them
// commit in the same transaction, and WAL is replayed in order, so a lost
// page takes its checkpoint with it and the resumed run fetches the page
// again. Everything else (runs, holes, MarkGone, orders' cursors) commits
// synchronously, and its flush makes the earlier pages durable too. SQLite
// in WAL mode with synchronous=NORMAL gives the same guarantee already.
const pgPageCommitMode = "SELECT set_config('synchronous_commit', 'off', true)"

// pgPageLookup reads, in one statement, the run a page belongs to and the
// stored hashes of the page's products (kind 1) and offers (kind 2), and
// sets synchronous_commit = off for the transaction (see pgPageCommitMode).
//
// Each id is looked up by its own probe of the primary key (a LATERAL
// subquery with LIMIT 1), whatever the statistics say: "account = ? AND id
// = ANY(?)" was planned on the offers, whose statistics lag a first sync,
// as a scan of every offer of the account filtered by the ids (2.5 ms at
// 7,500 offers, growing with the table), and a join on the unnested ids as
// a hash join over the same scan.
//
// The page statements are prepared once per connection and, after five
// runs, PostgreSQL may keep generic plans. Earlier page statements needed
// plan_cache_mode = force_custom_plan because their generic plans, made
// while a first sync's tables were nearly empty, scanned more and more as
// the tables filled. These need none: the generic plans of both statements
// are the primary-key probes above, the unnest of the arrays, and index
// lookups of one hole, progress and run row; and planning afresh cost about
// 6% of PostgreSQL's CPU during page writes (copying the page's arrays into
// each custom plan). Page times stay flat over 2 x 50,000 products.
const pgPageLookup = `SELECT 0, 0::bigint, '', false, l.account, l.stream, l.scan_id, l.status, l.started_at
FROM emag_sync_logs l, (` + pgPageCommitMode + `) c
WHERE l.id = ?
UNION ALL
SELECT 1, u.id, x.content_hash, x.gone, '', '', 0, '', NULL FROM unnest(?::bigint[]) AS u(id)
CROSS JOIN LATERAL (SELECT content_hash, gone_at IS NOT NULL AS gone FROM emag_products p WHERE p.account = ? AND p.id = u.id LIMIT 1) x
UNION ALL
SELECT 2, u.id, x.content_hash, x.gone, '', '', 0, '', NULL FROM unnest(?::bigint[]) AS u(id)
CROSS JOIN LATERAL (SELECT content_hash, gone_at IS NOT NULL AS gone FROM emag_product_offers o WHERE o.account = ? AND o.product_id = u.id LIMIT 1) x`

// pgPageWrites are the texts of the page's write statement, by which of
// its optional parts it has (see pgPageWrite).
var pgPageWrites [8]struct {
	once sync.Once
	text string
}

// pgPageWrite returns the one statement that writes a page on PostgreSQL:
// the product and offer upserts (when the page changed any), its seen ids
// (when the run scans), the hole resolution, the checkpoint, the progress
// and the run's counters, as data-modifying common table expressions. The
// bookkeeping statements are the ones saveCheckpoint, resolveHoleTx and
// advanceProgress run on SQLite, with their arguments in the same order.
func pgPageWrite(products, offers, seen bool) string {
	k := 0
	if products {
		k |= 1
	}
	if offers {
		k |= 2
	}
	if seen {
		k |= 4
	}
	w := &pgPageWrites[k]
	w.once.Do(func() {
		var ctes []string
		if products {
			ctes = append(ctes, "p AS ("+productSpecs[Postgres].sql(Postgres)+")")
		}
		if offers {
			ctes = append(ctes, "o AS ("+offerSpecs[Postgres].sql(Postgres)+")")
		}
		if seen {
			ctes = append(ctes, "s AS (INSERT INTO emag_scan_seen (account, stream, scan_id, page, ids) VALUES (?, ?, ?, ?, ?))")
		}
		ctes = append(ctes,
			`h AS (UPDATE emag_sync_holes SET resolved_at = ?, resolved_run_id = ?, updated_at = ?
WHERE account = ? AND stream = ? AND page = ? AND resolved_at IS NULL)`,
			`c AS (INSERT INTO emag_sync_checkpoints (account, stream, run_id, scan_id, scan_open, next_page, total_pages, order_cursor, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account, stream) DO UPDATE SET run_id = excluded.run_id, scan_id = excluded.scan_id, scan_open = excluded.scan_open,
next_page = excluded.next_page, total_pages = excluded.total_pages,
order_cursor = COALESCE(excluded.order_cursor, emag_sync_checkpoints.order_cursor), updated_at = excluded.updated_at)`,
			`g AS (UPDATE emag_sync_progress SET page = ?, total_pages = CASE WHEN ? > 0 THEN ? ELSE total_pages END,
items = items + ?, inserted = inserted + ?, updated = updated + ?, unchanged = unchanged + ?, updated_at = ? WHERE run_id = ?)`)
		w.text = "WITH " + strings.Join(ctes, ",\n") + `
UPDATE emag_sync_logs SET pages = pages + 1, total_pages = CASE WHEN ? > 0 THEN ? ELSE total_pages END,
items = items + ?, inserted = inserted + ?, updated = updated + ?, unchanged = unchanged + ?, heartbeat_at = ? WHERE id = ?`
	})
	return w.text
}

// applyProductPagePG writes one prepared page of ApplyProductPages in tx on
// PostgreSQL, in two round trips (pgPageLookup, pgPageWrite): a
// transaction of one page takes four with BEGIN and COMMIT, where it took
// thirteen, one statement each.
func (db *DB) applyProductPagePG(ctx context.Context, tx *sql.Tx, runID int64, account string, pg *preparedPage) (PageResult, error) {
	var res PageResult
	err := func() error {
		ri, have, ohave, err := db.pageLookupPG(ctx, tx, runID, account, pg)
		if err != nil {
			return err
		}
		prows, pres := changedRows(pg.pids, pg.phash, have, func(i int) []any { return pg.prows[i] })
		orows, ores := changedRows(pg.oids, pg.ohash, ohave, func(i int) []any { return pg.orows[i] })
		// An offers-only page (no products) counts its offers.
		res = pres
		if pg.offersOnly {
			res = ores
		}

		seen := len(pg.seen) > 0 && ri.scanID != 0
		var args []any
		if len(prows) > 0 {
			a, err := productSpecs[Postgres].pgArrays(prows)
			if err != nil {
				return err
			}
			args = append(args, a...)
		}
		if len(orows) > 0 {
			a, err := offerSpecs[Postgres].pgArrays(orows)
			if err != nil {
				return err
			}
			args = append(args, a...)
		}
		if seen {
			args = append(args, account, string(ri.stream), ri.scanID, pg.page, joinIDs(pg.seen))
		}
		now, cp, items := pg.now, pg.next, len(pg.seen)
		args = append(args,
			now, runID, now, account, string(ri.stream), pg.page, // hole
			ri.account, string(ri.stream), runID, ri.scanID, true, cp.NextPage, cp.TotalPages, nonNull(cp.OrderCursor), now, // checkpoint
			pg.page, cp.TotalPages, cp.TotalPages, items, res.Inserted, res.Updated, res.Unchanged, now, runID, // progress
			cp.TotalPages, cp.TotalPages, items, res.Inserted, res.Updated, res.Unchanged, now, runID) // run counters
		if _, err := tx.ExecContext(ctx, db.q(pgPageWrite(len(prows) > 0, len(orows) > 0, seen)), args...); err != nil {
			return fmt.Errorf("write page %d: %w", pg.page, err)
		}
		return nil
	}()
	if err != nil {
		return PageResult{}, err
	}
	return res, nil
}

// pageLookupPG runs pgPageLookup: the page's run, which must be running
// and of account, and the stored hashes of its products and offers.
func (db *DB) pageLookupPG(ctx context.Context, tx *sql.Tx, runID int64, account string, pg *preparedPage) (ri runInfo, have, ohave map[int64]stored, err error) {
	have = make(map[int64]stored, len(pg.pids))
	ohave = make(map[int64]stored, len(pg.oids))
	rows, err := tx.QueryContext(ctx, db.q(pgPageLookup), runID, pg.pids, account, pg.oids, account)
	if err != nil {
		return ri, nil, nil, fmt.Errorf("read run %d and stored hashes: %w", runID, err)
	}
	defer rows.Close()
	found := false
	for rows.Next() {
		var kind int
		var id int64
		var s stored
		var r runInfo
		var started sql.NullTime
		if err := rows.Scan(&kind, &id, &s.hash, &s.gone, &r.account, &r.stream, &r.scanID, &r.status, &started); err != nil {
			return ri, nil, nil, fmt.Errorf("read run %d and stored hashes: %w", runID, err)
		}
		switch kind {
		case 0:
			r.started, ri, found = started.Time, r, true
		case 1:
			have[id] = s
		case 2:
			ohave[id] = s
		}
	}
	if err := rows.Err(); err != nil {
		return ri, nil, nil, fmt.Errorf("read run %d and stored hashes: %w", runID, err)
	}
	switch {
	case !found:
		return ri, nil, nil, magflow.Errorf(magflow.ENotFound, "sync run %d not found", runID)
	case ri.status != magflow.RunRunning:
		return ri, nil, nil, magflow.Errorf(magflow.EConflict, "sync run %d is %s, not running: it was finished or taken over", runID, ri.status)
	case account != "" && ri.account != account:
		return ri, nil, nil, magflow.Errorf(magflow.EInvalid, "sync run %d belongs to account %s, not %s", runID, ri.account, account)
	}
	return ri, have, ohave, nil
}
