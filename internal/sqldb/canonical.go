package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"fmt"
	"iter"
	"strconv"

	"modernc.org/sqlite"

	"github.com/magflow/magflow"
)

// RebuildCanonical recomputes the canonical SKU table from the products
// eMAG still lists: per part number, the product of the first account in
// accountOrder (accounts not named follow, by name) is the source, and
// every listing of the SKU (the source first) is kept with its price and
// stock. Only canonical rows that changed are written. It returns the
// number of duplicate listings: listings beyond the first of each SKU.
//
// It runs in the database, set-based, in constant memory whatever the size
// of the catalogue: the new rows are ranked (ROW_NUMBER per SKU) and
// aggregated (the listings as JSON) into a temporary table keyed by SKU,
// rows whose SKU vanished or whose source changed are deleted, and the
// rest upserted where their content hash differs. As the last step of a
// products sync, it also merges the SQLite word index and flushes the
// PostgreSQL one's pending list (optimizeSearch).
func (db *DB) RebuildCanonical(ctx context.Context, accountOrder []string) (int, error) {
	var dups int
	err := db.inTx(ctx, "rebuild canonical products", func(tx *sql.Tx) error {
		prec := "CASE p.account"
		var args []any
		for i, a := range accountOrder {
			prec += " WHEN ? THEN " + strconv.Itoa(i)
			args = append(args, a)
		}
		prec += " ELSE " + strconv.Itoa(len(accountOrder)) + " END"
		if len(accountOrder) == 0 {
			prec = "0"
		}
		var snapshot string
		if db.dialect == SQLite {
			fresh, n, snap, err := db.canonFreshSQLite(ctx, tx, accountOrder)
			if err != nil {
				return err
			}
			if fresh {
				dups = n
				return nil
			}
			snapshot = snap
		}
		create, drop := canonTempSQL[db.dialect][0], canonTempSQL[db.dialect][1]
		if _, err := tx.ExecContext(ctx, create); err != nil {
			return fmt.Errorf("create canonical work table: %w", err)
		}
		if db.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, canonSettingsPG); err != nil {
				return fmt.Errorf("set canonical rebuild settings: %w", err)
			}
			fresh, n, snap, err := db.canonFreshPG(ctx, tx, accountOrder)
			if err != nil {
				return err
			}
			if fresh {
				dups = n
				return db.optimizeSearch(ctx, tx)
			}
			snapshot = snap
		}
		price, listing, agg := "COALESCE(o.sale_price, '0.0000')", "json_object(", "json_group_array("
		if db.dialect == Postgres {
			price, listing, agg = "COALESCE(o.sale_price, 0)::text", "json_build_object(", "json_agg("
		}
		listings := `'account', account, 'product_id', id, 'sale_price', sale_price, 'currency', currency,
'general_stock', general_stock, 'status', status)`
		rows := `SELECT CASE WHEN p.part_number <> '' THEN p.part_number ELSE '~' || p.account || ':' || p.id END AS sku,
    p.part_number, p.account, p.id, ` + price + ` AS sale_price, COALESCE(o.currency, '') AS currency,
    COALESCE(o.general_stock, 0) AS general_stock, COALESCE(o.status, 0) AS status, ` + prec + ` AS prec
    FROM emag_products p LEFT JOIN emag_product_offers o ON o.account = p.account AND o.product_id = p.id
    WHERE p.gone_at IS NULL`
		// PostgreSQL ranks each SKU's listings with a window function and
		// aggregates them in rank order. SQLite would sort three times
		// (window, GROUP BY, ordered aggregate), each sort holding up to
		// 4 MB in memory: instead one sort orders the listings by SKU and
		// precedence, GROUP BY reads them in that order (the plan has no
		// other sort), and the source is the first listing.
		fill := `INSERT INTO magflow_canon (sku, part_number, source_account, product_id, accounts, listings)
SELECT sku, pn, json_extract(l, '$[0].account'), json_extract(l, '$[0].product_id'), n, l
FROM (SELECT sku, MIN(part_number) AS pn, COUNT(*) AS n, ` + agg + listing + listings + `) AS l
  FROM (` + rows + ` ORDER BY sku, prec, p.account, p.id) r GROUP BY sku) g`
		if db.dialect == Postgres {
			fill = `INSERT INTO magflow_canon (sku, part_number, source_account, product_id, accounts, listings)
SELECT sku, MIN(CASE WHEN rn = 1 THEN part_number END), MIN(CASE WHEN rn = 1 THEN account END), MIN(CASE WHEN rn = 1 THEN id END), COUNT(*),
` + agg + listing + listings + ` ORDER BY rn)
FROM (SELECT l.*, ROW_NUMBER() OVER (PARTITION BY sku ORDER BY prec, account, id) AS rn FROM (` + rows + `) l) r
GROUP BY sku`
		}
		if _, err := tx.ExecContext(ctx, db.q(fill), args...); err != nil {
			return fmt.Errorf("compute canonical rows: %w", err)
		}
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(SUM(accounts - 1), 0) FROM magflow_canon").Scan(&dups); err != nil {
			return fmt.Errorf("count duplicates: %w", err)
		}
		// A row whose SKU vanished, or whose source is now another product
		// (the source may also have moved to another SKU's row, which the
		// unique source index would refuse), goes first.
		del, err := tx.ExecContext(ctx, `DELETE FROM emag_canonical_products WHERE NOT EXISTS (SELECT 1 FROM magflow_canon n
WHERE n.sku = emag_canonical_products.sku AND n.source_account = emag_canonical_products.source_account AND n.product_id = emag_canonical_products.product_id)`)
		if err != nil {
			return fmt.Errorf("delete stale canonical rows: %w", err)
		}
		changed, _ := del.RowsAffected()
		upsert := `INSERT INTO emag_canonical_products (sku, part_number, source_account, product_id, accounts, listings, content_hash, updated_at)
SELECT sku, part_number, source_account, product_id, accounts, n.listings, h, ? FROM
  (SELECT n.*, ` + db.sha256Hex("n.source_account || ':' || n.product_id || ':' || n.listings") + ` AS h FROM magflow_canon n) n WHERE true
ON CONFLICT (sku) DO UPDATE SET part_number = excluded.part_number, accounts = excluded.accounts, listings = excluded.listings,
content_hash = excluded.content_hash, updated_at = excluded.updated_at
WHERE emag_canonical_products.content_hash <> excluded.content_hash`
		writes := []string{upsert}
		if db.dialect == Postgres {
			writes = canonWritesPG[:]
		}
		now := db.now()
		for _, w := range writes {
			res, err := tx.ExecContext(ctx, db.q(w), now)
			if err != nil {
				return fmt.Errorf("upsert canonical rows: %w", err)
			}
			n, _ := res.RowsAffected()
			changed += n
		}
		if changed > 0 {
			if err := db.catalogChanged(ctx, tx, false); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, drop); err != nil {
			return fmt.Errorf("drop canonical work table: %w", err)
		}
		if err := db.canonRecord(ctx, tx, snapshot, accountOrder); err != nil {
			return err
		}
		return db.optimizeSearch(ctx, tx)
	})
	return dups, err
}

