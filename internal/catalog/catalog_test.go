package catalog_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/catalog"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
)

// encode is the tests' item encoding: the whole store item, so that any
// field the model got wrong shows.
func encode(dst []byte, it *sqldb.ProductItem) ([]byte, error) {
	b, err := json.Marshal(it)
	return append(dst, b...), err
}

var (
	names  = []string{"Lampă LED 10W", "Desk lamp", "USB cable 2m", "Phone case", "Laptop stand", "lampadar Ștefan", "ÉCRAN 24\"", "cablu & adaptor"}
	brands = []string{"Acme", "acme", "Brand%", "Zeta", "Ábc"}
)

// product i of account (a few share part numbers across accounts, for the
// canonical view).
func product(account string, i int) (magflow.Product, magflow.Offer, bool) {
	pn := fmt.Sprintf("PN-%04d", i)
	if account == "fbe" && i%3 == 0 {
		pn = fmt.Sprintf("FB-%04d", i) // fbe's own SKUs
	}
	p := magflow.Product{Account: account, ID: int64(i), PartNumber: pn, PartNumberKey: fmt.Sprintf("D%05X", i*7),
		Name: fmt.Sprintf("%s %d", names[i%len(names)], i%13), Brand: brands[i%len(brands)], CategoryID: int64(i%4 + 1),
		EAN: []string{fmt.Sprintf("594%010d", i)}, Status: i % 3, ValidationStatus: 9 - i%2, OfferValidationStatus: 1 + i%2}
	if i%11 == 0 {
		p.EAN = nil
	}
	o := magflow.Offer{Account: account, ProductID: int64(i), PartNumber: pn, OfferID: int64(i), SalePrice: magflow.NewDecimal(int64(i%17) * 12345),
		Currency: "RON", Status: i % 2, GeneralStock: i % 9, Stock: []magflow.WarehouseValue{{WarehouseID: 1, Value: i % 9}}}
	return p, o, i%7 != 0
}

