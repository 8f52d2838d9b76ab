package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/magflow/magflow/internal/sqldb"
)

// FuzzListQuery throws malformed query strings at the list and progress
// endpoints: every answer is below 500, and errors are problem JSON.
func FuzzListQuery(f *testing.F) {
	e := setup(f, sqldb.SQLite, setupOptions{products: 30, orders: 5})
	e.seed()
	tok := e.login("view", viewerPassword).AccessToken
	for _, s := range []string{
		"", "limit=1", "limit=-1", "limit=1e9", "offset=-5", "search=%25", "search=%00", "search=' OR 1=1 --", "sort=-", "sort=--name",
		"min_price=1e5", "min_price=NaN", "max_price=-0.00001", "status=", "status=1&status=2", "category_id=99999999999999999999",
		"view=account&account=main", "gone=any", "since=2020-13-45", "run_ids=,,", "run_ids=1,2", "%zz", "a=b&&&=", "search=" + strings.Repeat("é", 300),
		"min_stock=5&max_stock=4", "type=9", "stream=orders&status=partial", "account=MAIN", "brand=%C0%80",
	} {
		for path := range 5 {
			f.Add(path, s)
		}
	}
	paths := []string{"/products/all", "/offers/all", "/orders/all", "/sync/runs", "/products/sync-progress"}
	f.Fuzz(func(t *testing.T, which int, query string) {
		path := "/api/v1/emag/enhanced" + paths[(which%len(paths)+len(paths))%len(paths)]
		if strings.ContainsFunc(query, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) {
			return // not a request line a client could send
		}
		req, err := http.NewRequest("GET", e.srv.URL+path+"?"+query, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		decErr := json.NewDecoder(res.Body).Decode(&body)
		if res.StatusCode >= 500 {
			t.Fatalf("GET %s?%s = %d %v", path, query, res.StatusCode, body)
		}
		if decErr != nil {
			t.Fatalf("GET %s?%s: body is not JSON: %v", path, query, decErr)
		}
		if res.StatusCode >= 400 && (res.Header.Get("Content-Type") != "application/problem+json" || body["detail"] == nil) {
			t.Fatalf("GET %s?%s = %d without a problem document: %v", path, query, res.StatusCode, body)
		}
	})
}

// FuzzSyncBody throws malformed bodies at the sync and schedule endpoints.
func FuzzSyncBody(f *testing.F) {
	e := setup(f, sqldb.SQLite, setupOptions{products: 20, orders: 2})
	tok := e.login("op", operatorPassword).AccessToken
	for _, s := range []string{
		``, `{}`, `null`, `[]`, `{"accounts":["main"]}`, `{"accounts":[""]}`, `{"accounts":"main"}`, `{"accounts":[null]}`,
		`{"max_pages_per_account":1}`, `{"max_pages_per_account":-1}`, `{"max_pages_per_account":1.5}`, `{"max_pages_per_account":"1"}`,
		`{"delay_between_requests":1e308}`, `{"delay_between_requests":-1}`, `{"include_inactive":"yes"}`, `{"accounts":["main","main","fbe"]}`,
		`{"enabled":true,"interval_minutes":1}`, `{"enabled":1}`, `{"streams":["orders","orders"]}`, `{"streams":[]}`, `{`, `{"a":` + strings.Repeat("[", 500),
		`{"accounts":["` + strings.Repeat("x", 5000) + `"]}`, "\x00\xff", `{"max_pages_per_account":0,"unknown":1}`,
	} {
		for p := range 3 {
			f.Add(p, s)
		}
	}
	paths := []string{"/sync/all-products", "/sync/all-offers", "/sync/scheduled"}
	f.Fuzz(func(t *testing.T, which int, body string) {
		path := "/api/v1/emag/enhanced" + paths[(which%len(paths)+len(paths))%len(paths)]
		req, _ := http.NewRequest("POST", e.srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		decErr := json.NewDecoder(res.Body).Decode(&out)
		if res.StatusCode >= 500 || decErr != nil {
			t.Fatalf("POST %s %q = %d %v (%v)", path, body, res.StatusCode, out, decErr)
		}
	})
}
