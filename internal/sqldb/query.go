package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// StoredProduct is a product as stored: the domain record plus the columns
// the table keeps beside it.
type StoredProduct struct {
	magflow.Product
	Images           json.RawMessage
	Characteristics  json.RawMessage
	Manufacturer     json.RawMessage
	EURepresentative json.RawMessage
	UpdatedAt        time.Time
}

// ProductItem is one row of a product list: the product, its own offer
// (zero when it has none) and, for canonical lists, every account's listing
// of its SKU in precedence order, the source first.
type ProductItem struct {
	Product  StoredProduct
	Offer    magflow.Offer
	HasOffer bool
	Listings []magflow.Listing
}

// ProductPage is one page of a product list and the total matching count.
type ProductPage struct {
	Items []ProductItem
	Total int
}

// GoneFilter selects by whether eMAG still lists a record.
type GoneFilter int

// Gone filters.
const (
	GonePresent GoneFilter = iota // only records eMAG still lists (default)
	GoneOnly                      // only records marked gone
	GoneAny                       // both
)

// ProductFilter selects and orders products. Zero fields do not filter.
type ProductFilter struct {
	// Canonical lists one row per SKU (part number): the product of the
	// first account in precedence order (see RebuildCanonical).
	Canonical             bool
	Account               string
	Status                *int
	ValidationStatus      *int
	OfferValidationStatus *int
	MinStock, MaxStock    *int
	MinPrice, MaxPrice    *magflow.Decimal
	Brand                 string
	CategoryID            int64
	// Search matches words of the name, brand or EANs, or a prefix of the
	// part number or part number key (see search.go).
	Search string
	Gone   GoneFilter
	// Sort is one of ProductSorts, "-" in front for descending; ties are
	// broken by account and id, so pages are stable.
	Sort   string
	Limit  int // default 100, at most 1000
	Offset int
	// Extras fills each item's Images, Characteristics, Manufacturer and
	// EURepresentative, read from its raw payload. Lists leave them empty
	// otherwise: the payload is most of a product row's bytes.
	Extras bool
}

// ProductSorts are the accepted ProductFilter.Sort keys.
var ProductSorts = []string{"id", "name", "part_number", "brand", "price", "stock", "updated_at", "last_seen_at"}

const productSelect = `p.account, p.id, p.part_number, p.part_number_key, p.name, p.brand, p.category_id, p.ean, p.status,
p.validation_status, p.offer_validation_status, p.ownership, p.green_tax, p.supply_lead_time, p.safety_information,
p.content_hash, p.first_seen_at, p.last_seen_at, p.gone_at, p.updated_at`

// productSelectRaw is productSelect with the raw payload.
const productSelectRaw = productSelect + ", p.raw"

const offerSelect = `o.account, o.product_id, o.part_number, o.offer_id, o.sale_price, o.recommended_price, o.min_sale_price,
o.max_sale_price, o.best_offer_price, o.currency, o.vat_id, o.status, o.general_stock, o.estimated_stock, o.stock,
o.handling_time, o.availability, o.buy_button_rank, o.number_of_offers, o.content_hash, o.last_seen_at, o.gone_at`

type scanner interface{ Scan(...any) error }

// rawMode says what productDest makes of the raw payload.
type rawMode int

const (
	rawNone       rawMode = iota // not selected (productSelect)
	rawOnlyExtras                // selected (productSelectRaw); only the rawExtras kept
	rawFull                      // selected; the extras and Raw itself kept
)

// productDest returns scan targets for productSelect (productSelectRaw
// unless mode is rawNone) and a function that finishes p after the scan.
// The images, characteristics, manufacturer and EU representative are read
// from the raw payload.
func productDest(p *StoredProduct, mode rawMode) ([]any, func()) {
	var ean sql.NullString
	var raw []byte
	var gone sql.NullTime
	d := []any{&p.Account, &p.ID, &p.PartNumber, &p.PartNumberKey, &p.Name, &p.Brand, &p.CategoryID, &ean, &p.Status,
		&p.ValidationStatus, &p.OfferValidationStatus, &p.Ownership, &p.GreenTax, &p.SupplyLeadTime, &p.SafetyInformation,
		&p.ContentHash, &p.FirstSeenAt, &p.LastSeenAt, &gone, &p.UpdatedAt}
	if mode != rawNone {
		d = append(d, &raw)
	}
	return d, func() {
		p.EAN = decodeStrings(ean.String)
		p.Raw = nil
		p.Manufacturer, p.EURepresentative, p.Images, p.Characteristics = nil, nil, nil, nil
		if len(raw) > 0 {
			own := json.RawMessage(raw) // a copy the scan made
			ex := extractRaw(own)
			p.Manufacturer, p.EURepresentative, p.Images, p.Characteristics = ex.Manufacturer, ex.EURepresentative, ex.Images, ex.Characteristics
			if mode == rawFull {
				p.Raw = own
			}
		}
		p.GoneAt = timePtr(gone)
		p.FirstSeenAt, p.LastSeenAt, p.UpdatedAt = p.FirstSeenAt.UTC(), p.LastSeenAt.UTC(), p.UpdatedAt.UTC()
	}
}