// scan writes one complete scan of account's products ids in pages of 50,
// marking what it did not see gone.
func scan(t testing.TB, db *sqldb.DB, account string, ids []int, edit func(*magflow.Product, *magflow.Offer)) {
	t.Helper()
	ctx := context.Background()
	run, _, err := db.StartRun(ctx, account, magflow.StreamProducts, "test")
	if err != nil {
		t.Fatal(err)
	}
	for pg := 0; pg*50 < len(ids); pg++ {
		var ps []magflow.Product
		var os []magflow.Offer
		for _, i := range ids[pg*50 : min(len(ids), pg*50+50)] {
			p, o, has := product(account, i)
			if edit != nil {
				edit(&p, &o)
			}
			ps = append(ps, p)
			if has {
				os = append(os, o)
			}
		}
		if _, err := db.ApplyProductPage(ctx, run.ID, account, pg+1, ps, os, sqldb.Checkpoint{NextPage: pg + 2}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.MarkGone(ctx, account, run.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.FinishRun(ctx, run.ID, magflow.RunCompleted, magflow.RunCounters{}, "", false); err != nil {
		t.Fatal(err)
	}
}

func ids(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// seed writes main (300 products, then a scan without the last 30: gone)
// and fbe (200 products), and the canonical view.
func seed(t testing.TB, db *sqldb.DB) {
	t.Helper()
	scan(t, db, "main", ids(1, 300), nil)
	scan(t, db, "main", ids(1, 270), nil)
	scan(t, db, "fbe", ids(100, 299), nil)
	if _, err := db.RebuildCanonical(context.Background(), []string{"main", "fbe"}); err != nil {
		t.Fatal(err)
	}
}

func newModel(t testing.TB, db *sqldb.DB) *catalog.Model {
	t.Helper()
	m, err := catalog.New(db, catalog.Options{Encode: encode, Quiet: time.Millisecond, MaxDelay: 50 * time.Millisecond, Poll: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	if err := m.WaitCurrent(ctx); err != nil {
		t.Fatal(err)
	}
	return m
}

func ptr[T any](v T) *T { return &v }

// storePage is the store's answer to f, encoded as the model encodes.
func storePage(t testing.TB, db *sqldb.DB, f sqldb.ProductFilter) ([]string, sqldb.ProductPage) {
	t.Helper()
	page, err := db.ListProducts(context.Background(), f)
	if err != nil {
		t.Fatalf("%+v: %v", f, err)
	}
	out := []string{}
	for i := range page.Items {
		b, _ := encode(nil, &page.Items[i])
		out = append(out, string(b))
	}
	return out, page
}

func modelPage(t testing.TB, m *catalog.Model, f sqldb.ProductFilter) ([]string, int) {
	t.Helper()
	p, ok := m.List(context.Background(), f)
	if !ok {
		t.Fatalf("%+v: the model did not answer", f)
	}
	out := []string{}
	for _, it := range p.Items {
		out = append(out, string(it))
	}
	return out, p.Total
}

// corpus is the equivalence corpus: every sort both ways, searches of
// every kind, each filter, both views, a few offsets.
func corpus() []sqldb.ProductFilter {
	searches := []string{"", "lamp", "lampa le", "LAMPĂ", "led 10", "desk lamp", "pn-00", "PN-0012", "pn-0012 ", "d00", "D0002A",
		"594", "5940000000123", "acme", "brand%", "abc", "zzz", "cable 2m", "1", "ecran 24", "fb-", "ștefan", "%"}
	var out []sqldb.ProductFilter
	for _, canon := range []bool{false, true} {
		for _, s := range searches {
			for _, sort := range sqldb.ProductSorts {
				for _, dir := range []string{"", "-"} {
					out = append(out, sqldb.ProductFilter{Canonical: canon, Search: s, Sort: dir + sort, Limit: 25, Offset: len(s) % 3 * 10})
				}
			}
		}
		filters := []sqldb.ProductFilter{
			{Account: "main"}, {Account: "fbe"}, {Account: "nope"}, {Status: ptr(1)}, {ValidationStatus: ptr(9)},
			{OfferValidationStatus: ptr(2)}, {MinStock: ptr(3)}, {MaxStock: ptr(2)}, {MinStock: ptr(2), MaxStock: ptr(5)},
			{MinPrice: ptr(magflow.NewDecimal(50000))}, {MaxPrice: ptr(magflow.NewDecimal(37035))}, {Brand: "Acme"}, {Brand: "acme"},
			{CategoryID: 2}, {Gone: sqldb.GoneOnly}, {Gone: sqldb.GoneAny}, {Gone: sqldb.GoneAny, Account: "main", Sort: "-last_seen_at"},
			{Status: ptr(0), MinPrice: ptr(magflow.NewDecimal(0)), Sort: "-price"}, {Limit: 1000}, {Offset: 10000}, {Limit: 7, Offset: 3, Sort: "stock"},
		}
		for _, f := range filters {
			for _, s := range []string{"", "lamp", "pn-01", "acme"} {
				f := f
				f.Canonical, f.Search = canon, s
				if f.Limit == 0 {
					f.Limit = 30
				}
				out = append(out, f)
			}
		}
	}
	return out
}

// TestEquivalence: for every request of the corpus the model's page and
// total are the store's.
func TestEquivalence(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		seed(t, db)
		m := newModel(t, db)
		nonEmpty := 0
		for _, f := range corpus() {
			want, page := storePage(t, db, f)
			got, total := modelPage(t, m, f)
			if d := cmp.Diff(want, got); d != "" {
				t.Fatalf("%+v: page (-store +model):\n%s", f, d)
			}
			if page.TotalCapped && total < page.Total || !page.TotalCapped && total != page.Total {
				t.Fatalf("%+v: total %d, the store's %d (capped %v)", f, total, page.Total, page.TotalCapped)
			}
			if len(got) > 0 {
				nonEmpty++
			}
		}
		if nonEmpty < 300 {
			t.Fatalf("only %d non-empty pages: the corpus tests little", nonEmpty)
		}
	})
}

// reopen returns a second handle on db's database: another process's
// writes, as far as the model can tell.
func reopen(t testing.TB, url string) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestFreshness: a write through another handle (a page write, an offer
// change alone, an offer PATCH applied through the outbox, a complete scan
// marking products gone, a canonical rebuild) makes the model stale at
// once, and it reloads in the background.
func TestFreshness(t *testing.T) {
	t.Parallel()
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			url := sqldbtest.URL(t, d)
			db := reopen(t, url)
			if err := db.Migrate(context.Background(), "up"); err != nil {
				t.Fatal(err)
			}
			seed(t, db)
			other := reopen(t, url)
			m := newModel(t, db)
			ctx := context.Background()
			steps := []struct {
				name  string
				write func()
				f     sqldb.ProductFilter
			}{
				{"page write", func() {
					scan(t, other, "main", ids(1, 270), func(p *magflow.Product, o *magflow.Offer) {
						if p.ID == 5 {
							p.Name = "Renamed zebra"
						}
					})
				}, sqldb.ProductFilter{Search: "zebra"}},
				{"offer only", func() {
					scan(t, other, "main", ids(1, 270), func(p *magflow.Product, o *magflow.Offer) {
						if p.Name == "Renamed zebra" || p.ID == 5 {
							p.Name = "Renamed zebra"
							o.SalePrice = magflow.NewDecimal(99999999)
						}
					})
				}, sqldb.ProductFilter{Sort: "-price", Limit: 1}},
				{"offer PATCH applied", func() {
					// An offer change through the outbox, as the API's PATCH
					// and the drainer make it, applied by eMAG.
					stock := 777
					ids, err := other.EnqueueOfferChanges(ctx, []sqldb.OfferChange{{Account: "main", ProductID: 6, OfferFields: sqldb.OfferFields{Stock: &stock}}}, nil)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := other.MarkSending(ctx, ids, "offer/save"); err != nil {
						t.Fatal(err)
					}
					applied := sqldb.OfferFields{Stock: &stock}
					if err := other.SettleOutbox(ctx, []sqldb.OutboxOutcome{{ID: ids[0], State: sqldb.OutboxApplied, Applied: &applied, Account: "main", TargetID: 6}}); err != nil {
						t.Fatal(err)
					}
				}, sqldb.ProductFilter{MinStock: ptr(777)}},
				{"gone", func() { scan(t, other, "main", ids(1, 200), nil) }, sqldb.ProductFilter{Gone: sqldb.GoneOnly}},
				{"canonical", func() {
					if _, err := other.RebuildCanonical(ctx, []string{"fbe", "main"}); err != nil {
						t.Fatal(err)
					}
				}, sqldb.ProductFilter{Canonical: true, Account: "fbe"}},
			}
			for _, s := range steps {
				before := m.Loads()
				s.write()
				if err := m.Sync(ctx); err != nil {
					t.Fatal(err)
				}
				if _, ok := m.List(ctx, s.f); ok && m.Loads() == before {
					t.Fatalf("%s: the model answered from the snapshot before the write", s.name)
				}
				if err := m.WaitCurrent(ctx); err != nil {
					t.Fatal(err)
				}
				want, page := storePage(t, db, s.f)
				got, total := modelPage(t, m, s.f)
				if d := cmp.Diff(want, got); d != "" || total != page.Total {
					t.Fatalf("%s: after the reload, total %d (store %d), page (-store +model):\n%s", s.name, total, page.Total, d)
				}
				if len(got) == 0 {
					t.Fatalf("%s: the check page is empty", s.name)
				}
			}
		})
	}
}

// TestUsersVersion: a user changed through another handle moves the
// users' version.
func TestUsersVersion(t *testing.T) {
	t.Parallel()
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			url := sqldbtest.URL(t, d)
			db := reopen(t, url)
			if err := db.Migrate(context.Background(), "up"); err != nil {
				t.Fatal(err)
			}
			other := reopen(t, url)
			m := newModel(t, db)
			ctx := context.Background()
			u, err := other.CreateUser(ctx, "ana", "hash", sqldb.RoleViewer)
			if err != nil {
				t.Fatal(err)
			}
			if err := m.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			v1, ok := m.UsersVersion(ctx)
			if !ok {
				t.Fatal("no users version")
			}
			if err := other.SetDisabled(ctx, u.Username, true); err != nil {
				t.Fatal(err)
			}
			if err := m.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			if v2, _ := m.UsersVersion(ctx); v2 == v1 {
				t.Fatal("disabling a user did not move the users' version")
			}
			if !m.Current(ctx) {
				t.Fatal("a user change made the product model stale")
			}
		})
	}
}

