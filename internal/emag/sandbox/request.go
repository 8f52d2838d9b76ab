package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// maxInputVars is eMAG's cap on the flattened elements of one request.
const maxInputVars = 4000

// parseBody decodes a request body in any of the four encodings eMAG
// accepts: form-urlencoded with data[...] keys, form-urlencoded with
// top-level keys, JSON {"data": ...}, or a raw JSON object or array. It
// unwraps the data key and returns a map[string]any, a []any or nil.
func parseBody(contentType string, body []byte) (any, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, nil
	}
	var v any
	isJSON := strings.Contains(contentType, "json") || trimmed[0] == '{' || trimmed[0] == '['
	if isJSON {
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("decode json body: %w", err)
		}
		if dec.More() {
			return nil, errors.New("decode json body: trailing data")
		}
	} else {
		vals, err := url.ParseQuery(string(trimmed))
		if err != nil {
			return nil, fmt.Errorf("decode form body: %w", err)
		}
		v, err = formToTree(vals)
		if err != nil {
			return nil, err
		}
	}
	if m, ok := v.(map[string]any); ok {
		if d, ok := m["data"]; ok {
			return d, nil
		}
	}
	return v, nil
}

// formToTree turns PHP-style bracketed keys (data[0][stock][0][value]=3)
// into nested maps, and maps whose keys are 0..n-1 into lists.
func formToTree(vals url.Values) (any, error) {
	root := map[string]any{}
	for key, vs := range vals {
		path, err := splitFormKey(key)
		if err != nil {
			return nil, err
		}
		multi := strings.HasSuffix(key, "[]")
		var cur = root
		for i, seg := range path {
			last := i == len(path)-1
			if last {
				if multi {
					list := make([]any, len(vs))
					for j, s := range vs {
						list[j] = s
					}
					cur[seg] = list
				} else {
					cur[seg] = vs[len(vs)-1]
				}
				break
			}
			next, ok := cur[seg].(map[string]any)
			if !ok {
				next = map[string]any{}
				cur[seg] = next
			}
			cur = next
		}
	}
	return listify(root), nil
}

// splitFormKey splits a[b][c] (and a[b][]) into a, b, c.
func splitFormKey(key string) ([]string, error) {
	key = strings.TrimSuffix(key, "[]")
	head, rest, found := strings.Cut(key, "[")
	if head == "" {
		return nil, fmt.Errorf("decode form body: bad key %q", key)
	}
	path := []string{head}
	if !found {
		return path, nil
	}
	rest = "[" + rest
	for rest != "" {
		if rest[0] != '[' {
			return nil, fmt.Errorf("decode form body: bad key %q", key)
		}
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return nil, fmt.Errorf("decode form body: bad key %q", key)
		}
		path = append(path, rest[1:end])
		rest = rest[end+1:]
	}
	return path, nil
}

func listify(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	for k, x := range m {
		m[k] = listify(x)
	}
	if len(m) == 0 {
		return m
	}
	idx := make([]int, 0, len(m))
	for k := range m {
		n, err := strconv.Atoi(k)
		if err != nil || n < 0 || strconv.Itoa(n) != k {
			return m
		}
		idx = append(idx, n)
	}
	sort.Ints(idx)
	for i, n := range idx {
		if i != n {
			return m
		}
	}
	list := make([]any, len(idx))
	for _, n := range idx {
		list[n] = m[strconv.Itoa(n)]
	}
	return list
}

// countVars counts the flattened leaves of a parsed body, as PHP's
// max_input_vars would.
func countVars(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := 0
		for _, e := range x {
			n += countVars(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += countVars(e)
		}
		return n
	case nil:
		return 0
	}
	return 1
}

// params is a read or count request's filters.
type params map[string]any

func (p params) has(k string) bool {
	v, ok := p[k]
	return ok && v != nil && v != ""
}

// intParam reads an integer given as a JSON number or a string.
func (p params) intParam(k string) (int64, bool, error) {
	v, ok := p[k]
	if !ok || v == nil || v == "" {
		return 0, false, nil
	}
	n, err := toInt(v)
	if err != nil {
		return 0, true, fmt.Errorf("%s: %w", k, err)
	}
	return n, true, nil
}

