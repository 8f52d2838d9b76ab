package emag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/magflow/magflow"
)

// This file holds the lenient scalar parsers every decoder shares, and small
// exported types built on them for structs decoded with encoding/json.
//
// eMAG sends the same field as a number in one response and a string in the
// next ("10.0700", "1", "797"), booleans as 0/1 or true/false, null for
// missing ints, and a PHP empty array [] where an object is expected. The
// parsers accept all of these; they reject only values that cannot mean what
// the field means (a fractional stock, an object where a number belongs).

// unquote returns the contents of a JSON string, or v itself if it is not one.
func unquote(v []byte) (string, error) {
	v = trim(v)
	if len(v) < 2 || v[0] != '"' {
		return string(v), nil
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", err
	}
	return s, nil
}

// parseInt64 accepts a number, a numeric string, true/false, null and "".
// Integral floats ("12.0", 1e3) are accepted; fractions are an error.
func parseInt64(v []byte) (int64, error) {
	v = trim(v)
	if len(v) == 0 {
		return 0, errSyntax
	}
	switch v[0] {
	case 'n':
		if string(v) == "null" {
			return 0, nil
		}
	case 't':
		if string(v) == "true" {
			return 1, nil
		}
	case 'f':
		if string(v) == "false" {
			return 0, nil
		}
	case '"':
		s, err := unquote(v)
		if err != nil {
			return 0, err
		}
		return parseIntText([]byte(s))
	case '{', '[':
		return 0, fmt.Errorf("want a number, got %s", describe(v))
	default:
		return parseIntText(v)
	}
	return 0, fmt.Errorf("want a number, got %s", describe(v))
}

func parseIntText(s []byte) (int64, error) {
	s = trim(s)
	if len(s) == 0 {
		return 0, nil
	}
	// Fast path: plain decimal digits.
	neg := false
	t := s
	if t[0] == '-' || t[0] == '+' {
		neg = t[0] == '-'
		t = t[1:]
	}
	if len(t) > 0 && len(t) <= 18 {
		var n int64
		ok := true
		for _, c := range t {
			if c < '0' || c > '9' {
				ok = false
				break
			}
			n = n*10 + int64(c-'0')
		}
		if ok {
			if neg {
				n = -n
			}
			return n, nil
		}
	}
	if n, err := strconv.ParseInt(string(s), 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("invalid number %q", truncate(string(s), 40))
	}
	if f != math.Trunc(f) || f > math.MaxInt64 || f < math.MinInt64 {
		return 0, fmt.Errorf("%q is not a whole number", truncate(string(s), 40))
	}
	return int64(f), nil
}

func parseInt(v []byte) (int, error) {
	n, err := parseInt64(v)
	if err != nil {
		return 0, err
	}
	if n > math.MaxInt32 || n < math.MinInt32 {
		// Fields decoded as int are small codes and counts; a huge value
		// is a sign of a shape change, not data to truncate silently.
		if strconv.IntSize == 32 {
			return 0, fmt.Errorf("%d out of range", n)
		}
	}
	return int(n), nil
}

// parseBool accepts true/false, 0/1 (number or string), "true"/"false",
// null and "" (false).
func parseBool(v []byte) (bool, error) {
	v = trim(v)
	switch string(v) {
	case "true", `"true"`, "1", `"1"`:
		return true, nil
	case "false", `"false"`, "0", `"0"`, "null", `""`:
		return false, nil
	}
	if kind(v) == '0' || kind(v) == '"' {
		n, err := parseInt64(v)
		if err == nil {
			return n != 0, nil
		}
	}
	return false, fmt.Errorf("want a boolean, got %s", describe(v))
}

// parseString accepts a string, a number or boolean (kept as text) and null ("").
func parseString(v []byte) (string, error) {
	v = trim(v)
	switch kind(v) {
	case '"':
		return unquote(v)
	case 'n':
		if string(v) == "null" {
			return "", nil
		}
	case '0', 't', 'f':
		return string(v), nil
	}
	return "", fmt.Errorf("want a string, got %s", describe(v))
}