// offerDest is productDest for offerSelect; valid reports a LEFT JOIN match.
func offerDest(o *magflow.Offer) ([]any, func() (valid bool)) {
	var account sql.NullString
	var pid, offerID sql.NullInt64
	var pn, cur, hash, stock, ht, av sql.NullString
	var ints [8]sql.NullInt64
	var seen, gone sql.NullTime
	d := []any{&account, &pid, &pn, &offerID, &o.SalePrice, &o.RecommendedPrice, &o.MinSalePrice, &o.MaxSalePrice,
		&o.BestOfferPrice, &cur, &ints[0], &ints[1], &ints[2], &ints[3], &stock, &ht, &av, &ints[4], &ints[5], &hash, &seen, &gone}
	return d, func() bool {
		if !account.Valid {
			*o = magflow.Offer{}
			return false
		}
		o.Account, o.ProductID, o.PartNumber, o.OfferID, o.Currency, o.ContentHash = account.String, pid.Int64, pn.String, offerID.Int64, cur.String, hash.String
		o.VatID, o.Status, o.GeneralStock, o.EstimatedStock = int(ints[0].Int64), int(ints[1].Int64), int(ints[2].Int64), int(ints[3].Int64)
		o.BuyButtonRank, o.NumberOfOffers = int(ints[4].Int64), int(ints[5].Int64)
		o.Stock, o.HandlingTime, o.Availability = decodeWarehouses(stock.String), decodeWarehouses(ht.String), decodeWarehouses(av.String)
		o.LastSeenAt = seen.Time.UTC()
		o.GoneAt = timePtr(gone)
		return true
	}
}

