package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/magflow/magflow/internal/sqldb"
)

// sortKeys are sqldb.ProductSorts, in the order of sqldb.CatalogRow.Ranks.
var sortKeys = []string{"id", "name", "part_number", "brand", "price", "stock", "updated_at", "last_seen_at"}

// bigPosting is the posting length above which a word keeps a bitset too:
// past n/64 rows the bitset is the smaller and faster of the two.
func bigPosting(n int) int { return max(64, n/64) }

// snapshot is the product list of one database snapshot, immutable once
// built: columns of what the filters read, the items' JSON, a word index,
// part number indexes and every sort order.
type snapshot struct {
	version int64
	n       int

	accounts map[string]bitset
	ids      []int64
	status   []int32
	vstatus  []int32
	ovstatus []int32
	category []int64
	brand    []string
	hasOffer bitset
	stock    []int64
	price    []int64 // sale price units
	gone     bitset
	canon    bitset
	all      bitset

	item  [][]byte // per-account view JSON
	citem [][]byte // canonical view JSON (nil when not canonical)

	// words are the distinct search words, sorted; the rows of words[i]
	// are post[start[i]:start[i+1]], increasing; wordBits holds a bitset
	// of the frequent ones.
	words    []string
	start    []int32
	post     []int32
	wordBits map[int32]bitset
	bigWord  bitset // the words with a bitset

	pn, pnk sortedKeys

	// perm[k] lists the rows in ascending order of sort key k (ties by
	// account, then id); pos[k][row] is the row's place in it.
	perm [8][]int32
	pos  [8][]int32
}

// sortedKeys maps lower-cased part numbers (or keys) to rows, sorted.
type sortedKeys struct {
	keys []string
	rows []int32
}

func newSortedKeys(keys []string) sortedKeys {
	rows := make([]int32, len(keys))
	for i := range rows {
		rows[i] = int32(i)
	}
	slices.SortFunc(rows, func(a, b int32) int { return cmp.Or(strings.Compare(keys[a], keys[b]), cmp.Compare(a, b)) })
	sk := sortedKeys{keys: make([]string, len(keys)), rows: rows}
	for i, r := range rows {
		sk.keys[i] = keys[r]
	}
	return sk
}

// prefixRange returns the range of the sorted keys that begin with p:
// every key from p up to p+"\xff" (0xFF never occurs in UTF-8).
func prefixRange(keys []string, p string) (int, int) {
	lo, _ := slices.BinarySearch(keys, p)
	hi, _ := slices.BinarySearch(keys[lo:], p+"\xff")
	return lo, lo + hi
}

// prefix sets in b the rows whose key begins with p.
func (sk sortedKeys) prefix(p string, b bitset) {
	lo, hi := prefixRange(sk.keys, p)
	b.setAll(sk.rows[lo:hi])
}