// parseDecimal accepts what magflow.Decimal accepts (number, numeric string,
// "", null) with a fast path for plain quoted amounts.
func parseDecimal(v []byte) (magflow.Decimal, error) {
	v = trim(v)
	if len(v) > 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
		if len(v) == 2 {
			return magflow.Decimal{}, nil
		}
		return magflow.ParseDecimal(string(v[1 : len(v)-1]))
	}
	if kind(v) == '0' {
		if d, err := magflow.ParseDecimal(string(v)); err == nil {
			return d, nil
		}
		// Exponent forms such as 1e2 from a float-happy serializer.
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.Abs(f) > 1e14 {
			return magflow.Decimal{}, fmt.Errorf("invalid amount %q", truncate(string(v), 40))
		}
		return magflow.ParseDecimal(strconv.FormatFloat(f, 'f', -1, 64))
	}
	var d magflow.Decimal
	if err := d.UnmarshalJSON(v); err != nil {
		return d, fmt.Errorf("want an amount, got %s", describe(v))
	}
	return d, nil
}

// timeLayout is eMAG's date-time format, in the platform's wall-clock zone.
const timeLayout = "2006-01-02 15:04:05"

// parseTime accepts "2006-01-02 15:04:05", "2006-01-02", RFC 3339, null and
// "" (zero time). Zone-less text is read in loc.
func parseTime(v []byte, loc *time.Location) (time.Time, error) {
	s, err := parseString(v)
	if err != nil {
		return time.Time{}, err
	}
	if s == "" || s == "0000-00-00 00:00:00" || s == "0000-00-00" {
		return time.Time{}, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range []string{timeLayout, "2006-01-02", time.RFC3339Nano, "2006-01-02T15:04:05"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("unrecognised date %q", truncate(s, 40))
}

// parseStrings accepts a list of strings (numbers kept as text), a single
// string, null and "".
func parseStrings(v []byte) ([]string, error) {
	switch kind(v) {
	case 'n':
		return nil, nil
	case '"', '0':
		s, err := parseString(v)
		if err != nil || s == "" {
			return nil, err
		}
		return []string{s}, nil
	case '[':
		var out []string
		err := eachElem(v, func(e []byte) error {
			s, err := parseString(e)
			if err != nil {
				// Messages can be objects; keep their text.
				s = string(trim(e))
			}
			out = append(out, s)
			return nil
		})
		return out, err
	case '{':
		// A PHP list that lost its sequential keys: {"0":"a","1":"b"}.
		var out []string
		err := eachField(v, func(_, e []byte) error {
			s, err := parseString(e)
			if err != nil {
				s = string(trim(e))
			}
			out = append(out, s)
			return nil
		})
		return out, err
	}
	return nil, fmt.Errorf("want a list of strings, got %s", describe(v))
}

// objectOrEmpty reports whether v holds a real object; null, [] and {} (the
// PHP empty-array quirk) report false without error.
func objectOrEmpty(v []byte) (bool, error) {
	v = trim(v)
	switch kind(v) {
	case 'n':
		return false, nil
	case '[':
		empty := true
		err := eachElem(v, func([]byte) error { empty = false; return nil })
		if err != nil {
			return false, err
		}
		if !empty {
			return false, fmt.Errorf("want an object, got a non-empty list")
		}
		return false, nil
	case '{':
		return true, nil
	case '"':
		if string(v) == `""` {
			return false, nil
		}
	}
	return false, fmt.Errorf("want an object, got %s", describe(v))
}

// eachObjectOrList calls fn for the object v, or for every element of the
// list v; null and "" call nothing.
func eachObjectOrList(v []byte, fn func([]byte) error) error {
	switch kind(v) {
	case 'n':
		return nil
	case '{':
		return fn(trim(v))
	case '[':
		return eachElem(v, fn)
	case '"':
		if string(trim(v)) == `""` {
			return nil
		}
	}
	return fmt.Errorf("want an object or a list, got %s", describe(v))
}

// appendEach decodes every element of a list (as eachListItem reads it)
// with dec into a new element of *dst; an element that fails stays
// appended as far as it was decoded.
func appendEach[T any](dst *[]T, list []byte, dec func(*T, []byte) error) error {
	return eachListItem(list, func(e []byte) error {
		*dst = append(*dst, *new(T))
		return dec(&(*dst)[len(*dst)-1], e)
	})
}

// decodeEach decodes a list with dec, as appendEach does, into a new slice.
func decodeEach[T any](list []byte, dec func(*T, []byte) error) ([]T, error) {
	var out []T
	err := appendEach(&out, list, dec)
	return out, err
}

// eachListItem calls fn for every element of a list; null, "" and a PHP
// object with numeric keys ({"0":{...}}) are accepted too.
func eachListItem(v []byte, fn func([]byte) error) error {
	switch kind(v) {
	case 'n':
		return nil
	case '[':
		return eachElem(v, fn)
	case '{':
		return eachField(v, func(_, e []byte) error { return fn(e) })
	case '"':
		if string(trim(v)) == `""` {
			return nil
		}
	}
	return fmt.Errorf("want a list, got %s", describe(v))
}

func describe(v []byte) string {
	switch kind(v) {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string " + truncate(string(trim(v)), 40)
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case 0:
		return "nothing"
	}
	return "a number " + truncate(string(trim(v)), 40)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// FlexInt is an integer that decodes from a number, a numeric string,
// true/false, null or "" (0). It encodes as a plain number.
type FlexInt int64

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexInt) UnmarshalJSON(b []byte) error {
	n, err := parseInt64(b)
	*f = FlexInt(n)
	return err
}

// Int returns f as an int.
func (f FlexInt) Int() int { return int(f) }

// FlexBool is a boolean that decodes from true/false, 0/1, "0"/"1",
// "true"/"false", null or "" (false). It encodes as true/false.
type FlexBool bool

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexBool) UnmarshalJSON(b []byte) error {
	v, err := parseBool(b)
	*f = FlexBool(v)
	return err
}

// FlexString is text that decodes from a string, a number or a boolean
// (kept as written) and null (""). eMAG sends ids and codes both ways.
type FlexString string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexString) UnmarshalJSON(b []byte) error {
	s, err := parseString(b)
	*f = FlexString(s)
	return err
}

