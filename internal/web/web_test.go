package web_test

import (
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/web"
)

func get(t *testing.T, h http.Handler, method, target string, hdr ...string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// TestPage checks the public page: its security headers, and a
// configuration block that carries the version and nothing else (the
// accounts come from the API after the login).
func TestPage(t *testing.T) {
	t.Parallel()
	h := web.Handler(web.Options{Version: `v1.2.3</script><script>alert(1)</script>`})
	res, body := get(t, h, "GET", "/")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET / = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(body, "<script>alert") {
		t.Error("the version broke out of the configuration block")
	}
	m := regexp.MustCompile(`(?s)<script type="application/json" id="magflow-config">(.*?)</script>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no configuration block in %s", body)
	}
	var cfg map[string]any
	if err := json.Unmarshal([]byte(m[1]), &cfg); err != nil {
		t.Fatalf("configuration %s: %v", m[1], err)
	}
	if diff := cmp.Diff(map[string]any{"version": `v1.2.3</script><script>alert(1)</script>`}, cfg); diff != "" {
		t.Errorf("configuration (-want +got):\n%s", diff)
	}
}

func TestAssets(t *testing.T) {
	t.Parallel()
	h := web.Handler(web.Options{})
	res, body := get(t, h, "GET", "/assets/app.js")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/javascript; charset=utf-8" || !strings.Contains(body, "import") {
		t.Fatalf("GET /assets/app.js = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	etag := res.Header.Get("ETag")
	if etag == "" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", res.Header)
	}
	if res, body := get(t, h, "GET", "/assets/app.js", "If-None-Match", etag); res.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("revalidation = %d %q", res.StatusCode, body)
	}
	if res, body := get(t, h, "HEAD", "/assets/style.css"); res.StatusCode != 200 || body != "" || res.Header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("HEAD = %d %q %v", res.StatusCode, body, res.Header)
	}
	for _, c := range []struct{ method, path string }{{"GET", "/assets/nope.js"}, {"GET", "/favicon.ico"}, {"POST", "/"}, {"GET", "/static/index.html"}} {
		res, body := get(t, h, c.method, c.path)
		var p struct {
			Status int    `json:"status"`
			Detail string `json:"detail"`
		}
		if res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/problem+json" || json.Unmarshal([]byte(body), &p) != nil || p.Status != 404 {
			t.Errorf("%s %s = %d %s %s", c.method, c.path, res.StatusCode, res.Header.Get("Content-Type"), body)
		}
	}
}

// TestModules checks the module graph without a browser: every relative
// import names an embedded file, and nothing points outside the origin
// (no CDN, no external font).
func TestModules(t *testing.T) {
	t.Parallel()
	root := os.DirFS("static")
	imports := regexp.MustCompile(`(?m)^(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)"`)
	external := regexp.MustCompile(`(?i)(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}/`)
	files := 0
	err := fs.WalkDir(root, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := fs.ReadFile(root, p)
		if err != nil {
			return err
		}
		text := strings.ReplaceAll(string(b), "http://www.w3.org/2000/svg", "") // an XML namespace, not a fetch
		if loc := external.FindString(text); loc != "" {
			t.Errorf("%s refers to %q: every asset must be embedded", p, loc)
		}
		if path.Ext(p) != ".js" {
			return nil
		}
		for _, m := range imports.FindAllStringSubmatch(string(b), -1) {
			target := path.Join(path.Dir(p), m[1])
			if !strings.HasPrefix(m[1], "./") && !strings.HasPrefix(m[1], "../") {
				t.Errorf("%s imports %q: use a relative path to an embedded module", p, m[1])
			} else if _, err := fs.Stat(root, target); err != nil {
				t.Errorf("%s imports %q, which does not exist", p, m[1])
			}
		}
		return nil
	})
	if err != nil || files < 10 {
		t.Fatalf("walk: %v (%d files)", err, files)
	}
}

// TestMounted serves the dashboard through the API's router, as magflow
// serve does: the page and its assets at / and /assets/, while API routes,
// their 404s, /docs, /openapi.json and /metrics keep their behaviour.
func TestMounted(t *testing.T) {
	t.Parallel()
	cfg := &config.Config{Env: config.EnvTesting, JWTSecret: "mounted-test-secret-0123456789abcdef", SyncInterval: time.Hour,
		OrdersSyncInterval: 5 * time.Minute, Accounts: []config.Account{{Name: "acme", Platform: magflow.Platforms["emag.bg"],
			BaseURL: "http://127.0.0.1:1/api-3", Username: "u", Password: "p", OrdersRPS: 12, OtherRPS: 3}}}
	a, err := app.Assemble(sqldbtest.Open(t, sqldb.SQLite), app.Options{Config: cfg, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	api, err := app.NewAPI(a, app.APIOptions{Version: "t", RateLimits: httpapi.RateLimits{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	h := api.Handler()
	for _, c := range []struct {
		path, status, ctype, contains string
	}{
		{"/", "200", "text/html; charset=utf-8", `{"version":"t"}`},
		{"/assets/style.css", "200", "text/css; charset=utf-8", ":root"},
		{"/assets/pages/overview.js", "200", "text/javascript; charset=utf-8", "overviewPage"},
		{"/assets/missing.js", "404", "application/problem+json", "no page"},
		{"/nowhere", "404", "application/problem+json", "no page"},
		{"/api/v1/nowhere", "404", "application/problem+json", "no route"},
		{"/api/v1/emag/enhanced/products/all", "401", "application/problem+json", "authentication required"},
		{"/openapi.json", "401", "application/problem+json", "authentication required"},
		{"/metrics", "401", "application/problem+json", "authentication required"},
		{"/docs", "200", "text/html; charset=utf-8", "<html"},
		{"/health", "200", "application/json", "ok"},
	} {
		res, body := get(t, h, "GET", c.path)
		if got := strings.Fields(res.Status)[0]; got != c.status || res.Header.Get("Content-Type") != c.ctype || !strings.Contains(body, c.contains) {
			t.Errorf("GET %s = %s %s, want %s %s with %q: %.200s", c.path, got, res.Header.Get("Content-Type"), c.status, c.ctype, c.contains, body)
		}
	}
	// The public page tells nothing of the accounts: not even a name.
	if _, body := get(t, h, "GET", "/"); strings.Contains(body, `"p"`) || strings.Contains(body, "127.0.0.1:1") ||
		strings.Contains(body, "acme") || strings.Contains(body, "emag.bg") || strings.Contains(body, "BGN") {
		t.Errorf("the public page carries something of an account: %s", body)
	}
	if res, body := get(t, h, "GET", "/api/v1/emag/enhanced/accounts"); res.StatusCode != 401 || strings.Contains(body, "acme") {
		t.Errorf("the accounts without a token = %d %s", res.StatusCode, body)
	}
}
