package sqldb

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"iter"
	"strconv"

	"github.com/magflow/magflow"
)

// skuOf is the de-duplication key: the part number, or the product itself
// when it has none.
func skuOf(account string, id int64, partNumber string) string {
	if partNumber != "" {
		return partNumber
	}
	return "~" + account + ":" + strconv.FormatInt(id, 10)
}

type canonicalRow struct {
	sku, partNumber, source string
	productID               int64
	listings                []listingJSON
}

// RebuildCanonical recomputes the canonical SKU table from the products
// eMAG still lists: per part number, the product of the first account in
// accountOrder (accounts not named follow, by name) is the source, and
// every listing of the SKU (the source first) is kept with its price and
// stock. Only canonical rows that changed are written. It returns the
// number of duplicate listings: listings beyond the first of each SKU.
func (db *DB) RebuildCanonical(ctx context.Context, accountOrder []string) (int, error) {
	var dups int
	err := db.inTx(ctx, "rebuild canonical products", func(tx *sql.Tx) error {
		dups = 0
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
		q := `SELECT p.account, p.id, p.part_number, ` + db.moneyCol("o.sale_price") + `, o.currency, o.general_stock, o.status
FROM emag_products p LEFT JOIN emag_product_offers o ON o.account = p.account AND o.product_id = p.id
WHERE p.gone_at IS NULL ORDER BY p.part_number, ` + prec + `, p.account, p.id`
		rows, err := tx.QueryContext(ctx, db.q(q), args...)
		if err != nil {
			return fmt.Errorf("read listings: %w", err)
		}
		want := map[string]*canonicalRow{}
		var order []string
		for rows.Next() {
			var account, pn string
			var id int64
			var price sql.NullString
			var cur sql.NullString
			var stock, status sql.NullInt64
			if err := rows.Scan(&account, &id, &pn, &price, &cur, &stock, &status); err != nil {
				rows.Close()
				return fmt.Errorf("read listings: %w", err)
			}
			var d magflow.Decimal
			if price.Valid {
				if db.dialect == SQLite {
					u, _ := strconv.ParseInt(price.String, 10, 64)
					d = magflow.NewDecimal(u)
				} else {
					d, _ = magflow.ParseDecimal(price.String)
				}
			}
			l := listingJSON{Account: account, ProductID: id, SalePrice: d, Currency: cur.String, GeneralStock: int(stock.Int64), Status: int(status.Int64)}
			sku := skuOf(account, id, pn)
			if r, ok := want[sku]; ok {
				r.listings = append(r.listings, l)
				dups++
				continue
			}
			want[sku] = &canonicalRow{sku: sku, partNumber: pn, source: account, productID: id, listings: []listingJSON{l}}
			order = append(order, sku)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read listings: %w", err)
		}

		type storedCanon struct {
			hash, source string
			productID    int64
		}
		have := map[string]storedCanon{}
		bySource := map[string]string{} // "account\x00id" -> sku
		rows, err = db.txQuery(ctx, tx, "SELECT sku, content_hash, source_account, product_id FROM emag_canonical_products")
		if err != nil {
			return fmt.Errorf("read canonical: %w", err)
		}
		for rows.Next() {
			var sku string
			var c storedCanon
			if err := rows.Scan(&sku, &c.hash, &c.source, &c.productID); err != nil {
				rows.Close()
				return fmt.Errorf("read canonical: %w", err)
			}
			have[sku] = c
			bySource[c.source+"\x00"+strconv.FormatInt(c.productID, 10)] = sku
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("read canonical: %w", err)
		}

		now := db.now()
		var up [][]any
		stale := map[string]bool{}
		for sku := range have {
			if want[sku] == nil {
				stale[sku] = true
			}
		}
		for _, sku := range order {
			r := want[sku]
			js, _ := json.Marshal(r.listings)
			sum := sha256.Sum256([]byte(r.source + "\x00" + strconv.FormatInt(r.productID, 10) + "\x00" + string(js)))
			h := hex.EncodeToString(sum[:])
			if have[sku].hash == h {
				continue
			}
			// The source product may have moved from another SKU's row
			// (its part number changed): that row goes first.
			if old, ok := bySource[r.source+"\x00"+strconv.FormatInt(r.productID, 10)]; ok && old != sku {
				stale[old] = true
			}
			up = append(up, []any{sku, r.partNumber, r.source, r.productID, len(r.listings), string(js), h, now})
		}
		if len(stale) > 0 {
			list := make([]string, 0, len(stale))
			for sku := range stale {
				list = append(list, sku)
			}
			for start := 0; start < len(list); start += 500 {
				ph, a := inList(list[start:min(len(list), start+500)])
				if _, err := tx.ExecContext(ctx, db.q("DELETE FROM emag_canonical_products WHERE sku IN "+ph), a...); err != nil {
					return fmt.Errorf("delete stale canonical rows: %w", err)
				}
			}
		}
		return db.upsertRows(ctx, tx, canonicalSpecs[db.dialect], up)
	})
	return dups, err
}

var canonicalSpecs = map[Dialect]*upsertSpec{SQLite: canonicalSpec(), Postgres: canonicalSpec()}

func canonicalSpec() *upsertSpec {
	return &upsertSpec{table: "emag_canonical_products", key: []string{"sku"}, cols: []column{{name: "sku", pg: "text"},
		{name: "part_number", pg: "text"}, {name: "source_account", pg: "text"}, {name: "product_id", pg: "bigint"},
		{name: "accounts", pg: "bigint"}, {name: "listings", pg: "text", cast: "jsonb"}, {name: "content_hash", pg: "text"},
		{name: "updated_at", pg: "timestamptz"}}}
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