// FlexTime is an eMAG date-time ("2006-01-02 15:04:05", platform wall
// clock). Decoded through encoding/json it is read as UTC; the client's own
// decoders use Options.Location. null, "" and all-zero dates are the zero
// time. It encodes in eMAG's layout.
type FlexTime struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexTime) UnmarshalJSON(b []byte) error {
	t, err := parseTime(b, time.UTC)
	f.Time = t
	return err
}

// MarshalJSON implements json.Marshaler.
func (f FlexTime) MarshalJSON() ([]byte, error) {
	if f.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + f.Format(timeLayout) + `"`), nil
}

// ObjectOrList is a list that also decodes from a single object (one
// element), null, "" or a PHP object with numeric keys. eMAG documents
// offer_validation_status as a list and sends an object.
type ObjectOrList[T any] []T

// UnmarshalJSON implements json.Unmarshaler.
func (l *ObjectOrList[T]) UnmarshalJSON(b []byte) error {
	var out []T
	k := kind(b)
	each := eachObjectOrList
	if k == '[' {
		each = eachListItem
	}
	err := each(b, func(e []byte) error {
		var v T
		if err := json.Unmarshal(e, &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	*l = out
	return err
}

// Object is an optional object that also decodes from null, "" and the PHP
// empty array [] (all meaning absent). RMA locker and order details use it.
type Object[T any] struct {
	Value   T
	Present bool
}

// UnmarshalJSON implements json.Unmarshaler.
func (o *Object[T]) UnmarshalJSON(b []byte) error {
	present, err := objectOrEmpty(b)
	if err != nil || !present {
		*o = Object[T]{}
		return err
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*o = Object[T]{Value: v, Present: true}
	return nil
}

// MarshalJSON encodes the value, or null when absent.
func (o Object[T]) MarshalJSON() ([]byte, error) {
	if !o.Present {
		return []byte("null"), nil
	}
	return json.Marshal(o.Value)
}

// FlexStrings is a list of strings that also decodes from a single string,
// numbers (kept as text), null and PHP numeric-key objects.
type FlexStrings []string

// UnmarshalJSON implements json.Unmarshaler.
func (f *FlexStrings) UnmarshalJSON(b []byte) error {
	s, err := parseStrings(b)
	*f = s
	return err
}
