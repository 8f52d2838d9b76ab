package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/auth"
	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
)

// TestEndToEnd serves the API with app.Serve on loopback, logs in, starts a
// product sync of both sandbox accounts, follows the event stream (token in
// the query, as EventSource sends it) to completion, downloads the export,
// and checks that no password or secret appears in any answer, log line or
// the export.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, d sqldb.Dialect) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 3, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
			{Name: "main", Products: 420, Orders: 10}, {Name: "fbe", Products: 230, Orders: 10}}})
		if err != nil {
			t.Fatal(err)
		}
		defer sb.Close()
		cfg := &config.Config{Env: config.EnvTesting, JWTSecret: config.Secret(jwtSecret), SyncInterval: time.Hour,
			OrdersSyncInterval: 5 * time.Minute, OrdersBackfill: 24 * time.Hour, HTTPAddr: "127.0.0.1:0"}
		var secrets []string
		for _, a := range sb.Accounts() {
			cfg.Accounts = append(cfg.Accounts, config.Account{Name: a.Name, Platform: magflow.Platforms["emag.ro"], BaseURL: a.BaseURL,
				Username: a.Username, Password: config.Secret(a.Password), OrdersRPS: 100, OtherRPS: 100})
			secrets = append(secrets, a.Password)
		}
		secrets = append(secrets, operatorPassword, jwtSecret)
		logs := &syncBuffer{}
		logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		a, err := app.Assemble(openDB(t, d), app.Options{Config: cfg, Logger: logger})
		if err != nil {
			t.Fatal(err)
		}
		h, _ := auth.HashPassword(operatorPassword, bcrypt.MinCost)
		if _, err := a.DB.CreateUser(ctx, "op", h, sqldb.RoleOperator); err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		served := make(chan error, 1)
		sctx, stop := context.WithCancel(ctx)
		go func() { served <- app.Serve(sctx, a, app.ServeOptions{Listener: ln}) }()
		base := "http://" + ln.Addr().String()

		var bodies strings.Builder
		call := func(method, path, token, body string, hdr ...string) (*http.Response, []byte) {
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			bodies.Write(b)
			return res, b
		}

		res, b := call("POST", "/api/v1/auth/login", "", `{"username":"op","password":"`+operatorPassword+`"}`)
		if res.StatusCode != 200 {
			t.Fatalf("login: %d %s", res.StatusCode, b)
		}
		var tk tokens
		json.Unmarshal(b, &tk)

		res, b = call("POST", "/api/v1/emag/enhanced/sync/all-products", tk.AccessToken, `{"max_pages_per_account":0}`)
		if res.StatusCode != 202 {
			t.Fatalf("start: %d %s", res.StatusCode, b)
		}
		var s started
		json.Unmarshal(b, &s)
		if len(s.Runs) != 2 {
			t.Fatalf("runs started: %s", b)
		}

		// Follow the stream as an EventSource would: token in the query.
		req, _ := http.NewRequest("GET", base+res.Header.Get("Location")+"&access_token="+url.QueryEscape(tk.AccessToken), nil)
		req.Header.Set("Accept", "text/event-stream")
		sres, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var last httpapi.ProgressSnapshot
		events := 0
		sc := bufio.NewScanner(sres.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			bodies.WriteString(line)
			if data, ok := strings.CutPrefix(line, "data: "); ok {
				events++
				json.Unmarshal([]byte(data), &last)
			}
			if line == "event: done" {
				sc.Scan()
				data, _ := strings.CutPrefix(sc.Text(), "data: ")
				json.Unmarshal([]byte(data), &last)
				break
			}
		}
		sres.Body.Close()
		if !last.Done || len(last.Runs) != 2 {
			t.Fatalf("stream ended at %+v after %d events", last, events)
		}
		items := 0
		for _, p := range last.Runs {
			if p.Status != magflow.RunCompleted || p.Percent != 100 {
				t.Errorf("run %+v", p)
			}
			items += p.Items
		}
		if items != 650 {
			t.Errorf("synced %d items, want 650", items)
		}

		// The export holds every product and offer, one per line.
		res, b = call("GET", "/api/v1/emag/enhanced/sync/export?format=ndjson&include_orders=true", tk.AccessToken, "")
		if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export: %d %v", res.StatusCode, res.Header)
		}
		counts := map[string]int{}
		for line := range strings.Lines(string(b)) {
			var rec struct {
				Type string `json:"type"`
			}
			if err := json.Unmarshal([]byte(line), &rec); err != nil {
				t.Fatalf("export line %q: %v", line, err)
			}
			counts[rec.Type]++
		}
		if counts["product"] != 650 || counts["offer"] != 650 {
			t.Errorf("export counts %v", counts)
		}
		res, b = call("GET", "/api/v1/emag/enhanced/sync/export", tk.AccessToken, "")
		var doc struct {
			Products []json.RawMessage `json:"products"`
			Offers   []json.RawMessage `json:"offers"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || len(doc.Products) != 650 || len(doc.Offers) != 650 {
			t.Errorf("JSON export: %v, %d products, %d offers", err, len(doc.Products), len(doc.Offers))
		}
		call("GET", "/api/v1/emag/enhanced/status", tk.AccessToken, "")
		call("GET", "/metrics", tk.AccessToken, "")
		call("POST", "/api/v1/auth/login", "", `{"username":"op","password":"`+operatorPassword+`x"}`)

		stop()
		if err := <-served; err != nil {
			t.Fatalf("serve: %v", err)
		}
		for _, where := range []struct{ name, text string }{{"responses", bodies.String()}, {"logs", logs.String()}} {
			for _, s := range secrets {
				if strings.Contains(where.text, s) {
					t.Errorf("a secret (%d chars) appears in the %s", len(s), where.name)
				}
			}
		}
		if !strings.Contains(logs.String(), "failed login") {
			t.Error("failed login not logged")
		}
	})
}
