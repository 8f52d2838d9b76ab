package sqldb_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

func TestHoles(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		for _, p := range []int{7, 3, 7} {
			if err := db.RecordHole(ctx, magflow.Hole{Account: "main", Stream: magflow.StreamProducts, Page: p, RunID: run.ID, Error: "HTTP 503", Tries: 4}); err != nil {
				t.Fatal(err)
			}
		}
		holes, err := db.Holes(ctx, "main", magflow.StreamProducts)
		if err != nil {
			t.Fatal(err)
		}
		want := []magflow.Hole{{Account: "main", Stream: magflow.StreamProducts, Page: 3, RunID: run.ID, Error: "HTTP 503", Tries: 4},
			{Account: "main", Stream: magflow.StreamProducts, Page: 7, RunID: run.ID, Error: "HTTP 503", Tries: 8}}
		if diff := cmp.Diff(want, holes); diff != "" {
			t.Fatalf("holes (-want +got):\n%s", diff)
		}
		if err := db.FinishRun(ctx, run.ID, magflow.RunPartial, magflow.RunCounters{Holes: 2}, "2 pages failed", false); err != nil {
			t.Fatal(err)
		}
		got, runHoles, err := db.GetRun(ctx, run.ID)
		if err != nil || got.Status != magflow.RunPartial || len(runHoles) != 2 || got.Counters.Holes != 2 {
			t.Fatalf("GetRun = %+v, %d holes, %v", got, len(runHoles), err)
		}
		// The next run fills page 3 through a page write and 7 explicitly.
		run2, res := startRun(t, db, "main", magflow.StreamProducts)
		if res.Resumed {
			t.Fatalf("a partial scan must not be resumed: %+v", res)
		}
		ps, os := page("main", 1, 2, "5")
		apply(t, db, run2.ID, "main", 3, ps, os)
		if err := db.ResolveHole(ctx, "main", magflow.StreamProducts, 7, run2.ID); err != nil {
			t.Fatal(err)
		}
		if holes, _ := db.Holes(ctx, "main", magflow.StreamProducts); len(holes) != 0 {
			t.Fatalf("holes left: %+v", holes)
		}
	})
}

func TestCanonicalPrecedence(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		fbe, _ := startRun(t, db, "fbe", magflow.StreamProducts)
		ps, os := page("fbe", 1, 3, "20") // PN-1..PN-3
		apply(t, db, fbe.ID, "fbe", 1, ps, os)
		mainRun, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps, os = page("main", 2, 3, "10") // PN-2..PN-4
		apply(t, db, mainRun.ID, "main", 1, ps, os)

		dups, err := db.RebuildCanonical(ctx, []string{"main", "fbe"})
		if err != nil || dups != 2 {
			t.Fatalf("RebuildCanonical = %d, %v; want 2 duplicates", dups, err)
		}
		var got []string
		for c, err := range db.ExportCanonical(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			var ls []string
			for _, l := range c.Listings {
				ls = append(ls, l.Account+"="+l.SalePrice.String())
			}
			got = append(got, c.PartNumber+" from "+c.SourceAccount+" "+strings.Join(ls, ","))
		}
		want := []string{"PN-1 from fbe fbe=20.0000", "PN-2 from main main=10.0000,fbe=20.0000",
			"PN-3 from main main=10.0000,fbe=20.0000", "PN-4 from main main=10.0000"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("canonical (-want +got):\n%s", diff)
		}
		list, err := db.ListProducts(ctx, sqldb.ProductFilter{Canonical: true, Sort: "part_number"})
		if err != nil || list.Total != 4 || list.Items[1].Product.Account != "main" || len(list.Items[1].Listings) != 2 {
			t.Fatalf("canonical list = %+v, %v", list, err)
		}
		skus, shared, err := db.CanonicalStats(ctx)
		if err != nil || skus != 4 || shared != 2 {
			t.Fatalf("stats = %d, %d, %v", skus, shared, err)
		}
		// Reversed precedence moves the shared SKUs to fbe; a rebuild with
		// nothing changed writes nothing and reports the same duplicates.
		if _, err := db.RebuildCanonical(ctx, []string{"fbe", "main"}); err != nil {
			t.Fatal(err)
		}
		d, _ := db.GetProduct(ctx, "fbe", 2)
		if len(d.Offers) != 2 || d.Offers[0].Account != "fbe" {
			t.Fatalf("product offers across accounts = %+v", d.Offers)
		}
		list, _ = db.ListProducts(ctx, sqldb.ProductFilter{Canonical: true, Search: "pn-2"})
		if list.Total != 1 || list.Items[0].Product.Account != "fbe" {
			t.Fatalf("after reversing precedence: %+v", list)
		}
	})
}