// TestFallback: a model not started, or stale, does not answer; one not
// loaded yet neither.
func TestFallback(t *testing.T) {
	t.Parallel()
	sqldbtest.Run(t, func(t *testing.T, db *sqldb.DB) {
		ctx := context.Background()
		m, err := catalog.New(db, catalog.Options{Encode: encode, Quiet: time.Hour, MaxDelay: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.List(ctx, sqldb.ProductFilter{}); ok || m.Current(ctx) {
			t.Fatal("a model never loaded answered")
		}
		if err := m.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		// With an hour of quiet required, only Refresh loads it.
		for !m.Current(ctx) {
			if err := m.Refresh(ctx); err != nil && db.Dialect() == sqldb.SQLite {
				t.Fatal(err)
			}
			if err := m.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if _, ok := m.List(ctx, sqldb.ProductFilter{}); !ok {
			t.Fatal("a current model did not answer")
		}
		if _, ok := m.List(ctx, sqldb.ProductFilter{Sort: "nope"}); ok {
			t.Fatal("the model answered an unknown sort (the store reports it)")
		}
		if _, ok := m.List(ctx, sqldb.ProductFilter{Extras: true}); ok {
			t.Fatal("the model answered a request for extras")
		}
		scan(t, db, "main", ids(1, 10), nil)
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := m.List(ctx, sqldb.ProductFilter{}); ok {
			t.Fatal("a stale model answered")
		}
	})
}

// TestListenerLoss (PostgreSQL): when the LISTEN connection dies the model
// stops answering until it listens again and has reloaded.
func TestListenerLoss(t *testing.T) {
	t.Parallel()
	db := sqldbtest.Open(t, sqldb.Postgres)
	seed(t, db)
	m := newModel(t, db)
	ctx := context.Background()
	before, pid := m.Loads(), m.ListenerPID()
	if _, err := db.WriteDB().ExecContext(ctx, "SELECT pg_terminate_backend($1)", int64(pid)); err != nil {
		t.Fatal(err)
	}
	// Round trips until a new connection listens (about a second).
	for m.ListenerPID() == pid {
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.WaitCurrent(ctx); err != nil {
		t.Fatal(err)
	}
	if m.Loads() == before {
		t.Fatal("the model answered again without reloading after losing its notifications")
	}
	if _, ok := m.List(ctx, sqldb.ProductFilter{}); !ok {
		t.Fatal("the model does not answer after reconnecting")
	}
}
