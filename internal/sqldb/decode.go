package sqldb

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"

	"github.com/magflow/magflow"
)

// The JSON columns that list pages read on every row (EANs, stock, handling
// time, availability) have fixed, flat shapes; decoding them by hand costs a
// fraction of encoding/json, which is the fallback for anything unexpected.
// "" (NULL) decodes to nil and "[]" to an empty slice, as json.Unmarshal
// into a nil slice does.

// decodeStrings decodes a JSON array of strings.
func decodeStrings(s string) []string {
	if s == "" {
		return nil
	}
	if out, ok := fastStrings(s); ok {
		return out
	}
	var out []string
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

func fastStrings(s string) ([]string, bool) {
	sc := flatScanner{s: s}
	out := []string{}
	ok := sc.array(func() bool {
		v, ok := sc.str()
		out = append(out, v)
		return ok
	})
	return out, ok
}

// decodeWarehouses decodes a JSON array of {"warehouse_id": n, "value": n}.
func decodeWarehouses(s string) []magflow.WarehouseValue {
	if s == "" {
		return nil
	}
	if out, ok := fastWarehouses(s); ok {
		return out
	}
	var out []magflow.WarehouseValue
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

func fastWarehouses(s string) ([]magflow.WarehouseValue, bool) {
	sc := flatScanner{s: s}
	out := []magflow.WarehouseValue{}
	ok := sc.array(func() bool {
		var w magflow.WarehouseValue
		ok := sc.object(func(key string) bool {
			n, ok := sc.int()
			switch key {
			case "warehouse_id":
				w.WarehouseID = int(n)
			case "value":
				w.Value = int(n)
			default:
				return false
			}
			return ok
		})
		out = append(out, w)
		return ok
	})
	return out, ok
}

// fastListings decodes the canonical listings the rebuild writes (a JSON
// array of flat objects: account, product_id, sale_price as a string,
// currency, general_stock, status; PostgreSQL's json_agg spaces them out),
// or reports false for anything else.
func fastListings(s string) ([]magflow.Listing, bool) {
	sc := flatScanner{s: s}
	out := []magflow.Listing{}
	ok := sc.array(func() bool {
		var l magflow.Listing
		ok := sc.object(func(key string) bool {
			switch key {
			case "account", "currency", "sale_price":
				v, ok := sc.str()
				switch {
				case !ok:
					return false
				case key == "account":
					l.Account = v
				case key == "currency":
					l.Currency = v
				case v != "":
					d, err := magflow.ParseDecimal(v)
					if err != nil {
						return false
					}
					l.SalePrice = d
				}
				return true
			case "product_id", "general_stock", "status":
				n, ok := sc.int()
				switch key {
				case "product_id":
					l.ProductID = n
				case "general_stock":
					l.GeneralStock = int(n)
				default:
					l.Status = int(n)
				}
				return ok
			}
			return false
		})
		out = append(out, l)
		return ok
	})
	return out, ok
}

// flatScanner reads the flat JSON the store writes itself: arrays of
// strings without escapes, of integers, and of objects of those. Anything
// else makes it report false, and the caller falls back to encoding/json.
type flatScanner struct {
	s string
	i int
}

func (sc *flatScanner) space() {
	for sc.i < len(sc.s) && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\n' || sc.s[sc.i] == '\r' || sc.s[sc.i] == '\t') {
		sc.i++
	}
}

// is reports whether the next byte is c, and steps over it and the space
// after it if so.
func (sc *flatScanner) is(c byte) bool {
	if sc.i >= len(sc.s) || sc.s[sc.i] != c {
		return false
	}
	sc.i++
	sc.space()
	return true
}

// array reads a whole input that is one array, calling elem for each
// element (elem reads it and reports whether it could).
func (sc *flatScanner) array(elem func() bool) bool {
	sc.space()
	if !sc.is('[') {
		return false
	}
	if sc.is(']') {
		return sc.i == len(sc.s)
	}
	for {
		if !elem() {
			return false
		}
		switch {
		case sc.is(','):
		case sc.is(']'):
			return sc.i == len(sc.s)
		default:
			return false
		}
	}
}

// object reads an object, calling field for each key with the scanner at
// its value (field reads it and reports whether it could).
func (sc *flatScanner) object(field func(key string) bool) bool {
	if !sc.is('{') {
		return false
	}
	if sc.is('}') {
		return true
	}
	for {
		key, ok := sc.str()
		if !ok || !sc.is(':') || !field(key) {
			return false
		}
		switch {
		case sc.is(','):
		case sc.is('}'):
			return true
		default:
			return false
		}
	}
}

// str reads a string without escapes or control characters, in valid
// UTF-8 (encoding/json would replace invalid bytes).
func (sc *flatScanner) str() (string, bool) {
	if sc.i >= len(sc.s) || sc.s[sc.i] != '"' {
		return "", false
	}
	end := -1
	for j := sc.i + 1; j < len(sc.s); j++ {
		if c := sc.s[j]; c == '"' {
			end = j - sc.i - 1
			break
		} else if c == '\\' || c < 0x20 {
			return "", false
		}
	}
	if end < 0 {
		return "", false
	}
	v := sc.s[sc.i+1 : sc.i+1+end]
	if !utf8.ValidString(v) {
		return "", false
	}
	sc.i += end + 2
	sc.space()
	return v, true
}

// int reads an integer.
func (sc *flatScanner) int() (int64, bool) {
	j := sc.i
	if j < len(sc.s) && sc.s[j] == '-' {
		j++
	}
	for j < len(sc.s) && '0' <= sc.s[j] && sc.s[j] <= '9' {
		j++
	}
	n, err := strconv.ParseInt(sc.s[sc.i:j], 10, 64)
	if err != nil {
		return 0, false
	}
	sc.i = j
	sc.space()
	return n, true
}