func TestListProductsFilters(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps, os := page("main", 1, 100, "10")
		for i := range ps {
			os[i].SalePrice = magflow.DecimalFromInt(int64(100 - i))
			if i%10 == 0 {
				ps[i].Brand = "Zeta"
				ps[i].Name = "Cablu USB-C 100% cupru_" + fmt.Sprint(i)
			}
		}
		apply(t, db, run.ID, "main", 1, ps, os)
		ids := func(f sqldb.ProductFilter) ([]int64, int) {
			t.Helper()
			p, err := db.ListProducts(ctx, f)
			if err != nil {
				t.Fatalf("ListProducts(%+v): %v", f, err)
			}
			var out []int64
			for _, it := range p.Items {
				out = append(out, it.Product.ID)
			}
			return out, p.Total
		}
		lo, hi := magflow.MustDecimal("95"), magflow.MustDecimal("97.5")
		two, five := 2, 5
		cases := []struct {
			name  string
			f     sqldb.ProductFilter
			want  []int64
			total int
		}{
			{"page", sqldb.ProductFilter{Limit: 3, Offset: 2}, []int64{3, 4, 5}, 100},
			{"search name", sqldb.ProductFilter{Search: "usb-c", Sort: "-id", Limit: 2}, []int64{91, 81}, 10},
			{"search wildcard chars literally", sqldb.ProductFilter{Search: "100%", Limit: 1}, []int64{1}, 10},
			{"search underscore", sqldb.ProductFilter{Search: "cupru_9", Limit: 5}, []int64{91}, 1},
			{"search ean", sqldb.ProductFilter{Search: "5940000000042"}, []int64{42}, 1},
			{"search pnk prefix", sqldb.ProductFilter{Search: "pnk7"}, []int64{7, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79}, 11},
			{"search pn prefix", sqldb.ProductFilter{Search: "PN-9"}, []int64{9, 90, 91, 92, 93, 94, 95, 96, 97, 98, 99}, 11},
			{"search is by word start, not substring", sqldb.ProductFilter{Search: "K7"}, nil, 0},
			{"search words in any order", sqldb.ProductFilter{Search: "cupru usb", Limit: 1}, []int64{1}, 10},
			{"search earlier words are whole", sqldb.ProductFilter{Search: "cupr usb"}, nil, 0},
			{"brand", sqldb.ProductFilter{Brand: "Zeta", Limit: 2}, []int64{1, 11}, 10},
			{"price range sorted", sqldb.ProductFilter{MinPrice: &lo, MaxPrice: &hi, Sort: "price"}, []int64{6, 5, 4}, 3},
			{"stock range", sqldb.ProductFilter{MinStock: &two, MaxStock: &five, Limit: 4}, []int64{2, 3, 4, 5}, 8},
			{"account", sqldb.ProductFilter{Account: "fbe"}, nil, 0},
		}
		for _, c := range cases {
			got, total := ids(c.f)
			if !slices.Equal(got, c.want) || total != c.total {
				t.Errorf("%s: ids %v total %d, want %v total %d", c.name, got, total, c.want, c.total)
			}
		}
		if _, err := db.ListProducts(ctx, sqldb.ProductFilter{Sort: "bogus"}); magflow.ErrorCode(err) != magflow.EInvalid {
			t.Errorf("bad sort: %v", err)
		}
		offers, total, err := db.ListOffers(ctx, sqldb.OfferFilter{Sort: "-price", Limit: 2})
		if err != nil || total != 100 || offers[0].ProductID != 1 {
			t.Errorf("ListOffers = %d offers, total %d, %v", len(offers), total, err)
		}
		n := 0
		for p, err := range db.ExportProducts(ctx, "main") {
			if err != nil || len(p.Raw) == 0 {
				t.Fatalf("export: %v", err)
			}
			n++
		}
		if n != 100 {
			t.Errorf("exported %d products", n)
		}
	})
}

