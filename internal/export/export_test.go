package export_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/export"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
)

// synced fills db from a small sandbox and returns the sandbox passwords.
func synced(t *testing.T, db *sqldb.DB) (products, orders map[string]int, passwords []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 2, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
		{Name: "main", Products: 230, Orders: 40}, {Name: "fbe", Products: 170, Orders: 30}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	var accounts []syncer.Account
	products, orders = map[string]int{}, map[string]int{}
	for _, a := range sb.Accounts() {
		c, err := emag.New(emag.Options{Account: a.Name, BaseURL: a.BaseURL, Username: a.Username, Password: a.Password})
		if err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, syncer.Account{Name: a.Name, Source: c})
		products[a.Name] = len(sb.ProductIDs(a.Name))
		orders[a.Name] = len(sb.OrderIDs(a.Name))
		passwords = append(passwords, a.Password)
	}
	e, err := syncer.New(syncer.Options{Store: db, Accounts: accounts})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := e.Sync(ctx, syncer.Request{Mode: syncer.ModeAll})
	if err != nil || rep.Status() != "completed" {
		t.Fatalf("sync: %v %+v", err, rep.Runs)
	}
	return products, orders, passwords
}

func write(t *testing.T, db *sqldb.DB, format string, include ...string) []byte {
	t.Helper()
	opts, err := export.ParseOptions(format, include, "")
	if err != nil {
		t.Fatal(err)
	}
	opts.Now = func() time.Time { return time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC) }
	var buf bytes.Buffer
	if err := export.Write(context.Background(), &buf, db, opts); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestExportFormats(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		products, orders, passwords := synced(t, db)
		total := func(m map[string]int) int { return m["main"] + m["fbe"] }

		t.Run("json", func(t *testing.T) {
			out := write(t, db, "json", "products,offers,orders,canonical")
			var doc struct {
				ExportedAt string            `json:"exported_at"`
				Products   []json.RawMessage `json:"products"`
				Offers     []map[string]any  `json:"offers"`
				Orders     []map[string]any  `json:"orders"`
				Canonical  []map[string]any  `json:"canonical"`
			}
			if err := json.Unmarshal(out, &doc); err != nil {
				t.Fatalf("invalid JSON: %v\n%.500s", err, out)
			}
			if len(doc.Products) != total(products) || len(doc.Offers) != total(products) || len(doc.Orders) != total(orders) {
				t.Errorf("counts: %d products, %d offers, %d orders", len(doc.Products), len(doc.Offers), len(doc.Orders))
			}
			if len(doc.Canonical) == 0 || len(doc.Canonical) >= total(products) {
				t.Errorf("%d canonical SKUs from %d products with overlap", len(doc.Canonical), total(products))
			}
			var p map[string]any
			if err := json.Unmarshal(doc.Products[0], &p); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"account", "id", "part_number", "sale_price", "offer_validation_status", "ownership"} {
				if _, ok := p[k]; !ok {
					t.Errorf("product record lacks eMAG field %q: %v", k, p)
				}
			}
			if _, ok := doc.Orders[0]["customer"]; !ok || doc.Orders[0]["account"] == nil {
				t.Errorf("order record lacks eMAG fields: %v", doc.Orders[0])
			}
			for _, pw := range passwords {
				if bytes.Contains(out, []byte(pw)) {
					t.Error("the export contains an eMAG password")
				}
			}
		})
		t.Run("ndjson", func(t *testing.T) {
			out := write(t, db, "ndjson", "products", "orders")
			counts := map[string]int{}
			sc := bufio.NewScanner(bytes.NewReader(out))
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var r map[string]any
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("line is not JSON: %v", err)
				}
				counts[r["record_type"].(string)]++
			}
			if counts["product"] != total(products) || counts["order"] != total(orders) || len(counts) != 2 {
				t.Errorf("ndjson counts %v", counts)
			}
		})
		t.Run("csv", func(t *testing.T) {
			out := write(t, db, "csv", "offers,canonical")
			sections := strings.Split(string(out), "\n\n")
			if len(sections) != 2 {
				t.Fatalf("%d sections", len(sections))
			}
			rows, err := csv.NewReader(strings.NewReader(sections[0])).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if rows[0][0] != "record_type" || rows[0][5] != "sale_price" || len(rows)-1 != total(products) {
				t.Errorf("offers section: header %v, %d rows", rows[0], len(rows)-1)
			}
			if _, err := csv.NewReader(strings.NewReader(sections[1])).ReadAll(); err != nil && err != io.EOF {
				t.Error(err)
			}
		})
	})
}

func TestParseOptionsRejectsBadInput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ format, include, field string }{
		{"xml", "products", "format"}, {"json", "products,customers", "include"}, {"csv", "", "include"},
	} {
		_, err := export.ParseOptions(tc.format, []string{tc.include}, "")
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%+v: err = %v", tc, err)
		}
	}
}
