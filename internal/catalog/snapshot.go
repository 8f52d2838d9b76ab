package catalog

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"

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
	brand    []int32 // index in brands
	brands   map[string]int32
	hasOffer bitset
	stock    []int64
	price    []int64 // sale price units
	gone     bitset
	canon    bitset
	all      bitset

	// The items' JSON, one arena without pointers (the garbage collector
	// need not scan it): row i's per-account item is
	// arena[item[i]:citem[i]], its canonical item arena[citem[i]:item[i+1]]
	// (empty when not canonical).
	arena []byte
	item  []int
	citem []int

	// words are the distinct search words, sorted; the rows of words[i]
	// are post[start[i]:start[i+1]], increasing; wordBits holds a bitset
	// of the frequent ones.
	words    strs
	start    []int32
	post     []int32
	wordBits map[int32]bitset
	bigWord  bitset // the words with a bitset

	pn, pnk sortedKeys

	// perm[k] lists the rows in ascending order of sort key k (ties by
	// account, then id); pos[k][row] is the row's place in it.
	perm [8][]int32
	pos  [8][]int32

	bits sync.Pool // of *bitset of n bits, for requests
}

// getBits returns a cleared bitset of n bits from the pool.
func (sn *snapshot) getBits() bitset {
	if b, ok := sn.bits.Get().(*bitset); ok {
		clear(*b)
		return *b
	}
	return newBitset(sn.n)
}

func (sn *snapshot) putBits(b bitset) {
	if b != nil {
		sn.bits.Put(&b)
	}
}

// strs is a sorted list of strings kept in one string (no pointer per
// string for the garbage collector to follow).
type strs struct {
	all string
	off []int32 // string i is all[off[i]:off[i+1]]
}

func newStrs(sorted []string) strs {
	var b strings.Builder
	off := make([]int32, 0, len(sorted)+1)
	for _, s := range sorted {
		off = append(off, int32(b.Len()))
		b.WriteString(s)
	}
	return strs{all: b.String(), off: append(off, int32(b.Len()))}
}

func (s strs) len() int        { return len(s.off) - 1 }
func (s strs) at(i int) string { return s.all[s.off[i]:s.off[i+1]] }
func (s strs) search(x string) (int, bool) {
	lo, hi := 0, s.len()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.at(m) < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < s.len() && s.at(lo) == x
}

// sortedKeys maps lower-cased part numbers (or keys) to rows, sorted.
type sortedKeys struct {
	keys strs
	rows []int32
}

func newSortedKeys(keys []string) sortedKeys {
	rows := make([]int32, len(keys))
	for i := range rows {
		rows[i] = int32(i)
	}
	slices.SortFunc(rows, func(a, b int32) int { return cmp.Or(strings.Compare(keys[a], keys[b]), cmp.Compare(a, b)) })
	sorted := make([]string, len(keys))
	for i, r := range rows {
		sorted[i] = keys[r]
	}
	return sortedKeys{keys: newStrs(sorted), rows: rows}
}

// prefixRange returns the range of the sorted strings that begin with p:
// every one from p up to p+"\xff" (0xFF never occurs in UTF-8).
func prefixRange(keys strs, p string) (int, int) {
	lo, _ := keys.search(p)
	hi, _ := keys.search(p + "\xff")
	return lo, hi
}

// prefix sets in b the rows whose key begins with p.
func (sk sortedKeys) prefix(p string, b bitset) {
	lo, hi := prefixRange(sk.keys, p)
	b.setAll(sk.rows[lo:hi])
}