func TestOrders(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamOrders)
		when := time.Date(2025, 10, 13, 10, 1, 2, 0, time.UTC)
		orders := []magflow.Order{
			{ID: 3115229985, Type: 3, Status: 1, PaymentMode: "RAMBURS", PaymentModeID: 1, Date: when, Modified: when,
				CustomerName: "Ion Popescu", ShippingTax: magflow.MustDecimal("14.99"), Total: magflow.MustDecimal("82.6446"), Currency: "RON",
				Lines: []magflow.OrderLine{{ID: 87503654, ProductID: 1001, PartNumber: "ABC-1001", Quantity: 1, SalePrice: magflow.MustDecimal("82.6446"), VAT: magflow.MustDecimal("0.21"), Status: 1}},
				Raw:   []byte(`{"id":3115229985}`)},
			{ID: 5, Type: 2, Status: 4, Date: when.Add(-time.Hour), Modified: when, Total: magflow.MustDecimal("1")},
		}
		cursor := sqldb.Checkpoint{NextPage: 2, OrderCursor: when}
		if r, err := db.ApplyOrders(ctx, run.ID, "main", orders, cursor); err != nil || r.Inserted != 2 {
			t.Fatalf("ApplyOrders = %+v, %v", r, err)
		}
		if r, err := db.ApplyOrders(ctx, run.ID, "main", orders, cursor); err != nil || r.Unchanged != 2 {
			t.Fatalf("second ApplyOrders = %+v, %v", r, err)
		}
		orders[0].Status = 2
		orders[0].Lines = append(orders[0].Lines, magflow.OrderLine{ID: 2, Name: "discount", SalePrice: magflow.MustDecimal("-5")})
		if r, err := db.ApplyOrders(ctx, run.ID, "main", orders, cursor); err != nil || r.Updated != 1 || r.Unchanged != 1 {
			t.Fatalf("changed ApplyOrders = %+v, %v", r, err)
		}
		got, err := db.GetOrder(ctx, "main", 3115229985)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != 2 || len(got.Lines) != 2 || got.Total.String() != "82.6446" || !got.Date.Equal(when) || string(got.Raw) != `{"id":3115229985}` {
			t.Fatalf("order = %+v", got)
		}
		st := 4
		list, total, err := db.ListOrders(ctx, sqldb.OrderFilter{Status: &st})
		if err != nil || total != 1 || list[0].ID != 5 {
			t.Fatalf("ListOrders(status 4) = %+v, %d, %v", list, total, err)
		}
		list, _, _ = db.ListOrders(ctx, sqldb.OrderFilter{Since: when.Add(-time.Minute), Search: "popescu"})
		if len(list) != 1 || list[0].ID != 3115229985 {
			t.Fatalf("ListOrders(since, search) = %+v", list)
		}
		var exported []int
		for o, err := range db.ExportOrders(ctx, "") {
			if err != nil {
				t.Fatal(err)
			}
			exported = append(exported, len(o.Lines))
		}
		if !slices.Equal(exported, []int{0, 2}) {
			t.Fatalf("exported line counts %v", exported)
		}
		if err := db.FinishRun(ctx, run.ID, magflow.RunCompleted, magflow.RunCounters{Items: 2}, "", false); err != nil {
			t.Fatal(err)
		}
		_, res := startRun(t, db, "main", magflow.StreamOrders)
		if !res.Checkpoint.OrderCursor.Equal(when) || res.Resumed {
			t.Fatalf("orders resume = %+v, want the cursor %v", res, when)
		}
	})
}

