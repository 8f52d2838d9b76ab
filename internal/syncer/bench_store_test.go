package syncer

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/cpustat"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// storePages are the pages of one account's catalogue, fetched from the
// sandbox and converted as the engine converts them.
type storePages struct {
	account string
	items   [][]emag.ProductOffer
}

// fetchStorePages reads every page of every sandbox account once.
func fetchStorePages(b *testing.B, products int) []storePages {
	b.Helper()
	ctx := context.Background()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 1, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
		{Name: "main", Products: products, Orders: -1}, {Name: "fbe", Products: products, Orders: -1}}})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	var out []storePages
	for _, info := range sb.Accounts() {
		c, err := emag.New(emag.Options{Account: info.Name, BaseURL: info.BaseURL, Username: info.Username, Password: info.Password,
			HTTPClient: &http.Client{}})
		if err != nil {
			b.Fatal(err)
		}
		sp := storePages{account: info.Name}
		for pg := 1; ; pg++ {
			items, err := c.ReadProductOffers(ctx, emag.ProductOfferFilter{CurrentPage: pg, ItemsPerPage: 100})
			if err != nil {
				b.Fatal(err)
			}
			if len(items) == 0 {
				break
			}
			sp.items = append(sp.items, items)
		}
		out = append(out, sp)
	}
	return out
}

// BenchmarkStoreWrites isolates the write side of figure 2 of issue 4: the
// pages of two accounts (fetched and decoded before the timer starts) are
// committed as the engine commits them (each account's pages in order, four
// to a transaction, the accounts side by side), then MarkGone and RebuildCanonical end the scans.
// MAGFLOW_BENCH_PRODUCTS sets the products per account (default 50,000).
// It reports products/s and the seconds of each phase.
func BenchmarkStoreWrites(b *testing.B) {
	products := 50000
	if n, err := strconv.Atoi(os.Getenv("MAGFLOW_BENCH_PRODUCTS")); err == nil && n > 0 {
		products = n
	}
	pages := fetchStorePages(b, products)
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db := sqldbtest.Open(b, d)
				ctx := context.Background()
				runs := make([]int64, len(pages))
				for i, sp := range pages {
					run, _, err := db.StartRun(ctx, sp.account, magflow.StreamProducts, "bench")
					if err != nil {
						b.Fatal(err)
					}
					runs[i] = run.ID
				}
				b.StartTimer()
				wchar0, syscw0, syscr0 := cpustat.IO()
				cpu0, mcpu0 := cpustat.Process(), cpustat.Machine()
				start := time.Now()
				var wg sync.WaitGroup
				for i, sp := range pages {
					wg.Go(func() {
						// Groups of floorPerTx pages, as the engine's group
						// commit takes them when the database is the slower side.
						for n := 0; n < len(sp.items); n += floorPerTx {
							var group []sqldb.ScanPage
							for k, items := range sp.items[n:min(n+floorPerTx, len(sp.items))] {
								pg := sqldb.ScanPage{Page: n + k + 1, Products: make([]magflow.Product, len(items)), Offers: make([]magflow.Offer, len(items))}
								for j := range items {
									pg.Products[j], pg.Offers[j] = productFromEMAG(sp.account, &items[j])
								}
								group = append(group, pg)
							}
							next := sqldb.Checkpoint{NextPage: group[len(group)-1].Page + 1, TotalPages: len(sp.items)}
							if _, err := db.ApplyProductPages(ctx, runs[i], sp.account, group, next); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				paged := time.Since(start)
				for i, sp := range pages {
					if _, err := db.MarkGone(ctx, sp.account, runs[i]); err != nil {
						b.Fatal(err)
					}
				}
				gone := time.Since(start) - paged
				if _, err := db.RebuildCanonical(ctx, []string{"main", "fbe"}); err != nil {
					b.Fatal(err)
				}
				total := time.Since(start)
				wchar, syscw, syscr := cpustat.IO()
				b.ReportMetric(float64(2*products)/total.Seconds(), "products/s")
				b.ReportMetric((cpustat.Process() - cpu0).Seconds(), "cpu_s")
				b.ReportMetric((cpustat.Machine() - mcpu0).Seconds(), "machine_cpu_s")
				b.ReportMetric(float64(wchar-wchar0)/1e6, "MB_written")
				b.ReportMetric(float64(syscw-syscw0), "write_calls")
				b.ReportMetric(float64(syscr-syscr0), "read_calls")
				b.ReportMetric(paged.Seconds(), "s_pages")
				b.ReportMetric(gone.Seconds(), "s_gone")
				b.ReportMetric((total - paged - gone).Seconds(), "s_canonical")
			}
		})
	}
}