// canonFreshSQLite reports whether RebuildCanonical on SQLite has nothing
// to do: no product, offer or gone mark was written since the last rebuild
// (the canon counter is the one it recorded) and the account order is the
// same. It also returns the counter, to record as this rebuild's snapshot.
// The rebuild's transaction holds SQLite's one writer, so nothing moves the
// counter meanwhile.
func (db *DB) canonFreshSQLite(ctx context.Context, tx *sql.Tx, accountOrder []string) (fresh bool, dups int, snapshot string, err error) {
	var canon int64
	var last, order sql.NullString
	if err := tx.QueryRowContext(ctx, `SELECT c.canon, s.snapshot, s.account_order FROM magflow_change_counters c
LEFT JOIN magflow_canonical_state s ON s.id = 1 WHERE c.id = 1`).Scan(&canon, &last, &order); err != nil {
		return false, 0, "", fmt.Errorf("read canonical state: %w", err)
	}
	snapshot = strconv.FormatInt(canon, 10)
	if !last.Valid || last.String != snapshot || order.String != jsonText(accountOrder) {
		return false, 0, snapshot, nil
	}
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(SUM(accounts - 1), 0) FROM emag_canonical_products").Scan(&dups); err != nil {
		return false, 0, "", fmt.Errorf("count duplicates: %w", err)
	}
	return true, dups, snapshot, nil
}

