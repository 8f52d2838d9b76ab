package emag

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/magflow/magflow"
)

// objWriter builds a JSON object field by field, so save payloads carry
// exactly the keys the caller set, amounts go out as JSON numbers (eMAG's
// examples send 82.6446, not "82.6446") and no reflection is involved.
type objWriter struct {
	b   []byte
	n   int
	err error
}

func newObj() *objWriter { return &objWriter{b: append(make([]byte, 0, 256), '{')} }

func (w *objWriter) key(k string) {
	if w.n > 0 {
		w.b = append(w.b, ',')
	}
	w.n++
	w.b = strconv.AppendQuote(w.b, k)
	w.b = append(w.b, ':')
}

func (w *objWriter) int(k string, v int64) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, v, 10)
}

// intNZ writes v unless it is 0.
func (w *objWriter) intNZ(k string, v int64) {
	if v != 0 {
		w.int(k, v)
	}
}

func (w *objWriter) intPtr(k string, v *int) {
	if v != nil {
		w.int(k, int64(*v))
	}
}

func (w *objWriter) str(k, v string) {
	w.key(k)
	b, err := json.Marshal(v)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.b = append(w.b, b...)
}

// strNZ writes v unless it is empty.
func (w *objWriter) strNZ(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

// timeNZ writes t as eMAG's wall clock in loc unless it is zero.
func (w *objWriter) timeNZ(k string, t time.Time, loc *time.Location) {
	if !t.IsZero() {
		w.str(k, t.In(loc).Format(timeLayout))
	}
}

func (w *objWriter) dec(k string, d magflow.Decimal) {
	w.key(k)
	w.b = appendDecimal(w.b, d)
}

func (w *objWriter) decPtr(k string, d *magflow.Decimal) {
	if d != nil {
		w.dec(k, *d)
	}
}

func (w *objWriter) any(k string, v any) {
	w.key(k)
	b, err := json.Marshal(v)
	if err != nil && w.err == nil {
		w.err = err
	}
	w.b = append(w.b, b...)
}

func (w *objWriter) bytes() ([]byte, error) {
	return append(w.b, '}'), w.err
}

// appendDecimal writes d as a JSON number with trailing zeros trimmed.
func appendDecimal(b []byte, d magflow.Decimal) []byte {
	s := d.String()
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return append(b, s...)
}
