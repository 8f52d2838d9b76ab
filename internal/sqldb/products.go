package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// ProductHash returns the content hash of p: p.ContentHash when the caller
// set one, else a SHA-256 of every stored field and the raw payload.
func ProductHash(p *magflow.Product) string {
	if p.ContentHash != "" {
		return p.ContentHash
	}
	h := sha256.New()
	enc := json.NewEncoder(h)
	_ = enc.Encode([]any{p.PartNumber, p.PartNumberKey, p.Name, p.Brand, p.CategoryID, p.EAN, p.Status,
		p.ValidationStatus, p.OfferValidationStatus, p.Ownership, p.GreenTax.Units(), p.SupplyLeadTime, p.SafetyInformation})
	h.Write(p.Raw)
	return hex.EncodeToString(h.Sum(nil))
}

// OfferHash returns the content hash of o: o.ContentHash when set, else a
// SHA-256 of every stored field.
func OfferHash(o *magflow.Offer) string {
	if o.ContentHash != "" {
		return o.ContentHash
	}
	h := sha256.New()
	_ = json.NewEncoder(h).Encode([]any{o.PartNumber, o.OfferID, o.SalePrice.Units(), o.RecommendedPrice.Units(),
		o.MinSalePrice.Units(), o.MaxSalePrice.Units(), o.BestOfferPrice.Units(), o.Currency, o.VatID, o.Status,
		o.GeneralStock, o.EstimatedStock, o.Stock, o.HandlingTime, o.Availability, o.BuyButtonRank, o.NumberOfOffers})
	return hex.EncodeToString(h.Sum(nil))
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return "[]"
	}
	return string(b)
}

// The upserts of the page tables, per dialect. SQLite keeps each amount
// twice (see the package doc); PostgreSQL once, as NUMERIC.
var (
	productSpecs = map[Dialect]*upsertSpec{SQLite: productSpec(SQLite), Postgres: productSpec(Postgres)}
	offerSpecs   = map[Dialect]*upsertSpec{SQLite: offerSpec(SQLite), Postgres: offerSpec(Postgres)}
)

func productSpec(d Dialect) *upsertSpec {
	cols := []column{{name: "account", pg: "text"}, {name: "id", pg: "bigint"}, {name: "part_number", pg: "text"},
		{name: "part_number_key", pg: "text"}, {name: "name", pg: "text"}, {name: "brand", pg: "text"},
		{name: "category_id", pg: "bigint"}, {name: "ean", pg: "text", cast: "jsonb"}, {name: "status", pg: "bigint"},
		{name: "validation_status", pg: "bigint"}, {name: "offer_validation_status", pg: "bigint"}, {name: "ownership", pg: "bool"},
		{name: "green_tax", pg: "text", cast: "numeric"}, {name: "supply_lead_time", pg: "bigint"},
		{name: "safety_information", pg: "text"}, {name: "search_terms", pg: "text"}, {name: "raw", pg: "text", cast: "json", null: true},
		{name: "content_hash", pg: "text"}, {name: "first_seen_at", pg: "timestamptz"}, {name: "last_seen_at", pg: "timestamptz"},
		{name: "updated_at", pg: "timestamptz"}}
	if d == SQLite {
		cols = append(cols, column{name: "green_tax_units", pg: "bigint"})
	}
	return &upsertSpec{table: "emag_products", key: []string{"account", "id"}, keep: []string{"first_seen_at"}, cols: cols,
		lits: [][2]string{{"gone_at", "NULL"}}}
}

func (db *DB) productRow(p *magflow.Product, hash string, now any) []any {
	var raw any
	if len(p.Raw) > 0 {
		raw = string(p.Raw)
	}
	row := []any{p.Account, p.ID, p.PartNumber, p.PartNumberKey, p.Name, p.Brand, p.CategoryID, jsonText(p.EAN), p.Status,
		p.ValidationStatus, p.OfferValidationStatus, p.Ownership, p.GreenTax.String(), p.SupplyLeadTime, p.SafetyInformation,
		searchTerms(p.Name, p.Brand, p.EAN), raw, hash, now, now, now}
	if db.dialect == SQLite {
		row = append(row, p.GreenTax.Units())
	}
	return row
}