// canonRecord records the snapshot (PostgreSQL: pg_current_snapshot;
// SQLite: the canon counter) and order of a rebuild just written.
func (db *DB) canonRecord(ctx context.Context, tx *sql.Tx, snapshot string, accountOrder []string) error {
	if _, err := tx.ExecContext(ctx, db.q(`INSERT INTO magflow_canonical_state (id, snapshot, account_order, rebuilt_at) VALUES (1, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET snapshot = excluded.snapshot, account_order = excluded.account_order, rebuilt_at = excluded.rebuilt_at`),
		snapshot, jsonText(accountOrder), db.now()); err != nil {
		return fmt.Errorf("record canonical rebuild: %w", err)
	}
	return nil
}

// optimizeSearch merges the SQLite word index into one segment. Page
// writes add a segment each (FTS5 merges them only partly as it goes), and
// every search opens every segment: at 100,000 products a search cost three
// times as much before the merge. It is a no-op on an index already merged,
// and cheap beside a sync (the index holds no positions).
//
// On PostgreSQL it moves the word index's pending list (page writes go
// through it, migration 00013) into the index, so searches after a sync
// read no pending entries.
func (db *DB) optimizeSearch(ctx context.Context, tx *sql.Tx) error {
	if db.dialect == Postgres {
		if _, err := tx.ExecContext(ctx, "SELECT gin_clean_pending_list('emag_products_terms'::regclass)"); err != nil {
			return fmt.Errorf("flush the word index: %w", err)
		}
		return nil
	}
	if _, err := tx.ExecContext(ctx, "INSERT INTO emag_products_fts (emag_products_fts) VALUES ('optimize')"); err != nil {
		return fmt.Errorf("merge the word index: %w", err)
	}
	return nil
}

// sha256Hex is the SQL expression of the hex SHA-256 of the text expr (on
// SQLite, the function registered in init).
func (db *DB) sha256Hex(expr string) string {
	if db.dialect == Postgres {
		return "encode(sha256(convert_to(" + expr + ", 'UTF8')), 'hex')"
	}
	return "magflow_sha256(" + expr + ")"
}

func init() {
	sqlite.MustRegisterDeterministicScalarFunction("magflow_sha256", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		var sum [32]byte
		switch v := args[0].(type) {
		case string:
			sum = sha256.Sum256([]byte(v))
		case []byte:
			sum = sha256.Sum256(v)
		case nil:
			return nil, nil
		default:
			sum = sha256.Sum256(fmt.Append(nil, v))
		}
		return hex.EncodeToString(sum[:]), nil
	})
}

// canonSettingsPG sets planner settings of the rebuild's transaction on
// PostgreSQL. Every statement of the rebuild reads whole tables, so hash
// joins are the plans to want:
//   - no nested loops: one was chosen when the statistics lagged (right
//     after a first sync, before autovacuum analyzed the tables, the
//     products looked like 300 rows instead of 60,000, and the listings'
//     join became 60,000 index probes, twice the time of the hash join);
//     this also spares the ANALYZE of the work table (a quarter of a second
//     at 50,000 SKUs) that kept the stale rows' anti-join hashed;
//   - no merge joins: that anti-join was otherwise a merge join over the
//     canonical table's primary key (160 ms at 85,000 SKUs, 100 ms hashed).
//
// The larger work_mem keeps the sort of the listings (about 80 bytes each)
// in memory: at 60,000 listings it spilled 4.5 MB to disk and took 650 ms
// instead of 170 ms. The advisory lock (per schema, held to the end of the
// transaction) makes concurrent rebuilds, from several worker processes,
// take turns, as canonWritesPG needs. The transaction takes its id at once
// (pg_current_xact_id), so that age() in canonUnchangedSQL counts from it.
const canonSettingsPG = `SELECT set_config('enable_nestloop', 'off', true), set_config('enable_mergejoin', 'off', true),
set_config('work_mem', '64MB', true), pg_advisory_xact_lock(hashtextextended('magflow-canonical:' || current_schema(), 0)), pg_current_xact_id()`

