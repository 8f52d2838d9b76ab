package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"iter"
	"slices"
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
	// Total is the number of matching products; when TotalCapped, a lower
	// bound: a search with more than searchDriveMax matches is not counted
	// (see ListProducts).
	Total       int
	TotalCapped bool
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
	if out, ok := fastListings(s); ok {
		return out
	}
	return jsonListings(s)
}

// jsonListings decodes listings with encoding/json: decodeListings'
// fallback, and what fastListings must agree with.
func jsonListings(s string) []magflow.Listing {
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
// search.go) and its arguments, served by the word and part number indexes.
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

// searchRowCond is the condition of a product search (see search.go)
// tested on one row, without an index, and its arguments: what a walk of
// the products in sort order filters with. search_terms holds the words
// once each, separated by single spaces, so a word is " w " inside
// " "+search_terms+" " and a word prefix is " w" inside " "+search_terms,
// the same matches as the word indexes'.
func (db *DB) searchRowCond(q string) (string, []any) {
	words := searchWords(q)
	find, lt, top := "strpos", "~<~", "\U0010FFFF"
	key := strings.ToLower(q)
	if db.dialect == SQLite {
		find, lt, top, key = "instr", "<", "\xff", asciiLower(q)
	}
	var conds []string
	var args []any
	for i, w := range words {
		if i < len(words)-1 {
			conds = append(conds, find+"(' ' || p.search_terms || ' ', ?) > 0")
			args = append(args, " "+w+" ")
		} else {
			conds = append(conds, find+"(' ' || p.search_terms, ?) > 0")
			args = append(args, " "+w)
		}
	}
	ge := strings.Replace(lt, "<", ">=", 1)
	pn := fmt.Sprintf("lower(p.part_number) %s ? AND lower(p.part_number) %s ? OR lower(p.part_number_key) %s ? AND lower(p.part_number_key) %s ?", ge, lt, ge, lt)
	args = append(args, key, key+top, key, key+top)
	if len(conds) > 0 {
		pn = strings.Join(conds, " AND ") + " OR " + pn
	}
	return "(" + pn + ")", args
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

// offersJoin joins each product to its own offer.
const offersJoin = " LEFT JOIN emag_product_offers o ON o.account = p.account AND o.product_id = p.id"

// productWhere returns the joins after "FROM emag_products p" and the
// conditions of a product list but its search (see ListProducts).
func (db *DB) productWhere(f ProductFilter) (joins string, where []string, args []any) {
	joins = offersJoin
	if f.Canonical {
		// SQLite's CROSS JOIN keeps its planner from driving a walk in
		// product order from the canonical table.
		kind := " JOIN"
		if db.dialect == SQLite {
			kind = " CROSS JOIN"
		}
		joins += kind + " emag_canonical_products c ON c.source_account = p.account AND c.product_id = p.id"
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
	return joins, where, args
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

// searchDriveMax is the most matches of a search that a product list
// counts exactly and sorts in full (see ListProducts).
const searchDriveMax = 1000

// ListProducts returns one page of products matching f and the total count.
//
// A search first fetches the keys of at most searchDriveMax+1 of its
// matches (filters applied) through the word and part number indexes
// alone. When there are no more, their number is the total, and the page
// query joins the products to those keys (on PostgreSQL the planner,
// left to itself, has no estimate of a prefix search, assumes 2% of the
// table and walks it all in sort order looking for a handful of rows).
//
// A search with more matches (a word found in a quarter of the catalogue,
// the first digits of the EANs) is not counted: Total is then a lower
// bound, TotalCapped says so, and in the default order the page query
// walks the products in key order, tests each row and stops after the
// page (one row in 100 matching at worst, so it reads at most about 100
// rows per row shown). Other orders sort every match.
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
	joins, where, args := db.productWhere(f)
	countJoins := joins
	if f.MinStock == nil && f.MaxStock == nil && f.MinPrice == nil && f.MaxPrice == nil {
		countJoins = strings.Replace(joins, offersJoin, "", 1)
	}
	offset := max(0, f.Offset)
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	var out ProductPage
	from := " FROM emag_products p" + joins
	q := strings.TrimSpace(f.Search)
	if q == "" {
		if err := db.readQueryRow(ctx, "SELECT COUNT(*) FROM emag_products p"+countJoins+whereSQL(where), args...).Scan(&out.Total); err != nil {
			return ProductPage{}, db.wrap("count products", err)
		}
		if out.Total <= offset {
			return out, nil
		}
		out.Items, err = db.productRows(ctx, f, from, where, args, order, limit, offset)
		return out, err
	}
	most := cmp.Or(db.driveMax, searchDriveMax)
	keys, err := db.probeSearch(ctx, q, countJoins, where, args, most)
	if err != nil {
		return ProductPage{}, err
	}
	if n := keys.len(); n <= most {
		out.Total = n
		if n <= offset {
			return out, nil
		}
		kf, kw, ka := db.keysFrom(keys, joins, where, args)
		out.Items, err = db.productRows(ctx, f, kf, kw, ka, order, limit, offset)
		return out, err
	}
	out.TotalCapped = true
	need := offset + limit + 1
	if key := strings.TrimPrefix(f.Sort, "-"); key == "" || key == "id" {
		budget := max(walkBudget, walkFactor*need)
		if db.driveMax > 0 {
			budget = walkFactor * need // tests: small catalogues walk in part too
		}
		walked, err := db.walkSearch(ctx, q, countJoins, where, args, order, need, budget)
		if err != nil {
			return ProductPage{}, err
		}
		if walked.len() == need {
			kf, kw, ka := db.keysFrom(walked.slice(offset, offset+limit), joins, where, args)
			out.Items, err = db.productRows(ctx, f, kf, kw, ka, order, limit, 0)
			out.Total = max(most+1, need)
			return out, err
		}
	}
	// Sparse or clustered matches, a deep page, or another order: every
	// match is read and sorted.
	mf, mw, ma := db.allMatches(q, joins, where, args)
	out.Items, err = db.productRows(ctx, f, mf, mw, ma, order, limit+1, offset)
	if err != nil {
		return ProductPage{}, err
	}
	more := 0
	if len(out.Items) > limit {
		out.Items, more = out.Items[:limit], 1
	}
	out.Total = max(most+1, offset+len(out.Items)+more)
	return out, nil
}

// A search walk (see ListProducts) reads at most walkFactor rows per row
// it needs, and at least walkBudget: matches that are a tenth of the rows
// walked or more, spread evenly, fill a page within it.
const (
	walkFactor = 10
	walkBudget = 2000
)

// whereSQL is the WHERE clause of conditions, "" for none.
func whereSQL(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// productKeys are products found by a search: SQLite rowids, or
// PostgreSQL (account, id) pairs.
type productKeys struct {
	rowids   []int64
	accounts []string
	ids      []int64
}

func (k productKeys) len() int { return len(k.rowids) + len(k.ids) }

func (k productKeys) slice(from, to int) productKeys {
	if k.rowids != nil {
		return productKeys{rowids: k.rowids[min(from, len(k.rowids)):min(to, len(k.rowids))]}
	}
	from, to = min(from, len(k.ids)), min(to, len(k.ids))
	return productKeys{accounts: k.accounts[from:to], ids: k.ids[from:to]}
}

// keysFrom returns the FROM clause (with joins), conditions and arguments
// that select the products of keys, all of which passed where.
func (db *DB) keysFrom(keys productKeys, joins string, where []string, args []any) (string, []string, []any) {
	if db.dialect == SQLite {
		return " FROM json_each(?) AS m CROSS JOIN emag_products p ON p.rowid = m.value" + joins, where,
			append([]any{jsonIDs(keys.rowids)}, args...)
	}
	// Without the conditions the planner plans nested loops over exactly
	// the keys given.
	return " FROM unnest(?::text[], ?::bigint[]) AS m(account, id) JOIN emag_products p ON p.account = m.account AND p.id = m.id" + joins,
		nil, []any{keys.accounts, keys.ids}
}

// allMatches returns the FROM clause, conditions and arguments that select
// every product matching the search q and where, through the indexes.
func (db *DB) allMatches(q, joins string, where []string, args []any) (string, []string, []any) {
	if db.dialect == SQLite {
		// The matches drive the query (CROSS JOIN fixes the join order):
		// left to itself, the planner walks every product of the account
		// and probes the match list.
		sub, sa := db.searchCandidates(q)
		return " FROM (" + sub + ") AS m CROSS JOIN emag_products p ON p.rowid = m.rowid" + joins, where, append(slices.Clip(sa), args...)
	}
	cond, ca := db.searchCond(q)
	return " FROM emag_products p" + joins, append(slices.Clip(where), cond), append(slices.Clip(args), ca...)
}

// probeSearch returns the keys of at most most+1 products matching the
// search q and where, read through the indexes only. The words are first
// looked up whole (the last too): a word found more than most times needs
// no prefix lookup, which reads every word that begins like it.
func (db *DB) probeSearch(ctx context.Context, q, countJoins string, where []string, args []any, most int) (productKeys, error) {
	words := searchWords(q)
	if db.dialect == Postgres {
		// The account is compared so that no index serves it: without
		// statistics (a catalogue just synced) the planner would intersect
		// the search's matches with every product of the account.
		kw := strings.Replace(whereSQL(where), accountCond, "p.account || '' = ?", 1)
		and := " AND "
		if kw == "" {
			and = " WHERE "
		}
		query := "SELECT p.account, p.id FROM emag_products p" + countJoins + kw + and
		if len(words) > 0 {
			exact := "array_to_tsvector(string_to_array(p.search_terms, ' ')) @@ ?::tsquery"
			accounts, ids, err := db.matchKeys(ctx, query+exact+" LIMIT ?", append(slices.Clip(args), tsQueryWhole(words), most+1)...)
			if err != nil || len(ids) > most {
				return productKeys{accounts: accounts, ids: ids}, err
			}
		}
		cond, ca := db.searchCond(q)
		accounts, ids, err := db.matchKeys(ctx, query+cond+" LIMIT ?", append(append(slices.Clip(args), ca...), most+1)...)
		return productKeys{accounts: accounts, ids: ids}, err
	}
	// SQLite: each index on its own, stopping at most+1; a UNION would
	// collect every match first.
	seen := map[int64]struct{}{}
	var rowids []int64
	probe := func(from, cond string, a ...any) (bool, error) {
		// +account: the search's index, not the key, serves the query.
		w := strings.Replace(whereSQL(append([]string{cond}, where...)), accountCond, "+"+accountCond, 1)
		ids, err := db.matchRowids(ctx, "SELECT p.rowid"+from+countJoins+w+" LIMIT ?", append(append(a, args...), most+1)...)
		if err != nil {
			return false, err
		}
		for _, id := range ids {
			if _, ok := seen[id]; !ok {
				seen[id] = struct{}{}
				rowids = append(rowids, id)
			}
		}
		return len(rowids) > most, nil
	}
	const fts = " FROM emag_products_fts CROSS JOIN emag_products p ON p.rowid = emag_products_fts.rowid"
	if len(words) > 0 {
		for _, expr := range []string{ftsQueryWhole(words), ftsQuery(words)} {
			if broad, err := probe(fts, "emag_products_fts MATCH ?", expr); err != nil || broad {
				return productKeys{rowids: rowids}, err
			}
		}
	}
	key := asciiLower(q)
	for _, col := range []string{"part_number", "part_number_key"} {
		if broad, err := probe(" FROM emag_products p", "lower(p."+col+") >= ? AND lower(p."+col+") < ?", key, key+"\xff"); err != nil || broad {
			return productKeys{rowids: rowids}, err
		}
	}
	return productKeys{rowids: rowids}, nil
}

// walkSearch walks at most budget products matching where in order (the
// default order, by key) and returns the keys of the first need of them
// that match the search q, tested row by row (see searchRowCond).
func (db *DB) walkSearch(ctx context.Context, q, countJoins string, where []string, args []any, order string, need, budget int) (productKeys, error) {
	cols, sel := "p.account, p.id, p.search_terms, p.part_number, p.part_number_key", "p.account, p.id"
	if db.dialect == SQLite {
		cols, sel = cols+", p.rowid AS r", "p.r"
	}
	cond, ca := db.searchRowCond(q)
	query := "SELECT " + sel + " FROM (SELECT " + cols + " FROM emag_products p" + countJoins + whereSQL(where) + order + " LIMIT ?) AS p WHERE " + cond + order + " LIMIT ?"
	a := append(append(append(slices.Clip(args), budget), ca...), need)
	if db.dialect == SQLite {
		ids, err := db.matchRowids(ctx, query, a...)
		return productKeys{rowids: ids}, err
	}
	accounts, ids, err := db.matchKeys(ctx, query, a...)
	return productKeys{accounts: accounts, ids: ids}, err
}

// matchRowids runs query, which selects SQLite rowids.
func (db *DB) matchRowids(ctx context.Context, query string, args ...any) ([]int64, error) {
	rows, err := db.readQuery(ctx, query, args...)
	if err != nil {
		return nil, db.wrap("search products", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, db.wrap("search products", err)
		}
		ids = append(ids, id)
	}
	return ids, db.wrap("search products", rows.Err())
}

// productRows reads up to limit products of a list after offset, with
// their offers (and listings in the canonical view).
func (db *DB) productRows(ctx context.Context, f ProductFilter, from string, where []string, args []any, order string, limit, offset int) ([]ProductItem, error) {
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
	rows, err := db.readQuery(ctx, sel+from+whereSQL(where)+order+" LIMIT ? OFFSET ?", append(args, limit, offset)...)
	if err != nil {
		return nil, db.wrap("list products", err)
	}
	defer rows.Close()
	items := make([]ProductItem, 0, min(limit, 100))
	for rows.Next() {
		items = append(items, ProductItem{})
		it := &items[len(items)-1]
		pd, pfin := productDest(&it.Product, mode)
		od, ofin := offerDest(&it.Offer)
		var complete sql.NullTime
		var listings string
		dest := append(append(pd, od...), &complete)
		if f.Canonical {
			dest = append(dest, &listings)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, db.wrap("list products", err)
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
	return items, db.wrap("list products", rows.Err())
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

// CatalogRow is one product as an in-memory read model of the product
// list (internal/catalog) keeps it: the item ListProducts would return for
// it, and what its filters, search and sorts read.
type CatalogRow struct {
	// Item is the product's item in the per-account view (no listings);
	// Listings its canonical listings when Canonical.
	Item      ProductItem
	Canonical bool
	Listings  []magflow.Listing
	// SearchTerms are the product's stored search words (see search.go);
	// PartNumberLower and PartNumberKeyLower its part number and key as
	// the engine's lower() makes them.
	SearchTerms                         string
	PartNumberLower, PartNumberKeyLower string
	// Ranks place the row under each sort key of ProductSorts, as the
	// engine orders that key's expression (equal values, equal ranks;
	// ascending from 1). Ranks[0] ("id") ranks the account: the default
	// order is account, then id.
	Ranks [8]int32
}

// CatalogSnapshot is every product of the database read in one snapshot,
// with the catalogue's change counter of that snapshot (SQLite; 0 on
// PostgreSQL, which notifies changes instead: see ChangeCounters).
type CatalogSnapshot struct {
	Version int64
	Rows    []CatalogRow
}

// ChangeCounters returns the counters the triggers of migration 00016 move:
// catalog whenever a product, an offer, a canonical row or an account's
// last complete scan changes, users whenever a user does (SQLite). On
// PostgreSQL the same triggers send notifications on channel
// ChangeChannel instead, and ChangeCounters returns zeros.
func (db *DB) ChangeCounters(ctx context.Context) (catalog, users int64, err error) {
	if db.dialect != SQLite {
		return 0, 0, nil
	}
	err = db.readQueryRow(ctx, "SELECT catalog, users FROM magflow_change_counters WHERE id = 1").Scan(&catalog, &users)
	return catalog, users, db.wrap("read change counters", err)
}

// ChangeChannel is the PostgreSQL notification channel of the triggers of
// migration 00016; payloads are "catalog:<schema>" and "users:<schema>".
const ChangeChannel = "magflow_changes"

// CurrentSchema returns the PostgreSQL schema the database's tables live
// in (the payload suffix of ChangeChannel), "" on SQLite.
func (db *DB) CurrentSchema(ctx context.Context) (string, error) {
	if db.dialect != Postgres {
		return "", nil
	}
	var s string
	err := db.read.QueryRowContext(ctx, "SELECT current_schema()").Scan(&s)
	return s, db.wrap("read the schema", err)
}

// LoadCatalog reads every product (gone ones too) with its offer, its
// canonical listings, its search words and its sort ranks, in one read
// transaction (REPEATABLE READ on PostgreSQL) so that the rows and the
// change counter belong to one snapshot. The items are decoded exactly as
// ListProducts decodes them.
func (db *DB) LoadCatalog(ctx context.Context) (*CatalogSnapshot, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.read.BeginTx(ctx, opts)
	if err != nil {
		return nil, db.wrap("load the catalogue", err)
	}
	defer tx.Rollback()
	snap := &CatalogSnapshot{}
	if db.dialect == SQLite {
		// The first read of the transaction takes its snapshot.
		if err := tx.QueryRowContext(ctx, "SELECT catalog FROM magflow_change_counters WHERE id = 1").Scan(&snap.Version); err != nil {
			return nil, db.wrap("load the catalogue", err)
		}
	}
	var count int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*) FROM emag_products").Scan(&count); err != nil {
		return nil, db.wrap("load the catalogue", err)
	}
	snap.Rows = make([]CatalogRow, 0, count)
	price := "COALESCE(" + db.moneyCol("o.sale_price") + ", 0)"
	var sel strings.Builder
	sel.WriteString("SELECT " + productSelect + ", " + offerSelect + ", k.last_complete_at, c.listings, p.search_terms, lower(p.part_number), lower(p.part_number_key)")
	if db.dialect == Postgres {
		// The engine ranks (its collation orders the text columns), over
		// narrow rows, sorted in memory.
		if _, err := tx.ExecContext(ctx, "SET LOCAL work_mem = '256MB'"); err != nil {
			return nil, db.wrap("load the catalogue", err)
		}
		sel.Reset()
		sel.WriteString("WITH r AS (SELECT p.account, p.id")
		for _, r := range []string{"p.account", "p.name", "p.part_number", "p.brand", price, "COALESCE(o.general_stock, 0)", "p.updated_at", "p.last_seen_at"} {
			sel.WriteString(", dense_rank() OVER (ORDER BY " + r + ")")
		}
		sel.WriteString(" FROM emag_products p" + offersJoin + ") ")
		sel.WriteString("SELECT " + productSelect + ", " + offerSelect + ", k.last_complete_at, c.listings, p.search_terms, lower(p.part_number), lower(p.part_number_key)")
		sel.WriteString(", r.*")
	} else {
		// SQLite's window functions sort whole rows, eight times: the keys
		// are ranked in Go instead, as SQLite compares them (BINARY text,
		// integers, the times' stored text).
		sel.WriteString(", " + price + ", COALESCE(o.general_stock, 0), CAST(p.updated_at AS TEXT), CAST(p.last_seen_at AS TEXT)")
	}
	from := " FROM emag_products p"
	if db.dialect == Postgres {
		from += " JOIN r ON r.account = p.account AND r.id = p.id"
	}
	sel.WriteString(from + offersJoin +
		" LEFT JOIN emag_sync_checkpoints k ON k.account = p.account AND k.stream = '" + string(magflow.StreamProducts) + "'" +
		" LEFT JOIN emag_canonical_products c ON c.source_account = p.account AND c.product_id = p.id")
	rows, err := tx.QueryContext(ctx, sel.String())
	if err != nil {
		return nil, db.wrap("load the catalogue", err)
	}
	defer rows.Close()
	type sqliteKeys struct {
		price, stock     int64
		updated, seenRaw string
	}
	var keys []sqliteKeys
	for rows.Next() {
		snap.Rows = append(snap.Rows, CatalogRow{})
		r := &snap.Rows[len(snap.Rows)-1]
		pd, pfin := productDest(&r.Item.Product, rawNone)
		od, ofin := offerDest(&r.Item.Offer)
		var complete sql.NullTime
		var listings sql.NullString
		var rk [8]int64
		var sk sqliteKeys
		dest := append(append(pd, od...), &complete, &listings, &r.SearchTerms, &r.PartNumberLower, &r.PartNumberKeyLower)
		if db.dialect == Postgres {
			var a string
			var id int64
			dest = append(dest, &a, &id)
			for i := range rk {
				dest = append(dest, &rk[i])
			}
		} else {
			dest = append(dest, &sk.price, &sk.stock, &sk.updated, &sk.seenRaw)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, db.wrap("load the catalogue", err)
		}
		pfin()
		r.Item.HasOffer = ofin()
		if complete.Valid {
			seenSince(&r.Item.Product.Product, complete.Time.UTC())
		}
		if listings.Valid {
			r.Canonical = true
			r.Listings = decodeListings(listings.String)
		}
		for i, v := range rk {
			r.Ranks[i] = int32(v)
		}
		if db.dialect == SQLite {
			keys = append(keys, sk)
		}
	}
	if db.dialect == SQLite {
		rs := snap.Rows
		p := func(i int) *magflow.Product { return &rs[i].Item.Product.Product }
		cmps := [8]func(i, j int) int{
			func(i, j int) int { return strings.Compare(p(i).Account, p(j).Account) },
			func(i, j int) int { return strings.Compare(p(i).Name, p(j).Name) },
			func(i, j int) int { return strings.Compare(p(i).PartNumber, p(j).PartNumber) },
			func(i, j int) int { return strings.Compare(p(i).Brand, p(j).Brand) },
			func(i, j int) int { return cmp.Compare(keys[i].price, keys[j].price) },
			func(i, j int) int { return cmp.Compare(keys[i].stock, keys[j].stock) },
			func(i, j int) int { return strings.Compare(keys[i].updated, keys[j].updated) },
			func(i, j int) int { return strings.Compare(keys[i].seenRaw, keys[j].seenRaw) },
		}
		order := make([]int, len(rs))
		for k, c := range cmps {
			for i := range order {
				order[i] = i
			}
			slices.SortFunc(order, c)
			rank := int32(0)
			for x, i := range order {
				if x == 0 || c(order[x-1], i) != 0 {
					rank++
				}
				rs[i].Ranks[k] = rank
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, db.wrap("load the catalogue", err)
	}
	return snap, nil
}
