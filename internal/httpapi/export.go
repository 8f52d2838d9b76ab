package httpapi

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humachi"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// ExportInput selects what GET .../sync/export streams.
type ExportInput struct {
	IncludeProducts bool   `query:"include_products" default:"true"`
	IncludeOffers   bool   `query:"include_offers" default:"true"`
	IncludeOrders   bool   `query:"include_orders" default:"false"`
	Account         string `query:"account" maxLength:"32" doc:"Only this account; default: every account."`
	Format          string `query:"format" enum:"json,ndjson,csv" default:"json" doc:"json: one document with products, offers and orders arrays; ndjson: one {type, data} object per line; csv: one table, so include exactly one kind."`
	AccessToken     string `query:"access_token" maxLength:"4096" doc:"The access token, for download links that cannot send headers."`
}

// ExportProduct is a product as exported: every stored field and the raw
// eMAG payload.
type ExportProduct struct {
	Product
	Images          json.RawMessage `json:"images,omitempty"`
	Characteristics json.RawMessage `json:"characteristics,omitempty"`
	Raw             json.RawMessage `json:"raw,omitempty"`
}

func (s *Server) registerExport() {
	huma.Register(s.api, huma.Operation{
		OperationID: "export", Method: http.MethodGet, Path: basePath + "/sync/export", Tags: []string{"Sync"},
		Summary:     "Export a backup",
		Description: "Streams products, offers and orders as JSON, NDJSON or CSV in constant memory, whatever the catalogue size, as an attachment.",
		Security:    bearerAuth, Metadata: map[string]any{metaQueryToken: true}, Errors: []int{400, 401, 429},
		Responses: map[string]*huma.Response{"200": {Description: "The export, streamed.", Content: map[string]*huma.MediaType{
			"application/json": {}, "application/x-ndjson": {}, "text/csv": {},
		}}},
	}, func(ctx context.Context, in *ExportInput) (*huma.StreamResponse, error) {
		if err := s.checkAccount("query.account", in.Account); err != nil {
			return nil, err
		}
		n := 0
		for _, b := range []bool{in.IncludeProducts, in.IncludeOffers, in.IncludeOrders} {
			if b {
				n++
			}
		}
		if n == 0 {
			return nil, invalid("query.include_products", "nothing to export: set include_products, include_offers or include_orders to true")
		}
		if in.Format == "csv" && n != 1 {
			return nil, invalid("query.format", "a CSV file holds one table: include exactly one of products, offers and orders, or use format=json or ndjson")
		}
		return &huma.StreamResponse{Body: func(hctx huma.Context) { s.export(hctx, in) }}, nil
	})
}

type exportWriter struct {
	w     *bufio.Writer
	rc    *http.ResponseController
	n     int
	first bool
}

// tick flushes now and then and pushes the write deadline forward, so a
// long export neither buffers nor times out.
func (e *exportWriter) tick() error {
	e.n++
	if e.n%500 == 0 {
		if err := e.w.Flush(); err != nil {
			return err
		}
		_ = e.rc.SetWriteDeadline(time.Now().Add(time.Minute))
		_ = e.rc.Flush()
	}
	return nil
}

