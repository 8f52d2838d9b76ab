package export

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"time"
)

type encoder interface {
	begin() error
	section(Kind) error
	record(Kind, record) error
	end() error
}

// jsonEncoder writes {"exported_at": ..., "products": [ ... ], "offers": [...]}.
type jsonEncoder struct {
	w          *bufio.Writer
	exportedAt time.Time
	sections   int
	inSection  int // records written in the current section
}

func (e *jsonEncoder) begin() error {
	ts, _ := json.Marshal(e.exportedAt.Format(time.RFC3339))
	_, err := e.w.WriteString(`{"exported_at":` + string(ts))
	return err
}

func (e *jsonEncoder) section(k Kind) error {
	prefix := ",\n" // after "exported_at"
	if e.sections > 0 {
		prefix = "\n],\n"
	}
	e.sections++
	e.inSection = 0
	_, err := e.w.WriteString(prefix + `"` + string(k) + `":[`)
	return err
}

func (e *jsonEncoder) record(_ Kind, r record) error {
	if e.inSection > 0 {
		e.w.WriteByte(',')
	}
	e.inSection++
	e.w.WriteByte('\n')
	_, err := e.w.Write(r.json)
	return err
}

func (e *jsonEncoder) end() error {
	s := "}\n"
	if e.sections > 0 {
		s = "\n]}\n"
	}
	_, err := e.w.WriteString(s)
	return err
}

// ndjsonEncoder writes one record per line: {"record_type":"product", ...}.
type ndjsonEncoder struct{ w *bufio.Writer }

func (e *ndjsonEncoder) begin() error       { return nil }
func (e *ndjsonEncoder) section(Kind) error { return nil }
func (e *ndjsonEncoder) end() error         { return nil }

func (e *ndjsonEncoder) record(k Kind, r record) error {
	e.w.WriteString(`{"record_type":"` + recordType(k) + `"`)
	if len(r.json) > 2 {
		e.w.WriteByte(',')
		e.w.Write(r.json[1:])
	} else {
		e.w.WriteByte('}')
	}
	return e.w.WriteByte('\n')
}

func recordType(k Kind) string {
	switch k {
	case Products:
		return "product"
	case Offers:
		return "offer"
	case Orders:
		return "order"
	}
	return "canonical"
}

// csvEncoder writes a section per kind: a header row (record_type first),
// the rows, and an empty line between sections.
type csvEncoder struct {
	w        *csv.Writer
	sections int
}

func (e *csvEncoder) begin() error { return nil }

func (e *csvEncoder) section(k Kind) error {
	if e.sections > 0 {
		if err := e.w.Write(nil); err != nil {
			return err
		}
	}
	e.sections++
	return e.w.Write(append([]string{"record_type"}, csvHeaders[k]...))
}

func (e *csvEncoder) record(k Kind, r record) error {
	return e.w.Write(append([]string{recordType(k)}, r.row...))
}

func (e *csvEncoder) end() error {
	e.w.Flush()
	return e.w.Error()
}
