package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
)

// TestScenarios drives every endpoint with its success and error answers.
func TestScenarios(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, d sqldb.Dialect) {
		e := setup(t, d, setupOptions{})
		e.seed()
		op := e.login("op", operatorPassword).AccessToken
		view := e.login("view", viewerPassword).AccessToken
		goneTok := e.login("gone", operatorPassword).AccessToken
		if err := e.db.SetDisabled(t.Context(), "gone", true); err != nil {
			t.Fatal(err)
		}

		// Ids that exist.
		var products struct {
			Items []httpapi.ProductItem `json:"items"`
		}
		e.do("GET", "/api/v1/emag/enhanced/products/all?view=account&account=fbe&limit=1", view, nil).json(t, &products)
		if len(products.Items) != 1 {
			t.Fatalf("no fbe product")
		}
		pid := products.Items[0].ID
		var orders struct {
			Items []httpapi.Order `json:"items"`
		}
		e.do("GET", "/api/v1/emag/enhanced/orders/all?limit=1&account=main", view, nil).json(t, &orders)
		if len(orders.Items) != 1 {
			t.Fatalf("no order")
		}
		oid := orders.Items[0].ID
		var runs struct {
			Items []httpapi.Run `json:"items"`
		}
		e.do("GET", "/api/v1/emag/enhanced/sync/runs?limit=1", view, nil).json(t, &runs)
		rid := runs.Items[0].ID

		base := "/api/v1/emag/enhanced"
		cases := []struct {
			name, method, path, token string
			body                      any
			want                      int
			contains                  string
		}{
			// Health, readiness, login.
			{"health", "GET", "/health", "", nil, 200, `"ok"`},
			{"ready", "GET", "/ready", "", nil, 200, `"ready"`},
			{"login bad password", "POST", "/api/v1/auth/login", "", map[string]string{"username": "op", "password": "nope-nope"}, 401, "wrong username or password"},
			{"login unknown user", "POST", "/api/v1/auth/login", "", map[string]string{"username": "who", "password": "nope-nope"}, 401, "wrong username or password"},
			{"login disabled", "POST", "/api/v1/auth/login", "", map[string]string{"username": "gone", "password": operatorPassword}, 401, "disabled"},
			{"login malformed", "POST", "/api/v1/auth/login", "", `{"username": 5}`, 400, "body.username"},
			{"login unknown field", "POST", "/api/v1/auth/login", "", `{"username":"op","password":"x","admin":true}`, 400, "admin"},
			{"refresh garbage", "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": "x.y.z"}, 401, "invalid token"},
			{"refresh with access token", "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": op}, 401, "access token was sent"},
			{"me", "GET", "/api/v1/auth/me", view, nil, 200, `"viewer"`},

			// Authentication everywhere else.
			{"no token", "GET", base + "/products/all", "", nil, 401, "authentication required"},
			{"bad token", "GET", base + "/products/all", "not-a-token", nil, 401, "invalid token"},
			{"disabled user token", "GET", base + "/products/all", goneTok, nil, 401, "disabled"},
			{"metrics no token", "GET", "/metrics", "", nil, 401, "authentication required"},
			{"metrics", "GET", "/metrics", view, nil, 200, "magflow_http_requests_total"},
			{"openapi no token", "GET", "/openapi.json", "", nil, 401, ""},
			{"openapi", "GET", "/openapi.json", view, nil, 200, `"openapi":"3.1.0"`},
			{"docs", "GET", "/docs", "", nil, 200, "swagger-ui-bundle.js"},
			{"docs asset", "GET", "/docs/swagger-ui-bundle.js", "", nil, 200, "SwaggerUI"},
			{"unknown route", "GET", "/api/v1/nope", view, nil, 404, "no route"},

			// Products.
			{"products canonical", "GET", base + "/products/all", view, nil, 200, `"listings"`},
			{"products filters", "GET", base + "/products/all?view=account&account=main&status=1&min_stock=0&max_price=100000&sort=-price&limit=5&offset=1", view, nil, 200, `"total"`},
			{"products search", "GET", base + "/products/all?search=" + products.Items[0].PartNumber, view, nil, 200, products.Items[0].PartNumber},
			{"products unknown param", "GET", base + "/products/all?colour=red", view, nil, 400, "colour"},
			{"products bad limit", "GET", base + "/products/all?limit=5000", view, nil, 400, "query.limit"},
			{"products bad sort", "GET", base + "/products/all?sort=weight", view, nil, 400, "query.sort"},
			{"products bad price", "GET", base + "/products/all?min_price=abc", view, nil, 400, "query.min_price"},
			{"products inverted range", "GET", base + "/products/all?min_stock=9&max_stock=1", view, nil, 400, "swap"},
			{"products unknown account", "GET", base + "/products/all?account=nope", view, nil, 400, "unknown account"},
			{"product", "GET", fmt.Sprintf("%s/products/%d?account=fbe", base, pid), view, nil, 200, `"offers"`},
			{"product any account", "GET", fmt.Sprintf("%s/products/%d", base, pid), view, nil, 200, `"raw"`},
			{"product missing", "GET", base + "/products/999999999?account=main", view, nil, 404, "not found"},
			{"product bad id", "GET", base + "/products/abc", view, nil, 400, "path.id"},

			// Offers and orders.
			{"offers", "GET", base + "/offers/all?account=main&min_price=1&sort=stock", view, nil, 200, `"sale_price"`},
			{"offers bad", "GET", base + "/offers/all?status=9", view, nil, 400, "query.status"},
			{"offers inverted prices", "GET", base + "/offers/all?min_price=10&max_price=9.99", view, nil, 400, "min_price is above max_price"},
			{"offers bad max price", "GET", base + "/offers/all?max_price=-1", view, nil, 400, "query.max_price"},
			{"offers unknown account", "GET", base + "/offers/all?account=nope&min_price=abc", view, nil, 400, "unknown account"},
			{"orders", "GET", base + "/orders/all?status=1&since=2000-01-01T00:00:00Z", view, nil, 200, `"items"`},
			{"orders bad date", "GET", base + "/orders/all?since=yesterday", view, nil, 400, "query.since"},
			{"order", "GET", fmt.Sprintf("%s/orders/%d?account=main", base, oid), view, nil, 200, `"lines"`},
			{"order missing", "GET", base + "/orders/1", view, nil, 404, "not found"},

			// Runs.
			{"runs", "GET", base + "/sync/runs?account=main&stream=products&status=completed", view, nil, 200, `"completed"`},
			{"runs bad status", "GET", base + "/sync/runs?status=done", view, nil, 400, "query.status"},
			{"run", "GET", fmt.Sprintf("%s/sync/runs/%d", base, rid), view, nil, 200, `"holes"`},
			{"run missing", "GET", base + "/sync/runs/99999", view, nil, 404, "not found"},
			{"cancel as viewer", "POST", fmt.Sprintf("%s/sync/runs/%d/cancel", base, rid), view, nil, 403, "operator role"},
			{"cancel finished", "POST", fmt.Sprintf("%s/sync/runs/%d/cancel", base, rid), op, nil, 409, "already finished"},
			{"cancel missing", "POST", base + "/sync/runs/99999/cancel", op, nil, 404, "not found"},

			// Status and schedule.
			{"status", "GET", base + "/status", view, nil, 200, `"freshness_seconds"`},
			{"status one", "GET", base + "/status?account_type=fbe", view, nil, 200, `"fbe"`},
			{"status bad account", "GET", base + "/status?account_type=xyz", view, nil, 400, "query.account_type"},
			{"schedule read", "GET", base + "/sync/scheduled", view, nil, 200, `"source":"config"`},
			{"schedule as viewer", "POST", base + "/sync/scheduled", view, map[string]any{"enabled": true}, 403, "operator"},
			{"schedule bad", "POST", base + "/sync/scheduled", op, map[string]any{"enabled": true, "interval_minutes": 0}, 400, "interval_minutes"},
			{"schedule bad stream", "POST", base + "/sync/scheduled", op, map[string]any{"enabled": true, "streams": []string{"prices"}}, 400, "streams"},
			{"schedule", "POST", base + "/sync/scheduled", op, map[string]any{"enabled": true, "interval_minutes": 30, "streams": []string{"products", "orders"}}, 200, `"source":"stored"`},

			// Sync starts (the lifecycle test covers 202 and 409).
			{"sync as viewer", "POST", base + "/sync/all-products", view, map[string]any{}, 403, "operator role"},
			{"sync bad account", "POST", base + "/sync/all-offers", op, map[string]any{"accounts": []string{"nope"}}, 400, "body.accounts[0]"},
			{"sync bad pages", "POST", base + "/sync/all-products", op, map[string]any{"max_pages_per_account": -1}, 400, "max_pages_per_account"},
			{"sync bad body", "POST", base + "/sync/all-products", op, `{"accounts": "main"}`, 400, "body.accounts"},

			// Progress and export.
			{"progress", "GET", base + "/products/sync-progress", view, nil, 200, `"done":true`},
			{"progress query token", "GET", base + "/products/sync-progress?access_token=" + view, "", nil, 200, `"runs"`},
			{"progress run", "GET", fmt.Sprintf("%s/products/sync-progress?run_ids=%d", base, rid), view, nil, 200, `"percent":100`},
			{"progress bad ids", "GET", base + "/products/sync-progress?run_ids=1,x", view, nil, 400, "query.run_ids"},
			{"progress missing run", "GET", base + "/products/sync-progress?run_ids=99999", view, nil, 404, "99999"},
			{"query token refused elsewhere", "GET", base + "/products/all?access_token=" + view, "", nil, 401, ""},
			{"export csv", "GET", base + "/sync/export?include_products=false&include_offers=false&include_orders=true&format=csv", view, nil, 200, "order_id"},
			{"export csv two tables", "GET", base + "/sync/export?format=csv", view, nil, 400, "query.format"},
			{"export nothing", "GET", base + "/sync/export?include_products=false&include_offers=false", view, nil, 400, "nothing to export"},
			{"export bad format", "GET", base + "/sync/export?format=xml", view, nil, 400, "query.format"},
		}
		for _, c := range cases {
			r := e.do(c.method, c.path, c.token, c.body)
			if r.status != c.want || !strings.Contains(string(r.body), c.contains) {
				t.Errorf("%s: %s %s = %d %.300s; want %d containing %q", c.name, c.method, c.path, r.status, r.body, c.want, c.contains)
				continue
			}
			if r.status >= 400 {
				if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Errorf("%s: error Content-Type %q", c.name, ct)
				}
				if r.status == http.StatusUnauthorized && r.header.Get("WWW-Authenticate") == "" && !strings.Contains(c.path, "login") {
					t.Errorf("%s: 401 without WWW-Authenticate", c.name)
				}
			}
		}
	})
}