// intList reads an integer or a list of integers.
func (p params) intList(k string) ([]int64, bool, error) {
	v, ok := p[k]
	if !ok || v == nil || v == "" {
		return nil, false, nil
	}
	if l, ok := v.([]any); ok {
		out := make([]int64, 0, len(l))
		for _, e := range l {
			n, err := toInt(e)
			if err != nil {
				return nil, true, fmt.Errorf("%s: %w", k, err)
			}
			out = append(out, n)
		}
		return out, true, nil
	}
	n, err := toInt(v)
	if err != nil {
		return nil, true, fmt.Errorf("%s: %w", k, err)
	}
	return []int64{n}, true, nil
}

func (p params) str(k string) string {
	switch v := p[k].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n, nil
		}
		f, err := x.Float64()
		if err != nil || f != float64(int64(f)) {
			return 0, fmt.Errorf("%q is not an integer", x.String())
		}
		return int64(f), nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an integer", x)
		}
		return n, nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case float64:
		if x != float64(int64(x)) {
			return 0, fmt.Errorf("%v is not an integer", x)
		}
		return int64(x), nil
	}
	return 0, fmt.Errorf("%v is not an integer", v)
}

func toDecimal(v any) (magflow.Decimal, error) {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	case float64:
		s = strconv.FormatFloat(x, 'f', -1, 64)
	default:
		return magflow.Decimal{}, fmt.Errorf("%v is not a number", v)
	}
	if i := strings.IndexByte(s, '.'); i >= 0 && len(strings.TrimSpace(s))-i-1 > magflow.DecimalPlaces {
		return magflow.Decimal{}, fmt.Errorf("%q has more than %d decimals", s, magflow.DecimalPlaces)
	}
	return magflow.ParseDecimal(s)
}

// paging reads currentPage and itemsPerPage with eMAG's defaults. An
// itemsPerPage above magflow.MaxItemsPerPage is refused in eMAG's words,
// which name what is read (products, orders) when the route has a noun.
func (p params) paging(what string) (page, per int64, msg string) {
	page, _, err := p.intParam("currentPage")
	if err != nil {
		return 0, 0, "Invalid currentPage"
	}
	per, _, err = p.intParam("itemsPerPage")
	if err != nil {
		return 0, 0, "Invalid itemsPerPage"
	}
	if page <= 0 {
		page = 1
	}
	if per <= 0 {
		per = 100
	}
	if per > magflow.MaxItemsPerPage {
		if what != "" {
			what = " " + what
		}
		return 0, 0, fmt.Sprintf("Reading%s is limited to maximum %d elements", what, magflow.MaxItemsPerPage)
	}
	return page, per, ""
}

const dateLayout = "2006-01-02 15:04:05"

// dateWindow reads a pair of date filters (createdAfter/createdBefore, ...)
// with eMAG's rules: Before needs After, at most one month apart.
func (p params) dateWindow(loc *time.Location, after, before string, needBoth bool) (from, to time.Time, msg string) {
	parse := func(k string) (time.Time, bool, string) {
		s := p.str(k)
		if s == "" {
			return time.Time{}, false, ""
		}
		t, err := time.ParseInLocation(dateLayout, s, loc)
		if err != nil {
			if t2, err2 := time.ParseInLocation("2006-01-02", s, loc); err2 == nil {
				return t2, true, ""
			}
			return time.Time{}, false, fmt.Sprintf("%s must be a date in the format YYYY-mm-dd HH:ii:ss", k)
		}
		return t, true, ""
	}
	from, hasFrom, m := parse(after)
	if m != "" {
		return from, to, m
	}
	to, hasTo, m := parse(before)
	if m != "" {
		return from, to, m
	}
	switch {
	case hasTo && !hasFrom:
		return from, to, fmt.Sprintf("%s can only be used together with %s", before, after)
	case needBoth && hasFrom && !hasTo:
		return from, to, fmt.Sprintf("%s can only be used together with %s", after, before)
	case hasFrom && hasTo && to.Before(from):
		return from, to, fmt.Sprintf("%s must be after %s", before, after)
	case hasFrom && hasTo && to.After(from.AddDate(0, 1, 0)):
		return from, to, fmt.Sprintf("The interval between %s and %s must be at most 1 month", after, before)
	}
	return from, to, ""
}
