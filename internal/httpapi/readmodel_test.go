package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/crypto/bcrypt"

	"github.com/magflow/magflow/internal/auth"
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
)

// listPaths are product list requests of every kind.
var listPaths = []string{
	"/api/v1/emag/enhanced/products/all",
	"/api/v1/emag/enhanced/products/all?view=account",
	"/api/v1/emag/enhanced/products/all?view=account&limit=7&offset=3&sort=-price",
	"/api/v1/emag/enhanced/products/all?sort=name&limit=50",
	"/api/v1/emag/enhanced/products/all?view=account&sort=-updated_at&account=fbe",
	"/api/v1/emag/enhanced/products/all?view=account&sort=last_seen_at&gone=any",
	"/api/v1/emag/enhanced/products/all?view=account&sort=brand&min_stock=1&max_stock=30",
	"/api/v1/emag/enhanced/products/all?min_price=10&max_price=500&sort=-stock",
	"/api/v1/emag/enhanced/products/all?view=account&status=1&sort=part_number",
	"/api/v1/emag/enhanced/products/all?view=account&search=a&limit=100",
	"/api/v1/emag/enhanced/products/all?view=account&search=e&offset=20&sort=-name",
	"/api/v1/emag/enhanced/products/all?search=1",
	"/api/v1/emag/enhanced/products/all?view=account&search=5&sort=-id",
	"/api/v1/emag/enhanced/products/all?offset=100000",
	"/api/v1/emag/enhanced/products/all?view=account&validation_status=9&offer_validation_status=1",
	"/api/v1/emag/enhanced/products/all?category_id=1",
}

// plainServer serves the API over e's database without the read model,
// with tokens of e's secret.
func plainServer(t *testing.T, e *env) *httptest.Server {
	t.Helper()
	iss, err := auth.NewIssuer(auth.IssuerOptions{Secret: []byte(jwtSecret)})
	if err != nil {
		t.Fatal(err)
	}
	api, err := httpapi.New(httpapi.Options{DB: e.db, Engine: e.app.Engine, Issuer: iss, RateLimits: httpapi.RateLimits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(api.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, base, path, tok string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// TestReadModelAnswersAsTheStore: with the model current, every list
// answer is byte for byte the store's (a server without the model), and
// is what huma writes for a ProductListBody; after a write the next
// answer reflects it (the store answers until the model reloads).
func TestReadModelAnswersAsTheStore(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, d sqldb.Dialect) {
		e := setup(t, d, setupOptions{})
		e.seed()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		m := e.api.ReadModel()
		if m == nil {
			t.Fatal("app.NewAPI serves without the read model")
		}
		// Every notification of the seed's commits has arrived: none can
		// make the model stale later.
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if err := m.WaitCurrent(ctx); err != nil {
			t.Fatal(err)
		}
		plain := plainServer(t, e)
		tok := e.login("view", viewerPassword).AccessToken
		compare := func(when string) {
			t.Helper()
			for _, p := range listPaths {
				ws, want := get(t, plain.URL, p, tok)
				gs, got := get(t, e.srv.URL, p, tok)
				if ws != 200 || gs != 200 {
					t.Fatalf("%s: %s: status %d (store %d): %s", when, p, gs, ws, got)
				}
				if d := cmp.Diff(string(want), string(got)); d != "" {
					t.Fatalf("%s: %s: body (-store +model):\n%s", when, p, d)
				}
				var body httpapi.ProductListBody
				if err := json.Unmarshal(got, &body); err != nil {
					t.Fatal(err)
				}
				var re bytes.Buffer
				enc := json.NewEncoder(&re)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(body); err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(re.String(), string(got)); d != "" {
					t.Fatalf("%s: %s: not what huma writes for the struct (-struct +sent):\n%s", when, p, d)
				}
			}
		}
		compare("current")
		if !m.Current(ctx) || m.Loads() == 0 {
			t.Fatal("the model is not serving")
		}
		// A write: the canonical view changes source account.
		if _, err := e.db.RebuildCanonical(ctx, []string{"fbe", "main"}); err != nil {
			t.Fatal(err)
		}
		if err := m.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		compare("after a write")
		if err := m.WaitCurrent(ctx); err != nil {
			t.Fatal(err)
		}
		compare("reloaded")
	})
}

// TestReadModelUserCache: a cached user's disabling, re-enabling and
// password change apply at the next request.
func TestReadModelUserCache(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, d sqldb.Dialect) {
		e := setup(t, d, setupOptions{})
		ctx := context.Background()
		m := e.api.ReadModel()
		tok := e.login("view", viewerPassword).AccessToken
		status := func() int {
			t.Helper()
			if err := m.Sync(ctx); err != nil {
				t.Fatal(err)
			}
			return e.do("GET", "/api/v1/auth/me", tok, nil).status
		}
		for range 2 {
			if s := status(); s != 200 {
				t.Fatalf("status %d", s)
			}
		}
		if err := e.db.SetDisabled(ctx, "view", true); err != nil {
			t.Fatal(err)
		}
		if s := status(); s != 401 {
			t.Fatalf("disabled user: status %d", s)
		}
		if err := e.db.SetDisabled(ctx, "view", false); err != nil {
			t.Fatal(err)
		}
		if s := status(); s != 200 {
			t.Fatalf("re-enabled user: status %d", s)
		}
		h, _ := auth.HashPassword("another-Pa55word!", bcrypt.MinCost)
		if err := e.db.SetPassword(ctx, "view", h); err != nil {
			t.Fatal(err)
		}
		if s := status(); s != 401 {
			t.Fatalf("changed password: status %d", s)
		}
	})
}

// TestProductListSchema: the OpenAPI document still describes the product
// list's body (the handler writes it pre-encoded).
func TestProductListSchema(t *testing.T) {
	t.Parallel()
	e := setup(t, sqldb.SQLite, setupOptions{products: 10})
	op := e.api.OpenAPI().Paths["/api/v1/emag/enhanced/products/all"].Get
	mt := op.Responses["200"].Content["application/json"]
	if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/ProductListBody" {
		t.Fatalf("200 response: %+v", mt)
	}
	s := e.api.OpenAPI().Components.Schemas.Map()["ProductListBody"]
	for _, f := range []string{"items", "total", "limit", "offset", "next_offset", "total_capped"} {
		if s == nil || s.Properties[f] == nil {
			t.Fatalf("ProductListBody lacks %s: %+v", f, s)
		}
	}
}