// BenchmarkStoreFloor measures the least SQLite work a sync of these pages
// can cost, as the floor under figure 2 of issue 4: each product's row and
// its offer's row, with the same columns and values as the store writes
// (the raw payload included), inserted by plain prepared INSERTs into the
// store's tables stripped of their secondary indexes, four pages per
// transaction on the one writer, the two accounts side by side; no word
// index, no content hashes, no seen ids, checkpoints or progress, no
// canonical view. Compare its cpu_s with the discard baseline's of
// BenchmarkEngineOverhead: on two cores, a sync cannot take less than half
// the CPU time of both together.
func BenchmarkStoreFloor(b *testing.B) {
	products := 50000
	if n, err := strconv.Atoi(os.Getenv("MAGFLOW_BENCH_PRODUCTS")); err == nil && n > 0 {
		products = n
	}
	pages := fetchStorePages(b, products)
	b.Run("sqlite", func(b *testing.B) { storeFloorSQLite(b, pages, products) })
	b.Run("postgres", func(b *testing.B) { storeFloorPostgres(b, pages, products) })
}

// floorPerTx is how many pages BenchmarkStoreFloor commits per transaction
// (what the engine's group commit takes when the database is the slower side).
const floorPerTx = 4

func storeFloorSQLite(b *testing.B, pages []storePages, products int) {
	for b.Loop() {
		b.StopTimer()
		db := sqldbtest.Open(b, sqldb.SQLite)
		dropIndexes(b, db, "emag_products_pn", "emag_products_pnk", "emag_product_offers_part_number")
		// The statements are built before the timer starts: only the
		// database's work is measured.
		txs := floorGroups(pages, true, func(prows, orows [][]any) []floorStmt {
			var tx []floorStmt
			for _, r := range prows {
				tx = append(tx, floorStmt{floorProductInsert, r})
			}
			for _, r := range orows {
				tx = append(tx, floorStmt{floorOfferInsert, r})
			}
			return tx
		})
		runFloor(b, db.WriteDB(), products, txs)
	}
}

// floorStmt is one statement of a floor transaction.
type floorStmt struct {
	query string
	args  []any
}

func dropIndexes(b *testing.B, db *sqldb.DB, names ...string) {
	b.Helper()
	for _, ix := range names {
		if _, err := db.WriteDB().Exec("DROP INDEX " + ix); err != nil {
			b.Fatal(err)
		}
	}
}