// build makes the snapshot of rows, encoding every item with encode.
func build(s *sqldb.CatalogSnapshot, encode func(*sqldb.ProductItem) ([]byte, error)) (*snapshot, error) {
	n := len(s.Rows)
	sn := &snapshot{
		version: s.Version, n: n, accounts: map[string]bitset{},
		ids: make([]int64, n), status: make([]int32, n), vstatus: make([]int32, n), ovstatus: make([]int32, n),
		category: make([]int64, n), brand: make([]string, n), hasOffer: newBitset(n), stock: make([]int64, n),
		price: make([]int64, n), gone: newBitset(n), canon: newBitset(n), all: newBitset(n),
		item: make([][]byte, n), citem: make([][]byte, n), wordBits: map[int32]bitset{},
	}
	pns, pnks := make([]string, n), make([]string, n)
	postings := map[string][]int32{}
	for i := range s.Rows {
		r := &s.Rows[i]
		row := int32(i)
		p := &r.Item.Product
		a := sn.accounts[p.Account]
		if a == nil {
			a = newBitset(n)
			sn.accounts[p.Account] = a
		}
		a.set(row)
		sn.all.set(row)
		sn.ids[i], sn.status[i], sn.vstatus[i], sn.ovstatus[i] = p.ID, int32(p.Status), int32(p.ValidationStatus), int32(p.OfferValidationStatus)
		sn.category[i], sn.brand[i] = p.CategoryID, p.Brand
		if r.Item.HasOffer {
			sn.hasOffer.set(row)
			sn.stock[i], sn.price[i] = int64(r.Item.Offer.GeneralStock), r.Item.Offer.SalePrice.Units()
		}
		if p.GoneAt != nil {
			sn.gone.set(row)
		}
		pns[i], pnks[i] = r.PartNumberLower, r.PartNumberKeyLower
		for w := range strings.FieldsSeq(r.SearchTerms) {
			if ps := postings[w]; len(ps) == 0 || ps[len(ps)-1] != row {
				postings[w] = append(ps, row)
			}
		}
		var err error
		if sn.item[i], err = encode(&r.Item); err != nil {
			return nil, fmt.Errorf("encode product %d of %s: %w", p.ID, p.Account, err)
		}
		if r.Canonical {
			sn.canon.set(row)
			it := r.Item
			it.Listings = r.Listings
			if sn.citem[i], err = encode(&it); err != nil {
				return nil, fmt.Errorf("encode product %d of %s: %w", p.ID, p.Account, err)
			}
		}
	}
	sn.pn, sn.pnk = newSortedKeys(pns), newSortedKeys(pnks)

	sn.words = make([]string, 0, len(postings))
	for w := range postings {
		sn.words = append(sn.words, w)
	}
	slices.Sort(sn.words)
	sn.start = make([]int32, 0, len(sn.words)+1)
	sn.bigWord = newBitset(len(sn.words))
	big := bigPosting(n)
	for wi, w := range sn.words {
		sn.start = append(sn.start, int32(len(sn.post)))
		ps := postings[w]
		sn.post = append(sn.post, ps...)
		if len(ps) > big {
			b := newBitset(n)
			b.setAll(ps)
			sn.wordBits[int32(wi)] = b
			sn.bigWord.set(int32(wi))
		}
	}
	sn.start = append(sn.start, int32(len(sn.post)))

	for k := range sortKeys {
		perm := make([]int32, n)
		for i := range perm {
			perm[i] = int32(i)
		}
		rk := func(i int32) int32 { return s.Rows[i].Ranks[k] }
		slices.SortFunc(perm, func(a, b int32) int {
			return cmp.Or(cmp.Compare(rk(a), rk(b)), cmp.Compare(s.Rows[a].Ranks[0], s.Rows[b].Ranks[0]), cmp.Compare(sn.ids[a], sn.ids[b]))
		})
		pos := make([]int32, n)
		for p, r := range perm {
			pos[r] = int32(p)
		}
		sn.perm[k], sn.pos[k] = perm, pos
	}
	return sn, nil
}

// wordRows sets in b the rows of word i (which b must be empty or be
// or-ed into).
func (sn *snapshot) wordRows(i int32, b bitset) {
	if wb := sn.wordBits[i]; wb != nil {
		b.or(wb)
		return
	}
	b.setAll(sn.post[sn.start[i]:sn.start[i+1]])
}

// searchRows returns the rows matching the search q (trimmed, not empty)
// as the store matches it (see internal/sqldb/search.go): every word a
// word of the row's search words, the last only a beginning of one; or the
// key (q lower-cased as the engine does) beginning the part number or key.
func (sn *snapshot) searchRows(q, key string) bitset {
	out := newBitset(sn.n)
	if words := sqldb.SearchWords(q); len(words) > 0 {
		var acc bitset
		ok := true
		for _, w := range words[:len(words)-1] {
			i, found := slices.BinarySearch(sn.words, w)
			if !found {
				ok = false
				break
			}
			wb := newBitset(sn.n)
			sn.wordRows(int32(i), wb)
			if acc == nil {
				acc = wb
			} else {
				acc.and(wb)
			}
		}
		if ok {
			last := words[len(words)-1]
			pb := newBitset(sn.n)
			lo, hi := prefixRange(sn.words, last)
			if hi-lo > 64 {
				// Many words (the beginning of numbers): their postings
				// are contiguous.
				for i := lo; i < hi; i++ {
					if sn.bigWord.has(int32(i)) {
						sn.wordRows(int32(i), pb)
					}
				}
				for i := lo; i < hi; {
					j := i
					for j < hi && !sn.bigWord.has(int32(j)) {
						j++
					}
					pb.setAll(sn.post[sn.start[i]:sn.start[j]])
					i = j + 1
				}
			} else {
				for i := lo; i < hi; i++ {
					sn.wordRows(int32(i), pb)
				}
			}
			if acc != nil {
				pb.and(acc)
			}
			out.or(pb)
		}
	}
	sn.pn.prefix(key, out)
	sn.pnk.prefix(key, out)
	return out
}