func offerSpec(d Dialect) *upsertSpec {
	cols := []column{{name: "account", pg: "text"}, {name: "product_id", pg: "bigint"}, {name: "part_number", pg: "text"},
		{name: "offer_id", pg: "bigint"}, {name: "sale_price", pg: "text", cast: "numeric"},
		{name: "recommended_price", pg: "text", cast: "numeric"}, {name: "min_sale_price", pg: "text", cast: "numeric"},
		{name: "max_sale_price", pg: "text", cast: "numeric"}, {name: "best_offer_price", pg: "text", cast: "numeric"},
		{name: "currency", pg: "text"}, {name: "vat_id", pg: "bigint"}, {name: "status", pg: "bigint"},
		{name: "general_stock", pg: "bigint"}, {name: "estimated_stock", pg: "bigint"}, {name: "stock", pg: "text", cast: "jsonb"},
		{name: "handling_time", pg: "text", cast: "jsonb"}, {name: "availability", pg: "text", cast: "jsonb"},
		{name: "buy_button_rank", pg: "bigint"}, {name: "number_of_offers", pg: "bigint"}, {name: "content_hash", pg: "text"},
		{name: "first_seen_at", pg: "timestamptz"}, {name: "last_seen_at", pg: "timestamptz"}, {name: "updated_at", pg: "timestamptz"}}
	if d == SQLite {
		for _, c := range []string{"sale_price_units", "recommended_price_units", "min_sale_price_units", "max_sale_price_units", "best_offer_price_units"} {
			cols = append(cols, column{name: c, pg: "bigint"})
		}
	}
	return &upsertSpec{table: "emag_product_offers", key: []string{"account", "product_id"}, keep: []string{"first_seen_at"}, cols: cols,
		lits: [][2]string{{"gone_at", "NULL"}}}
}

func (db *DB) offerRow(o *magflow.Offer, hash string, now any) []any {
	row := []any{o.Account, o.ProductID, o.PartNumber, o.OfferID, o.SalePrice.String(), o.RecommendedPrice.String(),
		o.MinSalePrice.String(), o.MaxSalePrice.String(), o.BestOfferPrice.String(), o.Currency, o.VatID, o.Status,
		o.GeneralStock, o.EstimatedStock, jsonText(o.Stock), jsonText(o.HandlingTime), jsonText(o.Availability),
		o.BuyButtonRank, o.NumberOfOffers, hash, now, now, now}
	if db.dialect == SQLite {
		row = append(row, o.SalePrice.Units(), o.RecommendedPrice.Units(), o.MinSalePrice.Units(), o.MaxSalePrice.Units(), o.BestOfferPrice.Units())
	}
	return row
}

// stored is what the page upsert needs to know of an existing row.
type stored struct {
	hash string
	gone bool
}

