// Package export streams a backup of what MagFlow stores (products, offers,
// orders and the canonical SKU view) as JSON, NDJSON or CSV, in constant
// memory whatever the catalogue size. Records carry eMAG's own field names
// plus the account. The CLI (`magflow export`) and the REST API share it.
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// Kind is one kind of record.
type Kind string

// Kinds, in the order they are written.
const (
	Products  Kind = "products"
	Offers    Kind = "offers"
	Orders    Kind = "orders"
	Canonical Kind = "canonical"
)

// AllKinds lists every kind in writing order.
var AllKinds = []Kind{Products, Offers, Orders, Canonical}

// Formats.
const (
	JSON   = "json"   // one object {"exported_at", "products": [...], ...}
	NDJSON = "ndjson" // one record per line, with "record_type"
	CSV    = "csv"    // a section per kind: a header row then rows; sections separated by an empty line
)

// Options select what to export.
type Options struct {
	Format  string
	Include []Kind
	// Account restricts products, offers and orders to one account.
	Account string
	// Now stamps the export (time.Now by default).
	Now func() time.Time
}

// ParseOptions validates a format and a list of kinds ("products,offers").
func ParseOptions(format string, include []string, account string) (Options, error) {
	o := Options{Format: strings.ToLower(format), Account: account}
	switch o.Format {
	case "":
		o.Format = JSON
	case JSON, NDJSON, CSV:
	default:
		return o, &magflow.Error{Code: magflow.EInvalid, Field: "format", Message: fmt.Sprintf("unknown format %q: use json, ndjson or csv", format)}
	}
	for _, s := range include {
		for _, part := range strings.Split(s, ",") {
			k := Kind(strings.ToLower(strings.TrimSpace(part)))
			if k == "" {
				continue
			}
			if !slices.Contains(AllKinds, k) {
				return o, &magflow.Error{Code: magflow.EInvalid, Field: "include", Message: fmt.Sprintf("unknown record kind %q: use products, offers, orders or canonical", k)}
			}
			if !slices.Contains(o.Include, k) {
				o.Include = append(o.Include, k)
			}
		}
	}
	if len(o.Include) == 0 {
		return o, &magflow.Error{Code: magflow.EInvalid, Field: "include", Message: "nothing to export: include at least one of products, offers, orders, canonical"}
	}
	slices.SortFunc(o.Include, func(a, b Kind) int { return slices.Index(AllKinds, a) - slices.Index(AllKinds, b) })
	return o, nil
}

// Source is where records come from (*sqldb.DB).
type Source interface {
	ExportProducts(ctx context.Context, account string) iter.Seq2[sqldb.StoredProduct, error]
	ExportOffers(ctx context.Context, account string) iter.Seq2[magflow.Offer, error]
	ExportOrders(ctx context.Context, account string) iter.Seq2[magflow.Order, error]
	ExportCanonical(ctx context.Context) iter.Seq2[magflow.CanonicalProduct, error]
}

// ContentType returns the MIME type of a format.
func ContentType(format string) string {
	switch format {
	case NDJSON:
		return "application/x-ndjson"
	case CSV:
		return "text/csv; charset=utf-8"
	}
	return "application/json"
}

// Write streams the export to w. Memory stays constant: records are read
// from the database one at a time and written through a buffer.
func Write(ctx context.Context, w io.Writer, src Source, opts Options) (err error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	defer func() {
		if ferr := bw.Flush(); err == nil {
			err = ferr
		}
	}()
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	var enc encoder
	switch opts.Format {
	case NDJSON:
		enc = &ndjsonEncoder{w: bw}
	case CSV:
		enc = &csvEncoder{w: csv.NewWriter(bw)}
	default:
		enc = &jsonEncoder{w: bw, exportedAt: now().UTC()}
	}
	if err := enc.begin(); err != nil {
		return err
	}
	for _, k := range opts.Include {
		if err := enc.section(k); err != nil {
			return err
		}
		switch k {
		case Products:
			err = each(src.ExportProducts(ctx, opts.Account), func(p sqldb.StoredProduct) error { return enc.record(k, productRecord(p)) })
		case Offers:
			err = each(src.ExportOffers(ctx, opts.Account), func(o magflow.Offer) error { return enc.record(k, offerRecord(o)) })
		case Orders:
			err = each(src.ExportOrders(ctx, opts.Account), func(o magflow.Order) error { return enc.record(k, orderRecord(o)) })
		case Canonical:
			err = each(src.ExportCanonical(ctx), func(c magflow.CanonicalProduct) error { return enc.record(k, canonicalRecord(c)) })
		}
		if err != nil {
			return fmt.Errorf("export %s: %w", k, err)
		}
	}
	return enc.end()
}

func each[T any](seq iter.Seq2[T, error], fn func(T) error) error {
	for v, err := range seq {
		if err != nil {
			return err
		}
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}