func (s *Server) export(hctx huma.Context, in *ExportInput) {
	r, w := humachi.Unwrap(hctx)
	ctx := r.Context()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Now().Add(time.Minute))
	stamp := time.Now().UTC().Format("20060102-150405")
	ctype := map[string]string{"json": "application/json", "ndjson": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}[in.Format]
	name := "magflow-export-" + stamp + "." + in.Format
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	ew := &exportWriter{w: bufio.NewWriterSize(w, 64<<10), rc: rc}
	var err error
	switch in.Format {
	case "csv":
		err = s.exportCSV(ctx, ew, in)
	default:
		err = s.exportJSON(ctx, ew, in, in.Format == "ndjson")
	}
	if err == nil {
		err = ew.w.Flush()
	}
	if err != nil && ctx.Err() == nil {
		// The status is sent: all we can do is cut the body short, which
		// makes the JSON invalid rather than silently incomplete.
		s.log.Error("export stopped", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// each writes every item of seq with write, stopping at the first error.
func each[T any](seq iter.Seq2[T, error], write func(T) error) error {
	for v, err := range seq {
		if err != nil {
			return err
		}
		if err := write(v); err != nil {
			return err
		}
	}
	return nil
}

func exportProductOf(p sqldb.StoredProduct) ExportProduct {
	return ExportProduct{Product: productOf(p), Images: p.Images, Characteristics: p.Characteristics, Raw: p.Raw}
}

func (s *Server) exportJSON(ctx context.Context, ew *exportWriter, in *ExportInput, ndjson bool) error {
	enc := json.NewEncoder(ew.w)
	if !ndjson {
		fmt.Fprintf(ew.w, `{"exported_at":%q,"account":%q`, time.Now().UTC().Format(time.RFC3339), in.Account)
	}
	section := func(name, typ string, body func(write func(any) error) error) error {
		if !ndjson {
			fmt.Fprintf(ew.w, `,%q:[`, name)
		}
		first := true
		err := body(func(v any) error {
			if ndjson {
				if err := enc.Encode(struct {
					Type string `json:"type"`
					Data any    `json:"data"`
				}{typ, v}); err != nil {
					return err
				}
			} else {
				if !first {
					ew.w.WriteByte(',')
				}
				first = false
				b, err := json.Marshal(v)
				if err != nil {
					return err
				}
				ew.w.Write(b)
			}
			return ew.tick()
		})
		if err != nil {
			return err
		}
		if !ndjson {
			ew.w.WriteByte(']')
		}
		return nil
	}
	if in.IncludeProducts {
		if err := section("products", "product", func(write func(any) error) error {
			return each(s.db.ExportProducts(ctx, in.Account), func(p sqldb.StoredProduct) error { return write(exportProductOf(p)) })
		}); err != nil {
			return err
		}
	}
	if in.IncludeOffers {
		if err := section("offers", "offer", func(write func(any) error) error {
			return each(s.db.ExportOffers(ctx, in.Account), func(o magflow.Offer) error { return write(offerOf(o)) })
		}); err != nil {
			return err
		}
	}
	if in.IncludeOrders {
		if err := section("orders", "order", func(write func(any) error) error {
			return each(s.db.ExportOrders(ctx, in.Account), func(o magflow.Order) error { return write(orderOf(o, true)) })
		}); err != nil {
			return err
		}
	}
	if !ndjson {
		ew.w.WriteString("}\n")
	}
	return nil
}

func itoa[T ~int | ~int64](v T) string { return strconv.FormatInt(int64(v), 10) }

func ts(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func tsp(t *time.Time) string {
	if t == nil {
		return ""
	}
	return ts(*t)
}

func (s *Server) exportCSV(ctx context.Context, ew *exportWriter, in *ExportInput) error {
	cw := csv.NewWriter(ew.w)
	row := func(rec []string) error {
		for i, v := range rec {
			rec[i] = csvSafe(v)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		if ew.n%500 == 499 {
			cw.Flush()
		}
		return ew.tick()
	}
	var err error
	switch {
	case in.IncludeProducts:
		cw.Write([]string{"account", "id", "part_number", "part_number_key", "name", "brand", "category_id", "ean", "status",
			"validation_status", "offer_validation_status", "first_seen_at", "last_seen_at", "gone_at"})
		err = each(s.db.ExportProducts(ctx, in.Account), func(p sqldb.StoredProduct) error {
			return row([]string{p.Account, itoa(p.ID), p.PartNumber, p.PartNumberKey, p.Name, p.Brand, itoa(p.CategoryID),
				strings.Join(p.EAN, " "), itoa(p.Status), itoa(p.ValidationStatus), itoa(p.OfferValidationStatus),
				ts(p.FirstSeenAt), ts(p.LastSeenAt), tsp(p.GoneAt)})
		})
	case in.IncludeOffers:
		cw.Write([]string{"account", "product_id", "part_number", "offer_id", "sale_price", "recommended_price", "min_sale_price",
			"max_sale_price", "currency", "status", "general_stock", "estimated_stock", "last_seen_at", "gone_at"})
		err = each(s.db.ExportOffers(ctx, in.Account), func(o magflow.Offer) error {
			return row([]string{o.Account, itoa(o.ProductID), o.PartNumber, itoa(o.OfferID), o.SalePrice.String(), o.RecommendedPrice.String(),
				o.MinSalePrice.String(), o.MaxSalePrice.String(), o.Currency, itoa(o.Status), itoa(o.GeneralStock), itoa(o.EstimatedStock),
				ts(o.LastSeenAt), tsp(o.GoneAt)})
		})
	default:
		// One row per order line; an order without lines has one row with
		// empty line columns.
		cw.Write([]string{"account", "order_id", "type", "status", "date", "modified", "customer_name", "payment_mode", "total",
			"currency", "line_id", "line_product_id", "line_part_number", "line_name", "line_quantity", "line_sale_price"})
		err = each(s.db.ExportOrders(ctx, in.Account), func(o magflow.Order) error {
			head := []string{o.Account, itoa(o.ID), itoa(o.Type), itoa(o.Status), ts(o.Date), ts(o.Modified), o.CustomerName,
				o.PaymentMode, o.Total.String(), o.Currency}
			if len(o.Lines) == 0 {
				return row(append(head, "", "", "", "", "", ""))
			}
			for _, l := range o.Lines {
				if err := row(append(append([]string{}, head...), itoa(l.ID), itoa(l.ProductID), l.PartNumber, l.Name,
					itoa(l.Quantity), l.SalePrice.String())); err != nil {
					return err
				}
			}
			return nil
		})
	}
	cw.Flush()
	if err != nil {
		return err
	}
	return cw.Error()
}

// csvSafe defuses spreadsheet formulas in text cells (CSV injection).
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		if _, err := strconv.ParseFloat(v, 64); err == nil {
			return v // a negative number
		}
		return "'" + v
	}
	return v
}