// canonWritesPG write the canonical rows that changed on PostgreSQL: an
// UPDATE of the stored rows whose hash differs, then a plain INSERT of the
// SKUs not stored yet, both hash joins with the work table. An upsert
// (INSERT ... ON CONFLICT DO UPDATE WHERE the hash differs) probed the
// primary key, tried the conflict and compared the hashes for every SKU and
// parsed every SKU's listings as jsonb, an unchanged re-sync included (0.43
// s at 51,000 SKUs, 0.19 s now); on a first sync the plain insert takes 1.4
// s where the upsert took 2 s (68,000 SKUs). Rebuilds of a database are
// serialised by an advisory lock (canonSettingsPG), so no other rebuild
// inserts the same SKU meanwhile; nothing else writes the table.
var canonWritesPG = [2]string{
	`UPDATE emag_canonical_products c SET part_number = n.part_number, accounts = n.accounts, listings = n.listings::jsonb,
content_hash = n.h, updated_at = ?
FROM (SELECT n.*, ` + canonHashPG + ` AS h FROM magflow_canon n) n
WHERE c.sku = n.sku AND c.content_hash <> n.h`,
	`INSERT INTO emag_canonical_products (sku, part_number, source_account, product_id, accounts, listings, content_hash, updated_at)
SELECT n.sku, n.part_number, n.source_account, n.product_id, n.accounts, n.listings::jsonb, ` + canonHashPG + `, ? FROM magflow_canon n
WHERE NOT EXISTS (SELECT 1 FROM emag_canonical_products c WHERE c.sku = n.sku)`,
}

// canonHashPG is the content hash of a work table row n (as on SQLite).
var canonHashPG = (&DB{dialect: Postgres}).sha256Hex("n.source_account || ':' || n.product_id || ':' || n.listings")

// canonTempSQL creates and drops RebuildCanonical's work table, per
// dialect. On SQLite it lives in the temporary store, spilled to a file
// past the page cache. On PostgreSQL it has no key: GROUP BY makes its
// SKUs unique and every statement reading it hash-joins (canonSettingsPG),
// so an index would only cost its writes (half the time of filling it).
var canonTempSQL = map[Dialect][2]string{
	SQLite: {`CREATE TEMP TABLE magflow_canon (sku TEXT PRIMARY KEY, part_number TEXT NOT NULL, source_account TEXT NOT NULL,
product_id INTEGER NOT NULL, accounts INTEGER NOT NULL, listings TEXT NOT NULL)`, "DROP TABLE temp.magflow_canon"},
	Postgres: {`CREATE TEMP TABLE magflow_canon (sku TEXT NOT NULL, part_number TEXT NOT NULL, source_account TEXT NOT NULL,
product_id BIGINT NOT NULL, accounts INTEGER NOT NULL, listings TEXT NOT NULL) ON COMMIT DROP`, "SELECT 1"},
}

// ExportCanonical streams the canonical SKU records (as of the last
// RebuildCanonical) by SKU, in constant memory.
func (db *DB) ExportCanonical(ctx context.Context) iter.Seq2[magflow.CanonicalProduct, error] {
	return func(yield func(magflow.CanonicalProduct, error) bool) {
		scans, err := db.lastComplete(ctx)
		if err != nil {
			yield(magflow.CanonicalProduct{}, err)
			return
		}
		rows, err := db.read.QueryContext(ctx, "SELECT c.part_number, c.source_account, c.listings, "+productSelectRaw+
			" FROM emag_canonical_products c JOIN emag_products p ON p.account = c.source_account AND p.id = c.product_id ORDER BY c.sku")
		if err != nil {
			yield(magflow.CanonicalProduct{}, db.wrap("export canonical", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var c magflow.CanonicalProduct
			var sp StoredProduct
			var listings string
			pd, fin := productDest(&sp, rawFull)
			if err := rows.Scan(append([]any{&c.PartNumber, &c.SourceAccount, &listings}, pd...)...); err != nil {
				yield(magflow.CanonicalProduct{}, db.wrap("export canonical", err))
				return
			}
			fin()
			seenAt(&sp.Product, scans)
			c.Product = sp.Product
			c.Listings = decodeListings(listings)
			if !yield(c, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(magflow.CanonicalProduct{}, db.wrap("export canonical", err))
		}
	}
}

// CanonicalStats counts the canonical view: SKUs, and SKUs listed by more
// than one account.
func (db *DB) CanonicalStats(ctx context.Context) (skus, shared int, err error) {
	err = db.read.QueryRowContext(ctx, "SELECT COUNT(*), COALESCE(SUM(CASE WHEN accounts > 1 THEN 1 ELSE 0 END), 0) FROM emag_canonical_products").Scan(&skus, &shared)
	return skus, shared, db.wrap("canonical stats", err)
}
