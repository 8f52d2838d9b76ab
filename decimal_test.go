package magflow

import (
	"encoding/json"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"121.8400", "121.8400"}, {"82.6446", "82.6446"}, {"0.19", "0.1900"}, {"7", "7.0000"},
		{"-3.5", "-3.5000"}, {" 10.0700 ", "10.0700"}, {".5", "0.5000"}, {"5.", "5.0000"},
		{"1.00005", "1.0001"}, {"1.00004", "1.0000"}, {"-1.00005", "-1.0001"}, {"+2", "2.0000"},
		{"00012.3", "12.3000"},
	}
	for _, tt := range tests {
		d, err := ParseDecimal(tt.in)
		if err != nil || d.String() != tt.want {
			t.Errorf("ParseDecimal(%q) = %v, %v; want %s", tt.in, d, err, tt.want)
		}
	}
	for _, bad := range []string{"", "abc", "1e3", "NaN", "1.2.3", "-", ".", "12,5", "999999999999999999"} {
		if _, err := ParseDecimal(bad); err == nil {
			t.Errorf("ParseDecimal(%q) succeeded", bad)
		}
	}
}

func TestDecimalJSON(t *testing.T) {
	t.Parallel()
	var v struct {
		A, B, C, D, E Decimal
	}
	if err := json.Unmarshal([]byte(`{"A":"121.8400","B":99,"C":null,"D":"","E":0.1}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.String() != "121.8400" || v.B.String() != "99.0000" || !v.C.IsZero() || !v.D.IsZero() || v.E.String() != "0.1000" {
		t.Errorf("decoded %+v", v)
	}
	out, _ := json.Marshal(v.A)
	if string(out) != `"121.8400"` {
		t.Errorf("encoded %s", out)
	}
	if err := json.Unmarshal([]byte(`{"A":true}`), &v); err == nil {
		t.Error("decoded a boolean as a decimal")
	}
}

func TestDecimalArithmeticAndScan(t *testing.T) {
	t.Parallel()
	a, b := MustDecimal("10.0700"), MustDecimal("0.0300")
	if a.Add(b).String() != "10.1000" || a.Sub(b).String() != "10.0400" || a.MulInt(3).String() != "30.2100" {
		t.Error("arithmetic is not exact")
	}
	if a.Cmp(b) != 1 || b.Cmp(a) != -1 || a.Cmp(a) != 0 {
		t.Error("Cmp")
	}
	var d Decimal
	for _, tt := range []struct {
		src  any
		want string
	}{{"1.5", "1.5000"}, {[]byte("2"), "2.0000"}, {int64(3), "3.0000"}, {4.12345, "4.1235"}} {
		if err := d.Scan(tt.src); err != nil || d.String() != tt.want {
			t.Errorf("Scan(%v) = %v, %v", tt.src, d, err)
		}
	}
	if v, _ := a.Value(); v != "10.0700" {
		t.Errorf("Value = %v", v)
	}
}

func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"1", "121.8400", "-0.5", ".5", "1e3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDecimal(s)
		if err != nil {
			return
		}
		again, err := ParseDecimal(d.String())
		if err != nil || again != d {
			t.Fatalf("round trip of %q: %v -> %v (%v)", s, d, again, err)
		}
	})
}