// query is a product list request in the model's terms.
type query struct {
	f      sqldb.ProductFilter
	search string // trimmed
	key    string // the search lower-cased as the engine does
	sort   int    // index in sortKeys
	desc   bool
	limit  int
	offset int
}

// list returns the page of q and the exact number of matches.
func (sn *snapshot) list(q query) ([][]byte, int) {
	f := q.f
	var cand bitset
	if f.Canonical {
		cand = sn.canon.clone()
	} else {
		cand = sn.all.clone()
	}
	switch f.Gone {
	case sqldb.GonePresent:
		cand.andNot(sn.gone)
	case sqldb.GoneOnly:
		cand.and(sn.gone)
	}
	if f.Account != "" {
		a := sn.accounts[f.Account]
		if a == nil {
			return nil, 0
		}
		cand.and(a)
	}
	if q.search != "" {
		cand.and(sn.searchRows(q.search, q.key))
	}
	if residual(f) {
		cand.each(func(i int32) {
			if !sn.keep(f, i) {
				cand.clear(i)
			}
		})
	}
	total := cand.count()
	if q.offset >= total {
		return nil, total
	}
	n := min(q.limit, total-q.offset)
	rows := make([]int32, 0, n)
	perm, pos := sn.perm[q.sort], sn.pos[q.sort]
	// Sort the matches, or walk the sort order testing each row: whichever
	// reads fewer rows.
	walk := int64(q.offset+n) * int64(sn.n) / int64(total)
	if int64(total)*16 < walk {
		all := make([]int32, 0, total)
		cand.each(func(i int32) { all = append(all, i) })
		slices.SortFunc(all, func(a, b int32) int {
			if q.desc {
				return cmp.Compare(pos[b], pos[a])
			}
			return cmp.Compare(pos[a], pos[b])
		})
		rows = append(rows, all[q.offset:q.offset+n]...)
	} else {
		skip := q.offset
		for j := range perm {
			i := perm[j]
			if q.desc {
				i = perm[len(perm)-1-j]
			}
			if !cand.has(i) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			rows = append(rows, i)
			if len(rows) == n {
				break
			}
		}
	}
	items := make([][]byte, len(rows))
	for j, i := range rows {
		if f.Canonical {
			items[j] = sn.citem[i]
		} else {
			items[j] = sn.item[i]
		}
	}
	return items, total
}

// residual reports whether f filters on anything but the view, gone,
// account and search.
func residual(f sqldb.ProductFilter) bool {
	return f.Status != nil || f.ValidationStatus != nil || f.OfferValidationStatus != nil || f.MinStock != nil ||
		f.MaxStock != nil || f.MinPrice != nil || f.MaxPrice != nil || f.Brand != "" || f.CategoryID != 0
}

// keep tests row i against the residual filters of f, as the store's
// conditions do (a row without an offer fails every stock and price
// bound: the column is NULL).
func (sn *snapshot) keep(f sqldb.ProductFilter, i int32) bool {
	if f.Status != nil && sn.status[i] != int32(*f.Status) ||
		f.ValidationStatus != nil && sn.vstatus[i] != int32(*f.ValidationStatus) ||
		f.OfferValidationStatus != nil && sn.ovstatus[i] != int32(*f.OfferValidationStatus) ||
		f.Brand != "" && sn.brand[i] != f.Brand ||
		f.CategoryID != 0 && sn.category[i] != f.CategoryID {
		return false
	}
	if f.MinStock != nil || f.MaxStock != nil || f.MinPrice != nil || f.MaxPrice != nil {
		if !sn.hasOffer.has(i) {
			return false
		}
		if f.MinStock != nil && sn.stock[i] < int64(*f.MinStock) || f.MaxStock != nil && sn.stock[i] > int64(*f.MaxStock) ||
			f.MinPrice != nil && sn.price[i] < f.MinPrice.Units() || f.MaxPrice != nil && sn.price[i] > f.MaxPrice.Units() {
			return false
		}
	}
	return true
}