// floorGroups returns, per account, one transaction per floorPerTx pages:
// tx turns the group's product and offer rows (the store's columns and
// values; SQLite's with its *_units columns and times as the driver's
// text) into its statements.
func floorGroups(pages []storePages, sqlite bool, tx func(prows, orows [][]any) []floorStmt) [][][]floorStmt {
	var now any = time.Now().UTC()
	if sqlite {
		now = time.Now().UTC().String()
	}
	js := func(v any) string { out, _ := json.Marshal(v); return string(out) }
	units := func(row []any, ds ...magflow.Decimal) []any {
		if sqlite {
			for _, d := range ds {
				row = append(row, d.Units())
			}
		}
		return row
	}
	txs := make([][][]floorStmt, len(pages))
	for i, sp := range pages {
		for n := 0; n < len(sp.items); n += floorPerTx {
			var prows, orows [][]any
			for _, items := range sp.items[n:min(n+floorPerTx, len(sp.items))] {
				for j := range items {
					p, o := productFromEMAG(sp.account, &items[j])
					prows = append(prows, units([]any{p.Account, p.ID, p.PartNumber, p.PartNumberKey, p.Name, p.Brand, p.CategoryID, js(p.EAN),
						p.Status, p.ValidationStatus, p.OfferValidationStatus, p.Ownership, p.GreenTax.String(),
						p.SupplyLeadTime, p.SafetyInformation, p.Name + " " + p.Brand, string(p.Raw), "-", now, now, now}, p.GreenTax))
					orows = append(orows, units([]any{o.Account, o.ProductID, o.PartNumber, o.OfferID, o.SalePrice.String(),
						o.RecommendedPrice.String(), o.MinSalePrice.String(), o.MaxSalePrice.String(), o.BestOfferPrice.String(),
						o.Currency, o.VatID, o.Status, o.GeneralStock, o.EstimatedStock, js(o.Stock), js(o.HandlingTime), js(o.Availability),
						o.BuyButtonRank, o.NumberOfOffers, "-", now, now, now},
						o.SalePrice, o.RecommendedPrice, o.MinSalePrice, o.MaxSalePrice, o.BestOfferPrice))
				}
			}
			txs[i] = append(txs[i], tx(prows, orows))
		}
	}
	return txs
}