// build makes the snapshot of rows, encoding every item with encode.
func build(s *sqldb.CatalogSnapshot, encode func([]byte, *sqldb.ProductItem) ([]byte, error)) (*snapshot, error) {
	n := len(s.Rows)
	sn := &snapshot{
		version: s.Version, n: n, accounts: map[string]bitset{},
		ids: make([]int64, n), status: make([]int32, n), vstatus: make([]int32, n), ovstatus: make([]int32, n),
		category: make([]int64, n), brand: make([]int32, n), brands: map[string]int32{}, hasOffer: newBitset(n), stock: make([]int64, n),
		price: make([]int64, n), gone: newBitset(n), canon: newBitset(n), all: newBitset(n),
		item: make([]int, n+1), citem: make([]int, n), wordBits: map[int32]bitset{},
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
		sn.category[i] = p.CategoryID
		b, ok := sn.brands[p.Brand]
		if !ok {
			b = int32(len(sn.brands))
			sn.brands[p.Brand] = b
		}
		sn.brand[i] = b
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
		if i == 1000 && n > 2000 {
			// Grow the arena once, to about what every row will take.
			sn.arena = slices.Grow(sn.arena, len(sn.arena)*(n-i)/i*11/10)
		}
		sn.item[i] = len(sn.arena)
		var err error
		if sn.arena, err = encode(sn.arena, &r.Item); err != nil {
			return nil, fmt.Errorf("encode product %d of %s: %w", p.ID, p.Account, err)
		}
		sn.citem[i] = len(sn.arena)
		if r.Canonical {
			sn.canon.set(row)
			it := r.Item
			it.Listings = r.Listings
			if sn.arena, err = encode(sn.arena, &it); err != nil {
				return nil, fmt.Errorf("encode product %d of %s: %w", p.ID, p.Account, err)
			}
		}
	}
	sn.item[n] = len(sn.arena)
	sn.arena = slices.Clip(sn.arena)
	sn.pn, sn.pnk = newSortedKeys(pns), newSortedKeys(pnks)

	words := make([]string, 0, len(postings))
	for w := range postings {
		words = append(words, w)
	}
	slices.Sort(words)
	sn.words = newStrs(words)
	sn.start = make([]int32, 0, len(words)+1)
	sn.bigWord = newBitset(len(words))
	big := bigPosting(n)
	for wi, w := range words {
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

// searchRows sets in out the rows matching the search q (trimmed, not empty)
// as the store matches it (see internal/sqldb/search.go): every word a
// word of the row's search words, the last only a beginning of one; or the
// key (q lower-cased as the engine does) beginning the part number or key.
func (sn *snapshot) searchRows(q, key string, out bitset) {
	if words := sqldb.SearchWords(q); len(words) > 0 {
		var acc bitset
		defer func() { sn.putBits(acc) }()
		ok := true
		for _, w := range words[:len(words)-1] {
			i, found := sn.words.search(w)
			if !found {
				ok = false
				break
			}
			if acc == nil {
				acc = sn.getBits()
				sn.wordRows(int32(i), acc)
				continue
			}
			wb := sn.getBits()
			sn.wordRows(int32(i), wb)
			acc.and(wb)
			sn.putBits(wb)
		}
		if ok {
			last := words[len(words)-1]
			pb := sn.getBits()
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
			sn.putBits(pb)
		}
	}
	sn.pn.prefix(key, out)
	sn.pnk.prefix(key, out)
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
	cand := sn.getBits()
	defer sn.putBits(cand)
	if f.Canonical {
		copy(cand, sn.canon)
	} else {
		copy(cand, sn.all)
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
		sb := sn.getBits()
		sn.searchRows(q.search, q.key, sb)
		cand.and(sb)
		sn.putBits(sb)
	}
	if residual(f) {
		brand, brandOK := sn.brands[f.Brand]
		cand.each(func(i int32) {
			if !sn.keep(f, brand, brandOK, i) {
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
			items[j] = sn.arena[sn.citem[i]:sn.item[i+1]:sn.item[i+1]]
		} else {
			items[j] = sn.arena[sn.item[i]:sn.citem[i]:sn.citem[i]]
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
func (sn *snapshot) keep(f sqldb.ProductFilter, brand int32, brandOK bool, i int32) bool {
	if f.Status != nil && sn.status[i] != int32(*f.Status) ||
		f.ValidationStatus != nil && sn.vstatus[i] != int32(*f.ValidationStatus) ||
		f.OfferValidationStatus != nil && sn.ovstatus[i] != int32(*f.OfferValidationStatus) ||
		f.Brand != "" && (!brandOK || sn.brand[i] != brand) ||
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