func (db *DB) storedHashes(ctx context.Context, tx *sql.Tx, table, idCol, account string, ids []int64) (map[int64]stored, error) {
	out := make(map[int64]stored, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cond, arg := db.idsCond(idCol, ids)
	rows, err := db.txQuery(ctx, tx, "SELECT "+idCol+", content_hash, gone_at IS NOT NULL FROM "+table+" WHERE account = ? AND "+cond, account, arg)
	if err != nil {
		return nil, fmt.Errorf("read %s hashes: %w", table, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var s stored
		if err := rows.Scan(&id, &s.hash, &s.gone); err != nil {
			return nil, fmt.Errorf("read %s hashes: %w", table, err)
		}
		out[id] = s
	}
	return out, rows.Err()
}

// changedRows returns the rows to write of a page whose records have ids
// and hashes (in page order), given what is stored, and counts them. A
// record whose id repeats in the page replaces the earlier one's row.
func changedRows(ids []int64, hashes []string, have map[int64]stored, row func(i int) []any) (rows [][]any, res PageResult) {
	at := map[int64]int{}
	for i, id := range ids {
		h := hashes[i]
		s, ok := have[id]
		switch {
		case ok && s.hash == h && !s.gone:
			res.Unchanged++
			continue
		case ok:
			res.Updated++
		default:
			res.Inserted++
		}
		have[id] = stored{hash: h}
		if j, dup := at[id]; dup {
			rows[j] = row(i)
			continue
		}
		at[id] = len(rows)
		rows = append(rows, row(i))
	}
	return rows, res
}

// runInfo is what page writes need to know of their run.
type runInfo struct {
	account string
	stream  magflow.Stream
	scanID  int64
	status  magflow.RunStatus
	started time.Time
}

func (db *DB) runInfo(ctx context.Context, tx *sql.Tx, runID int64) (runInfo, error) {
	var ri runInfo
	err := db.txQueryRow(ctx, tx, "SELECT account, stream, scan_id, status, started_at FROM emag_sync_logs WHERE id = ?", runID).
		Scan(&ri.account, &ri.stream, &ri.scanID, &ri.status, &ri.started)
	if err == sql.ErrNoRows {
		return ri, magflow.Errorf(magflow.ENotFound, "sync run %d not found", runID)
	}
	if err != nil {
		return ri, fmt.Errorf("read run %d: %w", runID, err)
	}
	return ri, nil
}

// liveRun returns the run, failing with EConflict when it is no longer
// running (finished, or taken over after its lease expired): a writer that
// lost its run must not commit.
func (db *DB) liveRun(ctx context.Context, tx *sql.Tx, runID int64, account string) (runInfo, error) {
	ri, err := db.runInfo(ctx, tx, runID)
	if err != nil {
		return ri, err
	}
	if ri.status != magflow.RunRunning {
		return ri, magflow.Errorf(magflow.EConflict, "sync run %d is %s, not running: it was finished or taken over", runID, ri.status)
	}
	if account != "" && ri.account != account {
		return ri, magflow.Errorf(magflow.EInvalid, "sync run %d belongs to account %s, not %s", runID, ri.account, account)
	}
	return ri, nil
}

// ScanPage is one page of a product_offer/read scan: its number, its
// products and their offers.
type ScanPage struct {
	Page     int
	Products []magflow.Product
	Offers   []magflow.Offer
}

// ApplyProductPage stores one page of a product_offer/read scan with its
// checkpoint: ApplyProductPages with one page.
func (db *DB) ApplyProductPage(ctx context.Context, runID int64, account string, page int, products []magflow.Product, offers []magflow.Offer, next Checkpoint) (PageResult, error) {
	res, err := db.ApplyProductPages(ctx, runID, account, []ScanPage{{Page: page, Products: products, Offers: offers}}, next)
	if err != nil {
		return PageResult{}, err
	}
	return res[0], nil
}

// ApplyProductPages stores consecutive pages of a product_offer/read scan
// in a single transaction, with the checkpoint next after the last of them:
// products and offers are upserted by (account, id) only when their
// content hash differs (or they had been marked gone), the ids each page
// carried are recorded for MarkGone, an open hole for a page is resolved,
// and the progress and heartbeat of the run advance page by page. Unchanged
// rows are not written at all. It returns what each page did.
//
// One transaction for several pages is a group commit: the engine passes
// the pages that are ready when the writer comes free, so a fast scan
// commits fewer, larger transactions (on SQLite, an index page that several
// of the pages touch goes to the WAL once instead of once per page) while a
// rate-limited one still commits page by page. A crash loses either the
// whole group or none of it, and the checkpoint commits with the rows.
func (db *DB) ApplyProductPages(ctx context.Context, runID int64, account string, pages []ScanPage, next Checkpoint) ([]PageResult, error) {
	if len(pages) == 0 {
		return nil, nil
	}
	what := fmt.Sprintf("apply %s products page %d", account, pages[0].Page)
	if len(pages) > 1 {
		what = fmt.Sprintf("apply %s products pages %d-%d", account, pages[0].Page, pages[len(pages)-1].Page)
	}
	// Everything that needs no database is done before the transaction, so
	// the writer (one connection on SQLite, shared by every account) is held
	// only for the writes.
	now := db.now()
	prepared := make([]*preparedPage, len(pages))
	for i := range pages {
		pp, err := db.preparePage(account, &pages[i], now, next)
		if err != nil {
			return nil, db.wrap(what, err)
		}
		prepared[i] = pp
	}
	res := make([]PageResult, len(pages))
	var err error
	if db.dialect == Postgres {
		err = db.inTx(ctx, what, func(tx *sql.Tx) error {
			for i, pp := range prepared {
				r, err := db.applyProductPagePG(ctx, tx, runID, account, pp)
				if err != nil {
					return err
				}
				res[i] = r
			}
			return nil
		})
	} else {
		err = db.inTx(ctx, what, func(tx *sql.Tx) error {
			ri, err := db.liveRun(ctx, tx, runID, account)
			if err != nil {
				return err
			}
			changed := false
			unindexed := map[int64]bool{} // written, and not in the word index yet
			for i, pp := range prepared {
				r, wrote, err := db.applyProductPageSQLite(ctx, tx, ri, runID, account, pp, unindexed)
				if err != nil {
					return err
				}
				res[i], changed = r, changed || wrote
			}
			if err := db.indexProducts(ctx, tx, account, unindexed); err != nil {
				return err
			}
			if changed {
				if err := db.catalogChanged(ctx, tx, true); err != nil {
					return err
				}
			}
			return db.saveCheckpoint(ctx, tx, ri, runID, next, true, now)
		})
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// preparedPage is one page of ApplyProductPages as prepared before the
// transaction: ids, content hashes and rows of the products and offers (in
// page order), and the ids the scan saw.
type preparedPage struct {
	page         int
	pids, oids   []int64
	phash, ohash []string
	prows, orows [][]any
	seen         []int64
	offersOnly   bool
	now          time.Time
	next         Checkpoint
}

// preparePage checks that p's records are of account and builds its rows
// (their search terms, JSON columns and arguments), though unchanged
// records will not be written: building them inside the transaction held
// the SQLite writer for it.
func (db *DB) preparePage(account string, p *ScanPage, now time.Time, next Checkpoint) (*preparedPage, error) {
	products, offers := p.Products, p.Offers
	pp := &preparedPage{page: p.Page, now: now, next: next, offersOnly: len(products) == 0,
		seen: make([]int64, 0, max(len(products), len(offers))),
		pids: make([]int64, len(products)), phash: make([]string, len(products)), prows: make([][]any, len(products)),
		oids: make([]int64, len(offers)), ohash: make([]string, len(offers)), orows: make([][]any, len(offers))}
	// A row's times are one value, bound three times per row: on SQLite it
	// goes as the text the driver writes for a time.Time (every connection
	// asks for sqliteTimeLayout: see times.go), formatted once per page
	// instead of at every bind.
	var ts any = now
	if db.dialect == SQLite {
		ts = now.Format(sqliteTimeLayout)
	}
	for i := range products {
		pr := &products[i]
		if pr.Account != "" && pr.Account != account {
			return nil, magflow.Errorf(magflow.EInvalid, "product %d is of account %s, not %s", pr.ID, pr.Account, account)
		}
		pr.Account = account
		pp.pids[i], pp.phash[i] = pr.ID, ProductHash(pr)
		pp.seen = append(pp.seen, pr.ID)
		pp.prows[i] = db.productRow(pr, pp.phash[i], ts)
	}
	for i := range offers {
		o := &offers[i]
		if o.Account != "" && o.Account != account {
			return nil, magflow.Errorf(magflow.EInvalid, "offer %d is of account %s, not %s", o.ProductID, o.Account, account)
		}
		o.Account = account
		pp.oids[i], pp.ohash[i] = o.ProductID, OfferHash(o)
		if len(products) == 0 {
			pp.seen = append(pp.seen, o.ProductID)
		}
		pp.orows[i] = db.offerRow(o, pp.ohash[i], ts)
	}
	return pp, nil
}

// applyProductPageSQLite writes one prepared page in tx on SQLite (all but
// the checkpoint, the change counter and the word index, which
// ApplyProductPages writes once per transaction) and reports whether it
// wrote any product or offer row. The ids of the products it wrote join
// unindexed: their old words are out of the word index, their new ones not
// in it yet.
func (db *DB) applyProductPageSQLite(ctx context.Context, tx *sql.Tx, ri runInfo, runID int64, account string, pp *preparedPage, unindexed map[int64]bool) (PageResult, bool, error) {
	have, err := db.storedHashes(ctx, tx, "emag_products", "id", account, pp.pids)
	if err != nil {
		return PageResult{}, false, err
	}
	var rewritten []int64 // stored rows, in the word index, about to be overwritten
	for _, id := range pp.pids {
		if _, ok := have[id]; ok && !unindexed[id] {
			rewritten = append(rewritten, id)
		}
	}
	rows, pres := changedRows(pp.pids, pp.phash, have, func(i int) []any { return pp.prows[i] })
	if len(rows) > 0 {
		if err := db.unindexProducts(ctx, tx, account, rewritten, rows); err != nil {
			return PageResult{}, false, err
		}
		if err := db.upsertRows(ctx, tx, productSpecs[db.dialect], rows); err != nil {
			return PageResult{}, false, err
		}
		for _, r := range rows {
			unindexed[r[1].(int64)] = true
		}
	}
	ohave, err := db.storedHashes(ctx, tx, "emag_product_offers", "product_id", account, pp.oids)
	if err != nil {
		return PageResult{}, false, err
	}
	orows, ores := changedRows(pp.oids, pp.ohash, ohave, func(i int) []any { return pp.orows[i] })
	if err := db.upsertRows(ctx, tx, offerSpecs[db.dialect], orows); err != nil {
		return PageResult{}, false, err
	}
	// An offers-only page (no products) counts its offers.
	res := pres
	if pp.offersOnly {
		res = ores
	}
	if len(pp.seen) > 0 && ri.scanID != 0 {
		if _, err := db.txExec(ctx, tx, "INSERT INTO emag_scan_seen (account, stream, scan_id, page, ids) VALUES (?, ?, ?, ?, ?)",
			account, string(ri.stream), ri.scanID, pp.page, joinIDs(pp.seen)); err != nil {
			return PageResult{}, false, fmt.Errorf("record seen ids: %w", err)
		}
	}
	if err := db.resolveHoleTx(ctx, tx, account, ri.stream, pp.page, runID, pp.now); err != nil {
		return PageResult{}, false, err
	}
	if err := db.advanceProgress(ctx, tx, runID, pp.page, pp.next.TotalPages, len(pp.seen), res, pp.now); err != nil {
		return PageResult{}, false, err
	}
	return res, len(rows) > 0 || len(orows) > 0, nil
}

// unindexProducts removes from the SQLite word index the stored products
// that rows are about to overwrite (rewritten lists the ids that were
// stored before the page, written or not). See indexProducts.
func (db *DB) unindexProducts(ctx context.Context, tx *sql.Tx, account string, rewritten []int64, rows [][]any) error {
	if db.dialect != SQLite || len(rewritten) == 0 {
		return nil
	}
	writing := make(map[int64]bool, len(rows))
	for _, r := range rows {
		writing[r[1].(int64)] = true
	}
	ids := rewritten[:0:0]
	for _, id := range rewritten {
		if writing[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	cond, arg := db.idsCond("id", ids)
	if _, err := db.txExec(ctx, tx, "INSERT INTO emag_products_fts (emag_products_fts, rowid, search_terms)"+
		" SELECT 'delete', rowid, search_terms FROM emag_products WHERE account = ? AND "+cond, account, arg); err != nil {
		return fmt.Errorf("unindex products: %w", err)
	}
	return nil
}

// indexProducts adds the products just written (ids) to the SQLite word
// index, in one statement per transaction: an FTS5 table flushes its
// pending terms at the end of every statement that writes it, so indexing
// row by row (a trigger) would write, and later merge, one index segment
// per product, and page by page one per page of a group commit.
func (db *DB) indexProducts(ctx context.Context, tx *sql.Tx, account string, ids map[int64]bool) error {
	if db.dialect != SQLite || len(ids) == 0 {
		return nil
	}
	list := make([]int64, 0, len(ids))
	for id := range ids {
		list = append(list, id)
	}
	slices.Sort(list)
	cond, arg := db.idsCond("id", list)
	if _, err := db.txExec(ctx, tx, "INSERT INTO emag_products_fts (rowid, search_terms)"+
		" SELECT rowid, search_terms FROM emag_products WHERE account = ? AND "+cond, account, arg); err != nil {
		return fmt.Errorf("index products: %w", err)
	}
	return nil
}

func joinIDs(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}

func (db *DB) saveCheckpoint(ctx context.Context, tx *sql.Tx, ri runInfo, runID int64, cp Checkpoint, open bool, now time.Time) error {
	_, err := db.txExec(ctx, tx, `INSERT INTO emag_sync_checkpoints (account, stream, run_id, scan_id, scan_open, next_page, total_pages, order_cursor, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (account, stream) DO UPDATE SET run_id = excluded.run_id, scan_id = excluded.scan_id, scan_open = excluded.scan_open,
next_page = excluded.next_page, total_pages = excluded.total_pages,
order_cursor = COALESCE(excluded.order_cursor, emag_sync_checkpoints.order_cursor), updated_at = excluded.updated_at`,
		ri.account, string(ri.stream), runID, ri.scanID, open, cp.NextPage, cp.TotalPages, nonNull(cp.OrderCursor), now)
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

func (db *DB) advanceProgress(ctx context.Context, tx *sql.Tx, runID int64, page, totalPages, items int, res PageResult, now time.Time) error {
	if _, err := db.txExec(ctx, tx, `UPDATE emag_sync_progress SET page = ?, total_pages = CASE WHEN ? > 0 THEN ? ELSE total_pages END,
items = items + ?, inserted = inserted + ?, updated = updated + ?, unchanged = unchanged + ?, updated_at = ? WHERE run_id = ?`,
		page, totalPages, totalPages, items, res.Inserted, res.Updated, res.Unchanged, now, runID); err != nil {
		return fmt.Errorf("advance progress: %w", err)
	}
	if _, err := db.txExec(ctx, tx, `UPDATE emag_sync_logs SET pages = pages + 1, total_pages = CASE WHEN ? > 0 THEN ? ELSE total_pages END,
items = items + ?, inserted = inserted + ?, updated = updated + ?, unchanged = unchanged + ?, heartbeat_at = ? WHERE id = ?`,
		totalPages, totalPages, items, res.Inserted, res.Updated, res.Unchanged, now, runID); err != nil {
		return fmt.Errorf("advance run counters: %w", err)
	}
	return nil
}

// MarkGone ends the scan of a run that fetched every page: products (for a
// products run; and their offers) or offers (for an offers run) of the
// account that the scan did not see get gone_at = now, with last_seen_at
// set to the start of the previous complete scan when that is later. Rows
// are never deleted. It returns how many rows it marked, and records the
// scan's start as the account's last complete scan. Call it only when the
// scan had no holes and was not capped.
func (db *DB) MarkGone(ctx context.Context, account string, runID int64) (int, error) {
	var n int
	err := db.inTx(ctx, "mark gone "+account, func(tx *sql.Tx) error {
		n = 0
		ri, err := db.runInfo(ctx, tx, runID)
		if err != nil {
			return err
		}
		if ri.account != account {
			return magflow.Errorf(magflow.EInvalid, "sync run %d belongs to account %s, not %s", runID, ri.account, account)
		}
		if ri.stream == magflow.StreamOrders {
			return magflow.Errorf(magflow.EInvalid, "sync run %d is an orders run: orders are never marked gone", runID)
		}
		now := db.now()
		var scanStart time.Time
		if err := tx.QueryRowContext(ctx, db.q("SELECT started_at FROM emag_sync_logs WHERE id = ?"), ri.scanID).Scan(&scanStart); err != nil {
			scanStart = ri.started
		}
		var prev sql.NullTime
		if err := tx.QueryRowContext(ctx, db.q("SELECT last_complete_at FROM emag_sync_checkpoints WHERE account = ? AND stream = ?"), account, string(ri.stream)).Scan(&prev); err != nil && err != sql.ErrNoRows {
			return fmt.Errorf("read checkpoint: %w", err)
		}

		tables := []struct{ table, id string }{{"emag_product_offers", "product_id"}}
		if ri.stream == magflow.StreamProducts {
			tables = append([]struct{ table, id string }{{"emag_products", "id"}}, tables...)
		}
		// The ids the scan saw are kept per page as text ("1,2,3"); the
		// rows it did not see are found by an anti-join in the database,
		// so memory does not grow with the catalogue.
		seen := "SELECT CAST(j.value AS INTEGER) FROM emag_scan_seen s, json_each('[' || s.ids || ']') j" +
			" WHERE s.account = ? AND s.stream = ? AND s.scan_id = ?"
		if db.dialect == Postgres {
			seen = "SELECT u.id FROM emag_scan_seen s, unnest(string_to_array(s.ids, ',')::bigint[]) AS u(id)" +
				" WHERE s.account = ? AND s.stream = ? AND s.scan_id = ?"
		}
		var marked int64
		for ti, t := range tables {
			q := "UPDATE " + t.table + " SET gone_at = ?"
			a := []any{now}
			if prev.Valid {
				q += ", last_seen_at = CASE WHEN last_seen_at < ? THEN ? ELSE last_seen_at END"
				a = append(a, prev.Time, prev.Time)
			}
			q += " WHERE account = ? AND gone_at IS NULL AND "
			a = append(a, account)
			// NOT IN: SQLite builds the list once as a temporary index,
			// PostgreSQL as a hashed subplan (ids are never NULL). A NOT
			// EXISTS would be planned on PostgreSQL from an estimate of ten
			// ids per page row, as a nested loop over every seen id for
			// every row: quadratic.
			q += t.id + " NOT IN (" + seen + ")"
			a = append(a, account, string(ri.stream), ri.scanID)
			res, err := tx.ExecContext(ctx, db.q(q), a...)
			if err != nil {
				return fmt.Errorf("mark %s gone: %w", t.table, err)
			}
			m, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("mark %s gone: %w", t.table, err)
			}
			if ti == 0 {
				n = int(m)
			}
			marked += m
		}
		if marked > 0 {
			if err := db.catalogChanged(ctx, tx, true); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, db.q("DELETE FROM emag_scan_seen WHERE account = ? AND stream = ?"), account, string(ri.stream)); err != nil {
			return fmt.Errorf("clear seen ids: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.q(`UPDATE emag_sync_checkpoints SET scan_open = ?, next_page = 0, last_complete_at = ?, updated_at = ? WHERE account = ? AND stream = ?`),
			false, scanStart, now, account, string(ri.stream)); err != nil {
			return fmt.Errorf("close scan: %w", err)
		}
		if _, err := tx.ExecContext(ctx, db.q("UPDATE emag_sync_logs SET gone = ? WHERE id = ?"), n, runID); err != nil {
			return fmt.Errorf("record gone count: %w", err)
		}
		return nil
	})
	return n, err
}