// runFloor starts the timer and commits each account's transactions in
// order on w, the accounts side by side, and reports products/s and CPU.
func runFloor(b *testing.B, w *sql.DB, products int, txs [][][]floorStmt) {
	b.StartTimer()
	cpu0, mcpu0 := cpustat.Process(), cpustat.Machine()
	start := time.Now()
	var wg sync.WaitGroup
	for _, acct := range txs {
		wg.Go(func() {
			ctx := context.Background()
			for _, stmts := range acct {
				tx, err := w.BeginTx(ctx, nil)
				if err != nil {
					b.Error(err)
					return
				}
				for _, st := range stmts {
					if _, err := tx.ExecContext(ctx, st.query, st.args...); err != nil {
						b.Error(err)
						return
					}
				}
				if err := tx.Commit(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	b.ReportMetric(float64(2*products)/d.Seconds(), "products/s")
	b.ReportMetric((cpustat.Process() - cpu0).Seconds(), "cpu_s")
	b.ReportMetric((cpustat.Machine() - mcpu0).Seconds(), "machine_cpu_s")
}

const (
	floorProductInsert = `INSERT INTO emag_products (account, id, part_number, part_number_key, name, brand, category_id, ean,
status, validation_status, offer_validation_status, ownership, green_tax, supply_lead_time, safety_information,
search_terms, raw, content_hash, first_seen_at, last_seen_at, updated_at, green_tax_units) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	floorOfferInsert = `INSERT INTO emag_product_offers (account, product_id, part_number, offer_id, sale_price,
recommended_price, min_sale_price, max_sale_price, best_offer_price, currency, vat_id, status, general_stock, estimated_stock,
stock, handling_time, availability, buy_button_rank, number_of_offers, content_hash, first_seen_at, last_seen_at, updated_at,
sale_price_units, recommended_price_units, min_sale_price_units, max_sale_price_units, best_offer_price_units)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
)

// floorColumn is a column of the PostgreSQL floor's INSERT ... SELECT FROM
// unnest: its name, the array type its values travel in and a cast.
type floorColumn struct{ name, array, cast string }

var (
	floorProductColumnsPG = []floorColumn{{"account", "text", ""}, {"id", "bigint", ""}, {"part_number", "text", ""},
		{"part_number_key", "text", ""}, {"name", "text", ""}, {"brand", "text", ""}, {"category_id", "bigint", ""},
		{"ean", "text", "jsonb"}, {"status", "bigint", ""}, {"validation_status", "bigint", ""},
		{"offer_validation_status", "bigint", ""}, {"ownership", "bool", ""}, {"green_tax", "text", "numeric"},
		{"supply_lead_time", "bigint", ""}, {"safety_information", "text", ""}, {"search_terms", "text", ""},
		{"raw", "text", "json"}, {"content_hash", "text", ""}, {"first_seen_at", "timestamptz", ""},
		{"last_seen_at", "timestamptz", ""}, {"updated_at", "timestamptz", ""}}
	floorOfferColumnsPG = []floorColumn{{"account", "text", ""}, {"product_id", "bigint", ""}, {"part_number", "text", ""},
		{"offer_id", "bigint", ""}, {"sale_price", "text", "numeric"}, {"recommended_price", "text", "numeric"},
		{"min_sale_price", "text", "numeric"}, {"max_sale_price", "text", "numeric"}, {"best_offer_price", "text", "numeric"},
		{"currency", "text", ""}, {"vat_id", "bigint", ""}, {"status", "bigint", ""}, {"general_stock", "bigint", ""},
		{"estimated_stock", "bigint", ""}, {"stock", "text", "jsonb"}, {"handling_time", "text", "jsonb"},
		{"availability", "text", "jsonb"}, {"buy_button_rank", "bigint", ""}, {"number_of_offers", "bigint", ""},
		{"content_hash", "text", ""}, {"first_seen_at", "timestamptz", ""}, {"last_seen_at", "timestamptz", ""},
		{"updated_at", "timestamptz", ""}}
)

// floorInsertPG is the INSERT of one group's rows of table, one array per
// column, as the store's PostgreSQL upserts send them (without their ON
// CONFLICT).
func floorInsertPG(table string, cols []floorColumn) string {
	var names, sel, arrays []string
	for i, c := range cols {
		names = append(names, c.name)
		a := fmt.Sprintf("c%d", i)
		arrays = append(arrays, fmt.Sprintf("unnest($%d::%s[]) AS %s", i+1, c.array, a))
		if c.cast != "" {
			a += "::" + c.cast
		}
		sel = append(sel, a)
	}
	return "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") SELECT " + strings.Join(sel, ", ") +
		" FROM (SELECT " + strings.Join(arrays, ", ") + ") AS u"
}

// floorArraysPG gathers the values of rows (in cols order) into one Go
// slice per column.
func floorArraysPG(cols []floorColumn, rows [][]any) []any {
	out := make([]any, len(cols))
	for i, c := range cols {
		switch c.array {
		case "bigint":
			a := make([]int64, len(rows))
			for j, r := range rows {
				switch v := r[i].(type) {
				case int64:
					a[j] = v
				case int:
					a[j] = int64(v)
				}
			}
			out[i] = a
		case "bool":
			a := make([]bool, len(rows))
			for j, r := range rows {
				a[j] = r[i].(bool)
			}
			out[i] = a
		case "timestamptz":
			a := make([]time.Time, len(rows))
			for j, r := range rows {
				a[j] = r[i].(time.Time)
			}
			out[i] = a
		default:
			a := make([]string, len(rows))
			for j, r := range rows {
				a[j] = r[i].(string)
			}
			out[i] = a
		}
	}
	return out
}

// storeFloorPostgres is BenchmarkStoreFloor on PostgreSQL: each group of
// pages is one transaction of two INSERT ... SELECT FROM unnest statements
// (products, offers) into the tables stripped of their secondary indexes
// (part numbers, the word index), the two accounts on two connections side
// by side. Its machine_cpu_s includes the server's CPU.
func storeFloorPostgres(b *testing.B, pages []storePages, products int) {
	if os.Getenv(sqldbtest.EnvPostgresURL) == "" {
		b.Skip("PostgreSQL floor: set " + sqldbtest.EnvPostgresURL)
	}
	pq, oq := floorInsertPG("emag_products", floorProductColumnsPG), floorInsertPG("emag_product_offers", floorOfferColumnsPG)
	for b.Loop() {
		b.StopTimer()
		db := sqldbtest.Open(b, sqldb.Postgres)
		dropIndexes(b, db, "emag_products_pn", "emag_products_pnk", "emag_products_terms", "emag_product_offers_part_number")
		txs := floorGroups(pages, false, func(prows, orows [][]any) []floorStmt {
			return []floorStmt{{pq, floorArraysPG(floorProductColumnsPG, prows)}, {oq, floorArraysPG(floorOfferColumnsPG, orows)}}
		})
		runFloor(b, db.WriteDB(), products, txs)
	}
}