func TestRunsAndProgress(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		run, _ := startRun(t, db, "main", magflow.StreamProducts)
		ps, os := page("main", 1, 10, "1")
		apply(t, db, run.ID, "main", 1, ps, os)
		c := magflow.RunCounters{Page: 1, TotalPages: 3, Items: 10, Inserted: 10, Requests: 2, Retries: 1, Throttled: 1}
		if err := db.UpdateProgress(ctx, run.ID, c, 33.5, 2*time.Second); err != nil {
			t.Fatal(err)
		}
		ps2, err := db.RunningProgress(ctx, "main")
		if err != nil || len(ps2) != 1 {
			t.Fatalf("RunningProgress = %+v, %v", ps2, err)
		}
		if ps2[0].Counters != c || ps2[0].Rate != 33.5 || ps2[0].ETA != 2*time.Second {
			t.Fatalf("progress = %+v", ps2[0])
		}
		c.Duplicates = 4
		if err := db.FinishRun(ctx, run.ID, magflow.RunCompleted, c, "", true); err != nil {
			t.Fatal(err)
		}
		startRun(t, db, "fbe", magflow.StreamOrders)
		runs, total, err := db.ListRuns(ctx, sqldb.RunFilter{Account: "main"})
		if err != nil || total != 1 || !runs[0].Capped || runs[0].Counters.Duplicates != 4 || runs[0].FinishedAt == nil {
			t.Fatalf("ListRuns = %+v, %d, %v", runs, total, err)
		}
		latest, err := db.LatestRuns(ctx, "")
		if err != nil || len(latest) != 2 || latest[0].Account != "fbe" || latest[1].Status != magflow.RunCompleted {
			t.Fatalf("LatestRuns = %+v, %v", latest, err)
		}
		if p, err := db.RunProgress(ctx, run.ID); err != nil || p.Status != magflow.RunCompleted {
			t.Fatalf("RunProgress = %+v, %v", p, err)
		}
	})
}

func TestUsersAndSettings(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		u, err := db.CreateUser(ctx, "ana", "$2a$10$hash", sqldb.RoleOperator)
		if err != nil || u.ID == 0 || u.Role != sqldb.RoleOperator {
			t.Fatalf("CreateUser = %+v, %v", u, err)
		}
		if _, err := db.CreateUser(ctx, "ana", "x", sqldb.RoleViewer); magflow.ErrorCode(err) != magflow.EConflict {
			t.Fatalf("duplicate user: %v", err)
		}
		if _, err := db.CreateUser(ctx, "bob", "x", "root"); magflow.ErrorCode(err) != magflow.EInvalid {
			t.Fatalf("bad role: %v", err)
		}
		if err := db.SetDisabled(ctx, "ana", true); err != nil {
			t.Fatal(err)
		}
		if err := db.SetPassword(ctx, "ana", "$2a$10$new"); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetUserByID(ctx, u.ID)
		if err != nil || !got.Disabled || got.PasswordHash != "$2a$10$new" {
			t.Fatalf("GetUserByID = %+v, %v", got, err)
		}
		if _, err := db.GetUser(ctx, "nobody"); magflow.ErrorCode(err) != magflow.ENotFound {
			t.Fatalf("missing user: %v", err)
		}
		if err := db.SetRole(ctx, "nobody", sqldb.RoleViewer); magflow.ErrorCode(err) != magflow.ENotFound {
			t.Fatalf("role of missing user: %v", err)
		}
		if _, err := db.GetSetting(ctx, "schedule"); magflow.ErrorCode(err) != magflow.ENotFound {
			t.Fatalf("unset setting: %v", err)
		}
		for _, v := range []string{`{"enabled":true}`, `{"enabled":false}`} {
			if err := db.PutSetting(ctx, "schedule", v); err != nil {
				t.Fatal(err)
			}
		}
		if v, err := db.GetSetting(ctx, "schedule"); err != nil || v != `{"enabled":false}` {
			t.Fatalf("GetSetting = %q, %v", v, err)
		}
		if ss, err := db.ListSettings(ctx); err != nil || len(ss) != 1 {
			t.Fatalf("ListSettings = %+v, %v", ss, err)
		}
		if n, err := db.CountUsers(ctx); err != nil || n != 1 {
			t.Fatalf("CountUsers = %d, %v", n, err)
		}
	})
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := sqldbtest.OpenUnmigrated(t, d)
			st, err := db.MigrationStatus(ctx)
			if err != nil || len(st) == 0 || st[0].Applied {
				t.Fatalf("status before = %+v, %v", st, err)
			}
			for _, dir := range []string{"up", "up", "down", "up"} {
				if err := db.Migrate(ctx, dir); err != nil {
					t.Fatalf("migrate %s: %v", dir, err)
				}
			}
			st, err = db.MigrationStatus(ctx)
			if err != nil || !st[len(st)-1].Applied || st[0].Name != "00001_init.sql" {
				t.Fatalf("status after = %+v, %v", st, err)
			}
			if err := db.Migrate(ctx, "sideways"); magflow.ErrorCode(err) != magflow.EInvalid {
				t.Fatalf("bad direction: %v", err)
			}
		})
	}
}

func TestUnavailableDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("closed", func(t *testing.T) {
		t.Parallel()
		sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
			db.Close()
			_, _, err := db.StartRun(ctx, "main", magflow.StreamProducts, "cli")
			if magflow.ErrorCode(err) != magflow.EUnavailable || !strings.Contains(err.Error(), "closed") {
				t.Fatalf("closed database: %v", err)
			}
		})
	})
	t.Run("sqlite read-only", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "ro.db")
		rw, err := sqldb.Open(ctx, path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := rw.Migrate(ctx, "up"); err != nil {
			t.Fatal(err)
		}
		rw.Close()
		ro, err := sqldb.Open(ctx, "file:"+path+"?mode=ro", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ro.Close()
		_, _, err = ro.StartRun(ctx, "main", magflow.StreamProducts, "cli")
		if magflow.ErrorCode(err) != magflow.EUnavailable || !strings.Contains(err.Error(), "read-only") {
			t.Fatalf("read-only database: %v", err)
		}
	})
	t.Run("postgres read-only", func(t *testing.T) {
		t.Parallel()
		u := sqldbtest.URL(t, sqldb.Postgres)
		db, err := sqldb.Open(ctx, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Migrate(ctx, "up"); err != nil {
			t.Fatal(err)
		}
		db.Close()
		db, err = sqldb.Open(ctx, u+"&default_transaction_read_only=on", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		_, _, err = db.StartRun(ctx, "main", magflow.StreamProducts, "cli")
		if magflow.ErrorCode(err) != magflow.EUnavailable || !strings.Contains(err.Error(), "read-only") {
			t.Fatalf("read-only database: %v", err)
		}
	})
	t.Run("unreachable and malformed", func(t *testing.T) {
		t.Parallel()
		for _, u := range []string{"postgres://magflow:s3cretpw@127.0.0.1:1/x?sslmode=disable&connect_timeout=2", "postgres://magflow:s3cretpw@[::1/x", "mysql://u:s3cretpw@h/x"} {
			_, err := sqldb.Open(ctx, u, nil)
			if err == nil {
				t.Fatalf("Open(%s) succeeded", sqldb.Redact(u))
			}
			if strings.Contains(err.Error(), "s3cretpw") || !strings.Contains(err.Error(), "DATABASE_URL") {
				t.Errorf("error leaks the password or does not name DATABASE_URL: %v", err)
			}
		}
		_, err := sqldb.Open(ctx, filepath.Join(t.TempDir(), "missing", "dir", "x.db"), nil)
		if magflow.ErrorCode(err) != magflow.EUnavailable || !strings.Contains(err.Error(), "DATABASE_URL") {
			t.Errorf("unopenable file: %v", err)
		}
		if got := sqldb.Redact("postgres://u:pw@h:5432/d?password=pw2"); strings.Contains(got, "pw@") || strings.Contains(got, "pw2") {
			t.Errorf("Redact = %s", got)
		}
	})
	_ = os.Getenv
}
