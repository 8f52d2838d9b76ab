package twoway

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// ChangeRow is one row of a bulk change file, in eMAG's field names: the
// offer by id or part_number, and the fields to set (absent or empty:
// unchanged).
type ChangeRow struct {
	Account          string           `json:"account,omitempty"`
	ID               int64            `json:"id,omitempty"`
	PartNumber       string           `json:"part_number,omitempty"`
	Stock            *int             `json:"stock,omitempty"`
	WarehouseID      int              `json:"warehouse_id,omitempty"`
	SalePrice        *magflow.Decimal `json:"sale_price,omitempty"`
	MinSalePrice     *magflow.Decimal `json:"min_sale_price,omitempty"`
	MaxSalePrice     *magflow.Decimal `json:"max_sale_price,omitempty"`
	RecommendedPrice *magflow.Decimal `json:"recommended_price,omitempty"`
	Status           *int             `json:"status,omitempty"`
}

// Change turns r into an outbox change; account applies when r names none.
func (r ChangeRow) Change(account, source string) sqldb.OfferChange {
	if r.Account != "" {
		account = r.Account
	}
	return sqldb.OfferChange{Account: account, ProductID: r.ID, PartNumber: r.PartNumber, Source: source, OfferFields: sqldb.OfferFields{
		Stock: r.Stock, WarehouseID: r.WarehouseID, SalePrice: r.SalePrice, MinSalePrice: r.MinSalePrice,
		MaxSalePrice: r.MaxSalePrice, RecommendedPrice: r.RecommendedPrice, Status: r.Status}}
}

// CSVColumns are the columns a CSV change file may have, in any order,
// named in its header row; id or part_number is required.
var CSVColumns = []string{"account", "id", "part_number", "stock", "warehouse_id", "sale_price", "min_sale_price", "max_sale_price", "recommended_price", "status"}

// MaxFileRows bounds one change file.
const MaxFileRows = 100000

// ReadChanges reads a change file: format "csv" (a header row, then one
// change per row) or "json" (an array of rows, or {"changes": [...]}, or
// one row per line). Errors name the line or row and the column.
func ReadChanges(r io.Reader, format string) ([]ChangeRow, error) {
	switch strings.ToLower(format) {
	case "csv":
		return readCSV(r)
	case "json", "ndjson":
		return readJSON(r)
	}
	return nil, magflow.Errorf(magflow.EInvalid, "unknown change file format %q: use csv or json", format)
}

func readJSON(r io.Reader) ([]ChangeRow, error) {
	data, err := io.ReadAll(io.LimitReader(r, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("read the change file: %w", err)
	}
	data = bytes.TrimSpace(data)
	bad := func(where string, err error) error {
		return &magflow.Error{Code: magflow.EInvalid, Field: where, Message: fmt.Sprintf("not a change row: %v (use eMAG's names: id or part_number, stock, sale_price, min_sale_price, max_sale_price, recommended_price, status)", err)}
	}
	var rows []ChangeRow
	switch {
	case len(data) > 0 && data[0] == '[':
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rows); err != nil {
			return nil, bad("[]", err)
		}
	case len(data) > 0 && data[0] == '{' && bytes.HasPrefix(bytes.TrimLeft(data[1:], " \t\r\n"), []byte(`"changes"`)):
		var doc struct {
			Changes []ChangeRow `json:"changes"`
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			return nil, bad("changes", err)
		}
		rows = doc.Changes
	default:
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for line := 1; sc.Scan(); line++ {
			b := bytes.TrimSpace(sc.Bytes())
			if len(b) == 0 {
				continue
			}
			var row ChangeRow
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&row); err != nil {
				return nil, bad(fmt.Sprintf("line %d", line), err)
			}
			rows = append(rows, row)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("read the change file: %w", err)
		}
	}
	if len(rows) > MaxFileRows {
		return nil, magflow.Errorf(magflow.EInvalid, "%d rows: split the file into files of at most %d rows", len(rows), MaxFileRows)
	}
	return rows, nil
}

func readCSV(r io.Reader) ([]ChangeRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil
	}
	if err != nil {
		return nil, magflow.Errorf(magflow.EInvalid, "the CSV header: %v", err)
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		known := false
		for _, c := range CSVColumns {
			known = known || c == h
		}
		if !known {
			return nil, &magflow.Error{Code: magflow.EInvalid, Field: "line 1", Message: fmt.Sprintf("unknown column %q: use %s", h, strings.Join(CSVColumns, ", "))}
		}
		cols[h] = i
	}
	if _, ok := cols["id"]; !ok {
		if _, ok := cols["part_number"]; !ok {
			return nil, &magflow.Error{Code: magflow.EInvalid, Field: "line 1", Message: "the header needs an id or a part_number column"}
		}
	}
	var rows []ChangeRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, magflow.Errorf(magflow.EInvalid, "the CSV file: %v", err)
		}
		if len(rows) == MaxFileRows {
			return nil, magflow.Errorf(magflow.EInvalid, "more than %d rows: split the file", MaxFileRows)
		}
		cell := func(c string) string {
			i, ok := cols[c]
			if !ok || i >= len(rec) {
				return ""
			}
			return strings.TrimSpace(rec[i])
		}
		bad := func(c, msg string) error {
			return &magflow.Error{Code: magflow.EInvalid, Field: fmt.Sprintf("line %d: %s", line, c), Message: msg}
		}
		var row ChangeRow
		row.Account, row.PartNumber = cell("account"), cell("part_number")
		if v := cell("id"); v != "" {
			if row.ID, err = strconv.ParseInt(v, 10, 64); err != nil {
				return nil, bad("id", fmt.Sprintf("%q is not a seller product id", v))
			}
		}
		ints := []struct {
			c   string
			dst **int
		}{{"stock", &row.Stock}, {"status", &row.Status}}
		for _, x := range ints {
			if v := cell(x.c); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, bad(x.c, fmt.Sprintf("%q is not a whole number", v))
				}
				*x.dst = &n
			}
		}
		if v := cell("warehouse_id"); v != "" {
			if row.WarehouseID, err = strconv.Atoi(v); err != nil {
				return nil, bad("warehouse_id", fmt.Sprintf("%q is not a warehouse id", v))
			}
		}
		for _, x := range []struct {
			c   string
			dst **magflow.Decimal
		}{{"sale_price", &row.SalePrice}, {"min_sale_price", &row.MinSalePrice}, {"max_sale_price", &row.MaxSalePrice}, {"recommended_price", &row.RecommendedPrice}} {
			if v := cell(x.c); v != "" {
				d, err := magflow.ParseDecimal(v)
				if err != nil {
					return nil, bad(x.c, fmt.Sprintf("%q is not an amount: use a dot and at most 4 decimals, e.g. 79.9", v))
				}
				*x.dst = &d
			}
		}
		if row == (ChangeRow{}) {
			continue // an empty line
		}
		rows = append(rows, row)
	}
	return rows, nil
}
