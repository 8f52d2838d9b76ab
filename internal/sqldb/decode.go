package sqldb

import (
	"encoding/json"
	"strconv"
	"strings"

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
	if strings.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	i := skipSpaceStr(s, 0)
	if i >= len(s) || s[i] != '[' {
		return nil, false
	}
	out := []string{}
	i = skipSpaceStr(s, i+1)
	if i < len(s) && s[i] == ']' {
		return out, skipSpaceStr(s, i+1) == len(s)
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return nil, false
		}
		end := strings.IndexByte(s[i+1:], '"')
		if end < 0 {
			return nil, false
		}
		out = append(out, s[i+1:i+1+end])
		i = skipSpaceStr(s, i+end+2)
		if i >= len(s) {
			return nil, false
		}
		switch s[i] {
		case ',':
			i = skipSpaceStr(s, i+1)
		case ']':
			return out, skipSpaceStr(s, i+1) == len(s)
		default:
			return nil, false
		}
	}
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
	i := skipSpaceStr(s, 0)
	if i >= len(s) || s[i] != '[' {
		return nil, false
	}
	out := []magflow.WarehouseValue{}
	i = skipSpaceStr(s, i+1)
	if i < len(s) && s[i] == ']' {
		return out, skipSpaceStr(s, i+1) == len(s)
	}
	for {
		if i >= len(s) || s[i] != '{' {
			return nil, false
		}
		var w magflow.WarehouseValue
		i = skipSpaceStr(s, i+1)
		for {
			var key string
			switch {
			case strings.HasPrefix(s[i:], `"warehouse_id"`):
				key, i = "w", i+len(`"warehouse_id"`)
			case strings.HasPrefix(s[i:], `"value"`):
				key, i = "v", i+len(`"value"`)
			default:
				return nil, false
			}
			i = skipSpaceStr(s, i)
			if i >= len(s) || s[i] != ':' {
				return nil, false
			}
			i = skipSpaceStr(s, i+1)
			j := i
			if j < len(s) && s[j] == '-' {
				j++
			}
			for j < len(s) && '0' <= s[j] && s[j] <= '9' {
				j++
			}
			n, err := strconv.Atoi(s[i:j])
			if err != nil {
				return nil, false
			}
			if key == "w" {
				w.WarehouseID = n
			} else {
				w.Value = n
			}
			i = skipSpaceStr(s, j)
			if i >= len(s) {
				return nil, false
			}
			if s[i] == '}' {
				i = skipSpaceStr(s, i+1)
				break
			}
			if s[i] != ',' {
				return nil, false
			}
			i = skipSpaceStr(s, i+1)
		}
		out = append(out, w)
		if i >= len(s) {
			return nil, false
		}
		switch s[i] {
		case ',':
			i = skipSpaceStr(s, i+1)
		case ']':
			return out, skipSpaceStr(s, i+1) == len(s)
		default:
			return nil, false
		}
	}
}

func skipSpaceStr(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\n' || s[i] == '\r' || s[i] == '\t') {
		i++
	}
	return i
}

// fastListings decodes the canonical listings the rebuild writes (a JSON
// array of flat objects: account, product_id, sale_price as a string,
// currency, general_stock, status; PostgreSQL's json_agg spaces them out),
// or reports false for anything else.
func fastListings(s string) ([]magflow.Listing, bool) {
	if strings.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	i := skipSpaceStr(s, 0)
	if i >= len(s) || s[i] != '[' {
		return nil, false
	}
	out := []magflow.Listing{}
	i = skipSpaceStr(s, i+1)
	if i < len(s) && s[i] == ']' {
		return out, skipSpaceStr(s, i+1) == len(s)
	}
	str := func() (string, bool) {
		if i >= len(s) || s[i] != '"' {
			return "", false
		}
		end := strings.IndexByte(s[i+1:], '"')
		if end < 0 {
			return "", false
		}
		v := s[i+1 : i+1+end]
		i = skipSpaceStr(s, i+end+2)
		return v, true
	}
	num := func() (int64, bool) {
		j := i
		if j < len(s) && s[j] == '-' {
			j++
		}
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		n, err := strconv.ParseInt(s[i:j], 10, 64)
		if err != nil {
			return 0, false
		}
		i = skipSpaceStr(s, j)
		return n, true
	}
	for {
		if i >= len(s) || s[i] != '{' {
			return nil, false
		}
		i = skipSpaceStr(s, i+1)
		var l magflow.Listing
		for {
			key, ok := str()
			if !ok || i >= len(s) || s[i] != ':' {
				return nil, false
			}
			i = skipSpaceStr(s, i+1)
			switch key {
			case "account", "currency", "sale_price":
				v, ok := str()
				if !ok {
					return nil, false
				}
				switch key {
				case "account":
					l.Account = v
				case "currency":
					l.Currency = v
				default:
					if v != "" {
						d, err := magflow.ParseDecimal(v)
						if err != nil {
							return nil, false
						}
						l.SalePrice = d
					}
				}
			case "product_id", "general_stock", "status":
				n, ok := num()
				if !ok {
					return nil, false
				}
				switch key {
				case "product_id":
					l.ProductID = n
				case "general_stock":
					l.GeneralStock = int(n)
				default:
					l.Status = int(n)
				}
			default:
				return nil, false
			}
			if i >= len(s) {
				return nil, false
			}
			if s[i] == '}' {
				i = skipSpaceStr(s, i+1)
				break
			}
			if s[i] != ',' {
				return nil, false
			}
			i = skipSpaceStr(s, i+1)
		}
		out = append(out, l)
		if i >= len(s) {
			return nil, false
		}
		switch s[i] {
		case ',':
			i = skipSpaceStr(s, i+1)
		case ']':
			return out, skipSpaceStr(s, i+1) == len(s)
		default:
			return nil, false
		}
	}
}