// lastComplete returns, per account, the start of its last complete product
// scan: a product not gone was seen then or later.
func (db *DB) lastComplete(ctx context.Context) (map[string]time.Time, error) {
	rows, err := db.readQuery(ctx, "SELECT account, last_complete_at FROM emag_sync_checkpoints WHERE stream = ? AND last_complete_at IS NOT NULL", string(magflow.StreamProducts))
	if err != nil {
		return nil, db.wrap("read scans", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var a string
		var t time.Time
		if err := rows.Scan(&a, &t); err != nil {
			return nil, db.wrap("read scans", err)
		}
		out[a] = t.UTC()
	}
	return out, db.wrap("read scans", rows.Err())
}

// seenAt applies the account's last complete scan to a present product: its
// stored last_seen_at only moves when the row is written.
func seenAt(p *magflow.Product, scans map[string]time.Time) {
	if t, ok := scans[p.Account]; ok {
		seenSince(p, t)
	}
}

// seenSince is seenAt for the last complete scan t of p's account.
func seenSince(p *magflow.Product, t time.Time) {
	if p.GoneAt == nil && t.After(p.LastSeenAt) {
		p.LastSeenAt = t
	}
}

type listingJSON struct {
	Account      string          `json:"account"`
	ProductID    int64           `json:"product_id"`
	SalePrice    magflow.Decimal `json:"sale_price"`
	Currency     string          `json:"currency"`
	GeneralStock int             `json:"general_stock"`
	Status       int             `json:"status"`
}

func decodeListings(s string) []magflow.Listing {
	var ls []listingJSON
	_ = json.Unmarshal([]byte(s), &ls)
	out := make([]magflow.Listing, len(ls))
	for i, l := range ls {
		out[i] = magflow.Listing(l)
	}
	return out
}

// searchCandidates is the SQLite query of the rowids a product search
// (see search.go) matches, each once, and its arguments: from the word
// index and both prefix indexes. The range [key, key+0xFF) holds exactly the
// strings that begin with key (0xFF never occurs in UTF-8).
func (db *DB) searchCandidates(q string) (string, []any) {
	key := asciiLower(q)
	sub := "SELECT rowid FROM emag_products WHERE lower(part_number) >= ? AND lower(part_number) < ?" +
		" UNION SELECT rowid FROM emag_products WHERE lower(part_number_key) >= ? AND lower(part_number_key) < ?"
	args := []any{key, key + "\xff", key, key + "\xff"}
	if words := searchWords(q); len(words) > 0 {
		sub = "SELECT rowid FROM emag_products_fts WHERE emag_products_fts MATCH ? UNION " + sub
		args = append([]any{ftsQuery(words)}, args...)
	}
	return sub, args
}

// searchCond is the PostgreSQL condition of a product search (see
// search.go) and its arguments.
func (db *DB) searchCond(q string) (string, []any) {
	words := searchWords(q)
	key := strings.ToLower(q)
	// ~>=~ and ~<~ compare bytewise and use the text_pattern_ops indexes
	// in generic plans too (a LIKE with a parameter pattern would not).
	cond := "lower(p.part_number) ~>=~ ? AND lower(p.part_number) ~<~ ? OR lower(p.part_number_key) ~>=~ ? AND lower(p.part_number_key) ~<~ ?"
	args := []any{key, key + "\U0010FFFF", key, key + "\U0010FFFF"}
	if len(words) > 0 {
		cond = "array_to_tsvector(string_to_array(p.search_terms, ' ')) @@ ?::tsquery OR " + cond
		args = append([]any{tsQuery(words)}, args...)
	}
	return "(" + cond + ")", args
}

// matchKeys runs query, which selects product keys (account, id).
func (db *DB) matchKeys(ctx context.Context, query string, args ...any) ([]string, []int64, error) {
	rows, err := db.readQuery(ctx, query, args...)
	if err != nil {
		return nil, nil, db.wrap("search products", err)
	}
	defer rows.Close()
	var accounts []string
	var ids []int64
	for rows.Next() {
		var a string
		var id int64
		if err := rows.Scan(&a, &id); err != nil {
			return nil, nil, db.wrap("search products", err)
		}
		accounts, ids = append(accounts, a), append(ids, id)
	}
	return accounts, ids, db.wrap("search products", rows.Err())
}

// escapeLike escapes LIKE wildcards with a backslash.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// accountCond is the product list's condition on the account.
const accountCond = "p.account = ?"

// productWhere returns the FROM clause and conditions of a product list.
func (db *DB) productWhere(f ProductFilter) (from string, where []string, args []any, err error) {
	from = " FROM emag_products p LEFT JOIN emag_product_offers o ON o.account = p.account AND o.product_id = p.id"
	if f.Canonical {
		from += " JOIN emag_canonical_products c ON c.source_account = p.account AND c.product_id = p.id"
	}
	add := func(cond string, v ...any) { where = append(where, cond); args = append(args, v...) }
	switch f.Gone {
	case GonePresent:
		where = append(where, "p.gone_at IS NULL")
	case GoneOnly:
		where = append(where, "p.gone_at IS NOT NULL")
	}
	if f.Account != "" {
		add(accountCond, f.Account)
	}
	if f.Status != nil {
		add("p.status = ?", *f.Status)
	}
	if f.ValidationStatus != nil {
		add("p.validation_status = ?", *f.ValidationStatus)
	}
	if f.OfferValidationStatus != nil {
		add("p.offer_validation_status = ?", *f.OfferValidationStatus)
	}
	if f.MinStock != nil {
		add("o.general_stock >= ?", *f.MinStock)
	}
	if f.MaxStock != nil {
		add("o.general_stock <= ?", *f.MaxStock)
	}
	if f.MinPrice != nil {
		c, v := db.money("o.sale_price", *f.MinPrice)
		add(c+" >= ?", v)
	}
	if f.MaxPrice != nil {
		c, v := db.money("o.sale_price", *f.MaxPrice)
		add(c+" <= ?", v)
	}
	if f.Brand != "" {
		add("p.brand = ?", f.Brand)
	}
	if f.CategoryID != 0 {
		add("p.category_id = ?", f.CategoryID)
	}
	if q := strings.TrimSpace(f.Search); q != "" {
		if db.dialect == SQLite {
			// The matches drive the query (CROSS JOIN fixes the join order):
			// left to itself, the planner walks every product of the
			// account and probes the match list.
			sub, a := db.searchCandidates(q)
			from = " FROM (" + sub + ") AS m CROSS JOIN emag_products p ON p.rowid = m.rowid" + strings.TrimPrefix(from, " FROM emag_products p")
			args = append(a, args...)
		} else {
			cond, a := db.searchCond(q)
			add(cond, a...)
		}
	}
	return from, where, args, nil
}

func (db *DB) productOrder(sort string) (string, error) {
	desc := strings.HasPrefix(sort, "-")
	key := strings.TrimPrefix(sort, "-")
	var col string
	switch key {
	case "", "id":
		col = ""
	case "name":
		col = "p.name"
	case "part_number":
		col = "p.part_number"
	case "brand":
		col = "p.brand"
	case "price":
		col = "COALESCE(" + db.moneyCol("o.sale_price") + ", 0)"
	case "stock":
		col = "COALESCE(o.general_stock, 0)"
	case "updated_at":
		col = "p.updated_at"
	case "last_seen_at":
		col = "p.last_seen_at"
	default:
		return "", &magflow.Error{Code: magflow.EInvalid, Field: "sort",
			Message: fmt.Sprintf("unknown sort %q: use one of %s, with - in front for descending", sort, strings.Join(ProductSorts, ", "))}
	}
	dir := ""
	if desc {
		dir = " DESC"
	}
	if col == "" {
		return " ORDER BY p.account" + dir + ", p.id" + dir, nil
	}
	return " ORDER BY " + col + dir + ", p.account" + dir + ", p.id" + dir, nil
}

// searchDriveMax is the most matches for which a PostgreSQL search is
// driven from its matches (see ListProducts).
const searchDriveMax = 5000

// ListProducts returns one page of products matching f and the total count.
//
// A search on PostgreSQL first fetches the keys of its matches (at most
// searchDriveMax+1, by the word and part number indexes): their number is
// the total, and the page query then joins the products to those keys, in
// the planner's full knowledge of how few they are. Left to itself, the
// planner has no estimate of a prefix search (it assumes 2% of the table)
// and walks the whole table in sort order looking for a handful of rows.
// A search with more matches walks the table in sort order, which then
// reaches a page soon.
func (db *DB) ListProducts(ctx context.Context, f ProductFilter) (ProductPage, error) {
	order, err := db.productOrder(f.Sort)
	if err != nil {
		return ProductPage{}, err
	}
	done, err := db.admit(ctx)
	if err != nil {
		return ProductPage{}, db.wrap("list products", err)
	}
	defer done()
	from, where, args, err := db.productWhere(f)
	if err != nil {
		return ProductPage{}, err
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	var out ProductPage
	countFrom := from
	if f.MinStock == nil && f.MaxStock == nil && f.MinPrice == nil && f.MaxPrice == nil {
		countFrom = strings.Replace(from, " LEFT JOIN emag_product_offers o ON o.account = p.account AND o.product_id = p.id", "", 1)
	}
	driven := false
	if db.dialect == Postgres && strings.TrimSpace(f.Search) != "" {
		// The account is compared so that no index serves it: without
		// statistics (a catalogue just synced) the planner would intersect
		// the search's matches with every product of the account.
		kw := strings.Replace(w, accountCond, "p.account || '' = ?", 1)
		most := cmp.Or(db.driveMax, searchDriveMax)
		accounts, ids, err := db.matchKeys(ctx, "SELECT p.account, p.id"+countFrom+kw+" LIMIT ?", append(args, most+1)...)
		if err != nil {
			return ProductPage{}, err
		}
		if len(ids) <= most {
			driven, out.Total = true, len(ids)
			from = " FROM unnest(?::text[], ?::bigint[]) AS m(account, id) JOIN emag_products p ON p.account = m.account AND p.id = m.id" +
				strings.TrimPrefix(from, " FROM emag_products p")
			args, w = []any{accounts, ids}, "" // the keys passed every filter
		}
	}
	if !driven {
		if err := db.readQueryRow(ctx, "SELECT COUNT(*)"+countFrom+w, args...).Scan(&out.Total); err != nil {
			return ProductPage{}, db.wrap("count products", err)
		}
	}
	offset := max(0, f.Offset)
	if out.Total <= offset {
		return out, nil
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	mode, cols := rawNone, productSelect
	if f.Extras {
		mode, cols = rawOnlyExtras, productSelectRaw
	}
	sel := "SELECT " + cols + ", " + offerSelect + ", k.last_complete_at"
	if f.Canonical {
		sel += ", c.listings"
	}
	// The account's last complete scan, for seenAt, comes with each row.
	from += " LEFT JOIN emag_sync_checkpoints k ON k.account = p.account AND k.stream = '" + string(magflow.StreamProducts) + "'"
	rows, err := db.readQuery(ctx, sel+from+w+order+" LIMIT ? OFFSET ?", append(args, limit, offset)...)
	if err != nil {
		return ProductPage{}, db.wrap("list products", err)
	}
	defer rows.Close()
	out.Items = make([]ProductItem, 0, min(limit, out.Total-offset))
	for rows.Next() {
		out.Items = append(out.Items, ProductItem{})
		it := &out.Items[len(out.Items)-1]
		pd, pfin := productDest(&it.Product, mode)
		od, ofin := offerDest(&it.Offer)
		var complete sql.NullTime
		var listings string
		dest := append(append(pd, od...), &complete)
		if f.Canonical {
			dest = append(dest, &listings)
		}
		if err := rows.Scan(dest...); err != nil {
			return ProductPage{}, db.wrap("list products", err)
		}
		pfin()
		it.HasOffer = ofin()
		if complete.Valid {
			seenSince(&it.Product.Product, complete.Time.UTC())
		}
		if f.Canonical {
			it.Listings = decodeListings(listings)
		}
	}
	return out, db.wrap("list products", rows.Err())
}

// ProductDetail is one product with every account's offer for its SKU.
type ProductDetail struct {
	Product StoredProduct
	// Offers are the offers of every account for the product's part number,
	// the product's own first, then by account (gone offers included).
	Offers []magflow.Offer
}

// GetProduct returns the product id of account, with the raw payload.
func (db *DB) GetProduct(ctx context.Context, account string, id int64) (ProductDetail, error) {
	var d ProductDetail
	pd, fin := productDest(&d.Product, rawFull)
	err := db.readQueryRow(ctx, "SELECT "+productSelectRaw+" FROM emag_products p WHERE p.account = ? AND p.id = ?", account, id).Scan(pd...)
	if err == sql.ErrNoRows {
		return d, magflow.Errorf(magflow.ENotFound, "product %d of account %s not found", id, account)
	}
	if err != nil {
		return d, db.wrap("get product", err)
	}
	fin()
	scans, err := db.lastComplete(ctx)
	if err != nil {
		return d, err
	}
	seenAt(&d.Product.Product, scans)
	q := "SELECT " + offerSelect + " FROM emag_product_offers o WHERE (o.account = ? AND o.product_id = ?)"
	args := []any{account, id}
	if d.Product.PartNumber != "" {
		q += " OR o.part_number = ?"
		args = append(args, d.Product.PartNumber)
	}
	rows, err := db.readQuery(ctx, q+" ORDER BY CASE WHEN o.account = ? AND o.product_id = ? THEN 0 ELSE 1 END, o.account, o.product_id", append(args, account, id)...)
	if err != nil {
		return d, db.wrap("get product offers", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o magflow.Offer
		od, ofin := offerDest(&o)
		if err := rows.Scan(od...); err != nil {
			return d, db.wrap("get product offers", err)
		}
		ofin()
		d.Offers = append(d.Offers, o)
	}
	return d, db.wrap("get product offers", rows.Err())
}

// OfferFilter selects offers. Zero fields do not filter.
type OfferFilter struct {
	Account            string
	Status             *int
	MinStock, MaxStock *int
	MinPrice, MaxPrice *magflow.Decimal
	Search             string // part number prefix
	Gone               GoneFilter
	Sort               string // "id" (default), "price", "stock", "updated_at"; "-" for descending
	Limit              int    // default 100, at most 1000
	Offset             int
}

// ListOffers returns one page of offers and the total count.
func (db *DB) ListOffers(ctx context.Context, f OfferFilter) ([]magflow.Offer, int, error) {
	var where []string
	var args []any
	add := func(cond string, v ...any) { where = append(where, cond); args = append(args, v...) }
	switch f.Gone {
	case GonePresent:
		where = append(where, "o.gone_at IS NULL")
	case GoneOnly:
		where = append(where, "o.gone_at IS NOT NULL")
	}
	if f.Account != "" {
		add("o.account = ?", f.Account)
	}
	if f.Status != nil {
		add("o.status = ?", *f.Status)
	}
	if f.MinStock != nil {
		add("o.general_stock >= ?", *f.MinStock)
	}
	if f.MaxStock != nil {
		add("o.general_stock <= ?", *f.MaxStock)
	}
	if f.MinPrice != nil {
		c, v := db.money("o.sale_price", *f.MinPrice)
		add(c+" >= ?", v)
	}
	if f.MaxPrice != nil {
		c, v := db.money("o.sale_price", *f.MaxPrice)
		add(c+" <= ?", v)
	}
	if f.Search != "" {
		add(`o.part_number LIKE ? ESCAPE '\'`, escapeLike(f.Search)+"%")
	}
	w := ""
	if len(where) > 0 {
		w = " WHERE " + strings.Join(where, " AND ")
	}
	desc := strings.HasPrefix(f.Sort, "-")
	dir := ""
	if desc {
		dir = " DESC"
	}
	order := ""
	switch strings.TrimPrefix(f.Sort, "-") {
	case "", "id":
	case "price":
		order = db.moneyCol("o.sale_price") + dir + ", "
	case "stock":
		order = "o.general_stock" + dir + ", "
	case "updated_at":
		order = "o.updated_at" + dir + ", "
	default:
		return nil, 0, &magflow.Error{Code: magflow.EInvalid, Field: "sort", Message: fmt.Sprintf("unknown sort %q: use id, price, stock or updated_at, with - in front for descending", f.Sort)}
	}
	done, err := db.admit(ctx)
	if err != nil {
		return nil, 0, db.wrap("list offers", err)
	}
	defer done()
	var total int
	if err := db.readQueryRow(ctx, "SELECT COUNT(*) FROM emag_product_offers o"+w, args...).Scan(&total); err != nil {
		return nil, 0, db.wrap("count offers", err)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := db.read.QueryContext(ctx, db.q("SELECT "+offerSelect+" FROM emag_product_offers o"+w+" ORDER BY "+order+"o.account"+dir+", o.product_id"+dir+" LIMIT ? OFFSET ?"),
		append(args, min(limit, 1000), max(0, f.Offset))...)
	if err != nil {
		return nil, 0, db.wrap("list offers", err)
	}
	defer rows.Close()
	var out []magflow.Offer
	for rows.Next() {
		var o magflow.Offer
		od, fin := offerDest(&o)
		if err := rows.Scan(od...); err != nil {
			return nil, 0, db.wrap("list offers", err)
		}
		fin()
		out = append(out, o)
	}
	return out, total, db.wrap("list offers", rows.Err())
}

// ExportProducts streams every product (of account, or all when empty;
// gone ones included) with its raw payload, by account and id, in constant
// memory. Stop iterating to stop the query.
func (db *DB) ExportProducts(ctx context.Context, account string) iter.Seq2[StoredProduct, error] {
	return func(yield func(StoredProduct, error) bool) {
		q := "SELECT " + productSelectRaw + " FROM emag_products p"
		var args []any
		if account != "" {
			q += " WHERE p.account = ?"
			args = append(args, account)
		}
		scans, err := db.lastComplete(ctx)
		if err != nil {
			yield(StoredProduct{}, err)
			return
		}
		rows, err := db.readQuery(ctx, q+" ORDER BY p.account, p.id", args...)
		if err != nil {
			yield(StoredProduct{}, db.wrap("export products", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var p StoredProduct
			d, fin := productDest(&p, rawFull)
			if err := rows.Scan(d...); err != nil {
				yield(StoredProduct{}, db.wrap("export products", err))
				return
			}
			fin()
			seenAt(&p.Product, scans)
			if !yield(p, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(StoredProduct{}, db.wrap("export products", err))
		}
	}
}

// ExportOffers streams every offer (of account, or all when empty) by
// account and product id, in constant memory.
func (db *DB) ExportOffers(ctx context.Context, account string) iter.Seq2[magflow.Offer, error] {
	return func(yield func(magflow.Offer, error) bool) {
		q := "SELECT " + offerSelect + " FROM emag_product_offers o"
		var args []any
		if account != "" {
			q += " WHERE o.account = ?"
			args = append(args, account)
		}
		rows, err := db.readQuery(ctx, q+" ORDER BY o.account, o.product_id", args...)
		if err != nil {
			yield(magflow.Offer{}, db.wrap("export offers", err))
			return
		}
		defer rows.Close()
		for rows.Next() {
			var o magflow.Offer
			d, fin := offerDest(&o)
			if err := rows.Scan(d...); err != nil {
				yield(magflow.Offer{}, db.wrap("export offers", err))
				return
			}
			fin()
			if !yield(o, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(magflow.Offer{}, db.wrap("export offers", err))
		}
	}
}
