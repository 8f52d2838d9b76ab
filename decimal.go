package magflow

import (
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// DecimalPlaces is the precision eMAG uses for every amount ("82.6446").
const DecimalPlaces = 4

const decimalScale = 10000

// Decimal is an exact amount with four decimal places, the precision of every
// eMAG price. Money is never a float in MagFlow. The zero value is 0.
//
// It decodes leniently from JSON numbers and strings ("121.8400", 99, "1e2"
// is rejected) and encodes as a JSON string with four decimals, as eMAG does.
type Decimal struct {
	units int64 // value * 10^4
}

// NewDecimal returns units/10^4: NewDecimal(826446) is 82.6446.
func NewDecimal(units int64) Decimal { return Decimal{units: units} }

// DecimalFromInt returns n as a Decimal.
func DecimalFromInt(n int64) Decimal { return Decimal{units: n * decimalScale} }

// Units returns the value times 10^4.
func (d Decimal) Units() int64 { return d.units }

// IsZero reports whether d is 0.
func (d Decimal) IsZero() bool { return d.units == 0 }

// Cmp returns -1, 0 or +1 as d is less than, equal to or greater than e.
func (d Decimal) Cmp(e Decimal) int {
	switch {
	case d.units < e.units:
		return -1
	case d.units > e.units:
		return 1
	}
	return 0
}

// Add returns d+e.
func (d Decimal) Add(e Decimal) Decimal { return Decimal{units: d.units + e.units} }

// Sub returns d-e.
func (d Decimal) Sub(e Decimal) Decimal { return Decimal{units: d.units - e.units} }

// MulInt returns d*n.
func (d Decimal) MulInt(n int64) Decimal { return Decimal{units: d.units * n} }

// String formats d with exactly four decimals: "82.6446", "-0.5000".
func (d Decimal) String() string {
	u := d.units
	sign := ""
	if u < 0 {
		sign = "-"
		if u == math.MinInt64 {
			return "-922337203685477.5808"
		}
		u = -u
	}
	return fmt.Sprintf("%s%d.%04d", sign, u/decimalScale, u%decimalScale)
}

// ParseDecimal parses a plain decimal such as "121.84", "-3", "0.1900" or
// "  7.5 ". More than four decimals are rounded half away from zero (eMAG
// itself accepts at most four). Exponents, NaN and infinities are rejected.
func ParseDecimal(s string) (Decimal, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Decimal{}, errors.New("empty decimal")
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && (!hasDot || frac == "") {
		return Decimal{}, fmt.Errorf("invalid decimal %q", s)
	}
	for _, r := range intPart + frac {
		if r < '0' || r > '9' {
			return Decimal{}, fmt.Errorf("invalid decimal %q", s)
		}
	}
	intPart = strings.TrimLeft(intPart, "0")
	if len(intPart) > 14 {
		return Decimal{}, fmt.Errorf("decimal %q out of range", s)
	}
	var units int64
	if intPart != "" {
		n, err := strconv.ParseInt(intPart, 10, 64)
		if err != nil {
			return Decimal{}, fmt.Errorf("invalid decimal %q", s)
		}
		units = n * decimalScale
	}
	roundUp := false
	if len(frac) > DecimalPlaces {
		roundUp = frac[DecimalPlaces] >= '5'
		frac = frac[:DecimalPlaces]
	}
	frac += strings.Repeat("0", DecimalPlaces-len(frac))
	f, _ := strconv.ParseInt(frac, 10, 64)
	units += f
	if roundUp {
		units++
	}
	if neg {
		units = -units
	}
	return Decimal{units: units}, nil
}

// MustDecimal is ParseDecimal for constants in tests and tables; it panics on
// a malformed literal.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// MarshalJSON encodes d as a string with four decimals, as eMAG sends prices.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON accepts a JSON number, a numeric string, an empty string or
// null (both meaning 0).
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" || s == `""` {
		*d = Decimal{}
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return err
		}
		s = str
	}
	v, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Value stores d as its decimal text; both engines keep amounts as exact
// NUMERIC/TEXT.
func (d Decimal) Value() (driver.Value, error) { return d.String(), nil }

// Scan reads a decimal from text, bytes, an integer or (for NUMERIC columns
// that a driver hands back as float64) a float rounded to four places.
func (d *Decimal) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d = Decimal{}
		return nil
	case string:
		p, err := ParseDecimal(v)
		*d = p
		return err
	case []byte:
		p, err := ParseDecimal(string(v))
		*d = p
		return err
	case int64:
		*d = DecimalFromInt(v)
		return nil
	case float64:
		*d = Decimal{units: int64(math.Round(v * decimalScale))}
		return nil
	}
	return fmt.Errorf("cannot scan %T into Decimal", src)
}
