package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"golang.org/x/crypto/bcrypt"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/auth"
	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
)

// The browser tests drive Debian's Chromium. Without it they skip, unless
// MAGFLOW_REQUIRE_BROWSER=1 (CI) turns the skip into a failure.
const (
	chromiumPath      = "/usr/bin/chromium"
	envRequireBrowser = "MAGFLOW_REQUIRE_BROWSER"
	// envScreenshots names a directory to keep the screenshots in: the
	// docs' images. Then the catalogue is larger, so that a screenshot
	// catches the syncs running.
	envScreenshots   = "MAGFLOW_SCREENSHOTS"
	operatorPassword = "op-Dashboard-Pa55!"
	viewerPassword   = "viewer-Dashboard-Pa55!"
	ordersPerAccount = 12
)

// fmtThousands formats n as the page does (en-GB): 2,400.
func fmtThousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv(envRequireBrowser) == "1" {
			t.Fatalf("%s=1 but %s is missing: apt-get install chromium", envRequireBrowser, chromiumPath)
		}
		t.Skipf("%s is missing: install Debian's chromium package (apt-get install chromium) to run the browser tests", chromiumPath)
	}
}

// server is `magflow serve` in-process over a sandbox and a fresh database.
type server struct {
	base        string
	db          *sqldb.DB
	main, fbe   int // products per account
	docsScreens bool
}

// serve starts the sandbox (no rate limit; the client keeps eMAG's real
// 3 requests per second for the catalogue), a migrated database of dialect
// d with an operator and a viewer and some orders already synced, and
// app.Serve on a loopback listener, stopped when t ends.
func serve(t *testing.T, d sqldb.Dialect) *server {
	t.Helper()
	mainProducts, fbeProducts := 300, 150
	docs := os.Getenv(envScreenshots) != ""
	if docs {
		mainProducts, fbeProducts = 2400, 1200
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 11, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
		{Name: "main", Products: mainProducts, Orders: ordersPerAccount}, {Name: "fbe", Products: fbeProducts, Orders: ordersPerAccount}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfg := &config.Config{Env: config.EnvTesting, JWTSecret: "dashboard-test-secret-0123456789abcdef", SyncInterval: time.Hour,
		OrdersSyncInterval: 5 * time.Minute, OrdersBackfill: 90 * 24 * time.Hour}
	for _, a := range sb.Accounts() {
		cfg.Accounts = append(cfg.Accounts, config.Account{Name: a.Name, Platform: magflow.Platforms["emag.ro"], BaseURL: a.BaseURL,
			Username: a.Username, Password: config.Secret(a.Password), OrdersRPS: magflow.OrdersRPS, OtherRPS: magflow.OtherRPS})
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	db := sqldbtest.Open(t, d)
	a, err := app.Assemble(db, app.Options{Config: cfg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct{ name, password, role string }{
		{"op", operatorPassword, sqldb.RoleOperator}, {"viewer", viewerPassword, sqldb.RoleViewer},
	} {
		h, err := auth.HashPassword(u.password, bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreateUser(ctx, u.name, h, u.role); err != nil {
			t.Fatal(err)
		}
	}
	// Orders come from the scheduler or the CLI, not from an API start: sync
	// them the way `magflow sync --mode orders` does. For the docs'
	// screenshots the catalogue is synced once before too, so that the page
	// shows figures and history while the dashboard's sync runs.
	mode := syncer.ModeOrders
	if docs {
		mode = syncer.ModeAll
	}
	rep, err := a.Engine.Sync(ctx, syncer.Request{Mode: mode, Trigger: "cli"})
	if err != nil || rep.Status() != magflow.RunCompleted {
		t.Fatalf("orders sync: %v %v", rep.Status(), err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() {
		served <- app.Serve(sctx, a, app.ServeOptions{Listener: ln, ShutdownTimeout: 5 * time.Second,
			APIOptions: app.APIOptions{Version: "test", RateLimits: httpapi.RateLimits{Disabled: true}}})
	}()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return &server{base: "http://" + ln.Addr().String(), db: db, main: mainProducts, fbe: fbeProducts, docsScreens: docs}
}

// chrome is one headless Chromium with a fresh profile, recording every
// console error and uncaught exception of its tab.
type chrome struct {
	t       *testing.T
	ctx     context.Context
	dir     string // screenshots
	dlDir   string // downloads
	mu      sync.Mutex
	console []string
}

func newBrowser(t *testing.T, shots string) *chrome {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-features", "Translate,MediaRouter,OptimizationHints"),
		chromedp.Flag("password-store", "basic"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &chrome{t: t, ctx: ctx, dir: shots, dlDir: t.TempDir()}
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // start the browser without a deadline
		t.Fatalf("start chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.console = append(b.console, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
	_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: b.dlDir, EventsEnabled: new(true)})
	if err != nil {
		t.Fatalf("allow downloads: %v", err)
	}
	return b
}

// do runs steps under the test's deadline, failing with what it was doing.
func (b *chrome) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v (console errors: %v)", what, err, b.errors())
	}
}

// eval evaluates a JavaScript expression.
func eval[T any](b *chrome, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it holds.
func (b *chrome) waitFor(what, predicate string, timeout time.Duration) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(timeout), chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.t.Fatalf("wait for %s: %v (console errors: %v)", what, err, b.errors())
	}
}

func (b *chrome) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// shot saves a screenshot of the viewport as name.png.
func (b *chrome) shot(name string) {
	b.t.Helper()
	// Hide the passing notice, and let the last frame paint (the progress
	// bars' transitions).
	eval[chromedp.Void](b, `document.getElementById("toast").className = "toast";
	  new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(r, 350))))`)
	buf, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// accessible checks the page for the basics a keyboard and screen-reader
// user needs: labelled controls, named buttons, links with targets, images
// with alternatives, and nothing clickable that is not a button or a link.
func (b *chrome) accessible(page string) {
	b.t.Helper()
	bad := eval[[]string](b, `(() => {
	  const bad = [];
	  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea"))
	    if (!el.labels || !el.labels.length) bad.push("unlabelled " + el.outerHTML.slice(0, 80));
	  for (const el of document.querySelectorAll("button"))
	    if (!el.textContent.trim() && !el.getAttribute("aria-label")) bad.push("unnamed button");
	  for (const el of document.querySelectorAll("a:not([href])")) bad.push("link without href: " + el.textContent);
	  for (const el of document.querySelectorAll("img:not([alt])")) bad.push("image without alt");
	  for (const el of document.querySelectorAll("[onclick], div[tabindex], span[tabindex]")) bad.push("clickable " + el.tagName);
	  if (!document.querySelector("h1")) bad.push("no h1");
	  return bad;
	})()`)
	if len(bad) > 0 {
		b.t.Errorf("%s page: %v", page, bad)
	}
}

// fits checks that the page needs no horizontal scrolling at width px,
// naming the elements that stick out.
func (b *chrome) fits(page string, width int) {
	b.t.Helper()
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > width {
		wide := eval[[]string](b, fmt.Sprintf(`[...document.querySelectorAll("body *")].filter((e) => e.getBoundingClientRect().right > %d)
		  .slice(0, 8).map((e) => e.tagName + "." + e.className + " " + Math.round(e.getBoundingClientRect().right))`, width))
		b.t.Errorf("the %s page is %dpx wide on a %dpx screen: %v", page, w, width, wide)
	}
}

// login types the credentials with the keyboard only, as a keyboard user
// would: type, Tab, type, Enter.
func (b *chrome) login(user, password string) {
	b.t.Helper()
	b.do("log in as "+user,
		chromedp.WaitVisible(chromedp.ID("login-username")),
		chromedp.Focus(chromedp.ID("login-username")),
		chromedp.KeyEvent(user),
		chromedp.KeyEvent("\t"),
	)
	if got := eval[string](b, `document.activeElement.id`); got != "login-password" {
		b.t.Fatalf("Tab from the username went to %q, not the password", got)
	}
	if style := eval[string](b, `getComputedStyle(document.activeElement).outlineStyle`); style == "none" {
		b.t.Errorf("the focused password field shows no focus outline")
	}
	b.do("submit the login", chromedp.KeyEvent(password+"\r"))
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	requireChromium(t)
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			dashboard(t, d)
		})
	}
}

// dashboard is the whole journey: log in, start a sandbox sync and watch it
// reach 100% over server-sent events, browse and search products and open
// one, open an order, the other pages, download an export, save the
// schedule, log out; then a viewer, who sees no sync button.
func dashboard(t *testing.T, d sqldb.Dialect) {
	srv := serve(t, d)
	shots := os.Getenv(envScreenshots)
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", shots)
	b := newBrowser(t, shots)
	b.do("open the dashboard", chromedp.EmulateViewport(1280, 800), chromedp.Navigate(srv.base+"/"), chromedp.WaitVisible(chromedp.ID("login-username")))
	b.accessible("login")
	b.shot("01-login")
	// Before a login nothing tells of the accounts: not the page as served,
	// nor the page the browser built from it.
	res, err := http.Get(srv.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	served, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	for name, html := range map[string]string{"served": string(served), "rendered": eval[string](b, `document.documentElement.outerHTML`)} {
		// "main" is also the page's landmark id, so that name is looked for as a value.
		for _, leak := range []string{"fbe", `:"main"`, `"name"`, "emag.ro", "RON", "data-account", "orders_rps"} {
			if strings.Contains(html, leak) {
				t.Errorf("the %s login page contains %q: %s", name, leak, html)
			}
		}
	}
	if got := eval[string](b, `document.getElementById("magflow-config").textContent + " " + document.getElementById("foot").textContent`); got != `{"version":"test"} MagFlow test` {
		t.Errorf("the page's configuration and footer: %q", got)
	}

	b.login("op", operatorPassword)
	b.waitFor("the account cards", `document.querySelectorAll("article.card.account").length === 2`, 10*time.Second)
	if got := eval[string](b, `document.getElementById("who").textContent`); got != "op · operator" {
		t.Errorf("header shows %q", got)
	}
	if got := eval[string](b, `document.querySelector('article[data-account="main"] .platform').textContent`); got != "emag.ro · RON" {
		t.Errorf("main's platform shows %q", got)
	}
	b.accessible("overview")

	// Start a product sync of both accounts and follow it to the end.
	b.do("start a sync", chromedp.Click(chromedp.ID("sync-all-products")))
	b.waitFor("live progress rows", `document.querySelectorAll('.live-row[data-stream="products"]').length === 2`, 10*time.Second)
	if srv.docsScreens {
		b.waitFor("a sync half way", `[...document.querySelectorAll("[role=progressbar]")].some((e) => +e.getAttribute("aria-valuenow") > 40) &&
		  [...document.querySelectorAll("[role=progressbar]")].every((e) => +e.getAttribute("aria-valuenow") < 90) &&
		  document.querySelectorAll(".live-row svg.chart.rate polyline").length === 2`, 30*time.Second)
		b.shot("02-overview-running")
	}
	b.waitFor("both runs at 100%", `document.querySelectorAll('.live-row[data-stream="products"][data-status="completed"] [role=progressbar][aria-valuenow="100"]').length === 2`, 30*time.Second)
	b.waitFor("the counts after the sync", fmt.Sprintf(`document.querySelector('article[data-account="main"] .counts dd a')?.textContent === %q`, fmtThousands(srv.main)), 10*time.Second)
	if eval[int](b, `document.querySelectorAll(".live-row svg.chart.rate").length`) == 0 {
		t.Error("no request-rate chart in the live progress")
	}
	if eval[int](b, `document.querySelectorAll("section.panel svg.chart rect").length`) < 3 {
		t.Error("no bars in the chart of the last runs")
	}
	b.shot("02-overview-done")

	// Products: the canonical list, a search by part number, one product.
	page, err := srv.db.ListProducts(b.ctx, sqldb.ProductFilter{Canonical: true, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var shared sqldb.ProductItem
	for _, it := range page.Items {
		if len(it.Listings) > 1 {
			shared = it
			break
		}
	}
	if shared.Product.PartNumber == "" {
		t.Fatal("the sandbox has no SKU listed by both accounts")
	}
	b.do("open the products", chromedp.Click(chromedp.CSS(`nav a[href="#/products"]`)))
	b.waitFor("product rows", `document.querySelectorAll("a.product-link").length === 50`, 10*time.Second)
	b.accessible("products")
	b.do("filter the products",
		chromedp.SetValue(chromedp.CSS(`select[name="account"]`), "main"),
		chromedp.SetValue(chromedp.CSS(`select[name="sort"]`), "name"),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)))
	b.waitFor("main's products by name", `location.hash.includes("account=main") && location.hash.includes("sort=name") &&
	  document.querySelectorAll("a.product-link").length === 50 && document.querySelectorAll("ul.listings li").length > 0`, 10*time.Second)
	if got := eval[[]string](b, `[...document.querySelectorAll("tbody td[data-label=Source]")].map((td) => td.textContent)`); len(got) != 50 || slices.ContainsFunc(got, func(s string) bool { return s != "main" }) {
		t.Errorf("source badges with the main filter: %v", got)
	}
	b.shot("03-products")
	b.do("search a part number",
		chromedp.SetValue(chromedp.ID("product-search"), shared.Product.PartNumber),
		chromedp.Focus(chromedp.ID("product-search")),
		chromedp.KeyEvent("\r"))
	b.waitFor("the search result", fmt.Sprintf(`(() => { const a = document.querySelectorAll("a.product-link");
	  return location.hash.includes("search=") && a.length >= 1 && a[0].closest("tr").textContent.includes(%q) &&
	    a[0].closest("tr").querySelectorAll("ul.listings li").length >= 1; })()`, shared.Product.PartNumber), 10*time.Second)
	b.shot("04-products-search")
	b.do("open the product", chromedp.Click(chromedp.CSS("a.product-link")))
	b.waitFor("the product's offers", `document.getElementById("offers-title") !== null`, 10*time.Second)
	if n := eval[int](b, `document.querySelectorAll("#offers-title ~ * tbody tr").length`); n < 2 {
		t.Errorf("the product shows %d offers, want one per account listing it", n)
	}
	if got := eval[string](b, `document.querySelector("h1").textContent`); got != shared.Product.Name {
		t.Errorf("product page title %q, want %q", got, shared.Product.Name)
	}
	b.accessible("product")
	b.shot("05-product")

	b.do("open the offers", chromedp.Click(chromedp.CSS(`nav a[href="#/offers"]`)))
	b.waitFor("offer rows", `document.querySelectorAll("main tbody tr").length === 50`, 10*time.Second)
	b.accessible("offers")
	b.shot("06-offers")

	// Orders: the list, filtered by status, and one order.
	b.do("open the orders", chromedp.Click(chromedp.CSS(`nav a[href="#/orders"]`)))
	b.waitFor("order rows", `document.querySelectorAll("a.order-link").length > 0`, 10*time.Second)
	b.accessible("orders")
	b.shot("07-orders")
	b.do("open an order", chromedp.Click(chromedp.CSS("a.order-link")))
	b.waitFor("the order's lines", `document.querySelectorAll("#order-lines ~ * tbody tr").length > 0`, 10*time.Second)
	if got := eval[string](b, `document.querySelector(".customer dd").textContent`); got == "" || got == "–" {
		t.Errorf("the order shows no customer name")
	}
	b.accessible("order")
	b.shot("08-order")

	// Sync history and one run.
	b.do("open the history", chromedp.Click(chromedp.CSS(`nav a[href="#/runs"]`)))
	b.waitFor("run rows", `document.querySelectorAll("a.run-link").length >= 4`, 10*time.Second)
	b.accessible("history")
	b.shot("09-history")
	b.do("open a run", chromedp.Click(chromedp.CSS("a.run-link")))
	b.waitFor("the run's details", `document.getElementById("holes-title") !== null`, 10*time.Second)
	b.accessible("run")
	b.shot("10-run")

	// Export and schedule.
	b.do("open the settings", chromedp.Click(chromedp.CSS(`nav a[href="#/settings"]`)))
	b.waitFor("the export form", `document.getElementById("export-title") !== null`, 10*time.Second)
	b.accessible("settings")
	dctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	downloads := chromedp.BrowserEvents(dctx, browser.DownloadProgress)
	b.do("download an NDJSON export",
		chromedp.SetValue(chromedp.CSS(`select[name="format"]`), "ndjson"),
		chromedp.Click(chromedp.CSS(`form[aria-labelledby="export-title"] button[type="submit"]`)))
	var file string
	for ev, err := range downloads {
		if err != nil {
			t.Fatalf("download: %v", err)
		}
		if ev.State == browser.DownloadProgressStateCompleted {
			file = filepath.Join(b.dlDir, ev.GUID)
			break
		}
		if ev.State == browser.DownloadProgressStateCanceled {
			t.Fatal("the download was cancelled")
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if want := 2 * (srv.main + srv.fbe); strings.Count(string(data), "\n") != want || !strings.Contains(string(data), `"type":"product"`) {
		t.Errorf("the export has %d lines, want %d products and offers", strings.Count(string(data), "\n"), want)
	}
	b.waitFor("the export's status", `document.querySelector('form[aria-labelledby="export-title"] [role=status]').textContent.startsWith("Saved ")`, 10*time.Second)
	b.do("save the schedule",
		chromedp.SetValue(chromedp.CSS(`input[name="interval_minutes"]`), "45"),
		chromedp.Click(chromedp.CSS(`input[name="enabled"]`)),
		chromedp.Click(chromedp.CSS(`section[aria-labelledby="schedule-title"] button[type="submit"]`)))
	b.waitFor("the saved schedule", `document.getElementById("toast").textContent === "Schedule saved."`, 10*time.Second)
	sched, err := srv.db.GetSchedule(b.ctx)
	if err != nil || sched.IntervalMinutes != 45 || sched.UpdatedBy != "op" {
		t.Errorf("schedule saved as %+v, %v", sched, err)
	}
	b.shot("11-settings")

	// The access token is refreshed before it expires: make the stored one
	// look about to expire, reload, and wait for a fresh pair.
	old := eval[string](b, `(() => { const s = JSON.parse(sessionStorage.getItem("magflow.session"));
	  s.expires_at = new Date(Date.now() + 20000).toISOString();
	  sessionStorage.setItem("magflow.session", JSON.stringify(s)); return s.access_token; })()`)
	b.do("reload", chromedp.Reload())
	b.waitFor("a refreshed token", fmt.Sprintf(`(() => { const s = JSON.parse(sessionStorage.getItem("magflow.session") || "{}");
	  return s.access_token && s.access_token !== %q && Date.parse(s.expires_at) - Date.now() > 5 * 60000; })()`, old), 10*time.Second)
	b.waitFor("the settings after the reload", `document.getElementById("export-title") !== null`, 10*time.Second)

	// A phone.
	b.do("a phone screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Click(chromedp.ID("menu-toggle")),
		chromedp.Click(chromedp.CSS(`nav a[href="#/"]`)))
	b.waitFor("the overview on a phone", `document.querySelectorAll("article.card.account").length === 2`, 10*time.Second)
	if got := eval[string](b, `document.querySelector('article[data-account="fbe"] .platform').textContent`); got != "emag.ro · RON" {
		t.Errorf("after a reload, fbe's platform shows %q", got)
	}
	b.fits("overview", 390)
	b.shot("12-phone-overview")
	b.do("phone products", chromedp.Navigate(srv.base+"/#/products"))
	b.waitFor("product rows on a phone", `document.querySelectorAll("a.product-link").length === 50`, 10*time.Second)
	b.fits("products", 390)
	b.shot("13-phone-products")
	b.do("back to a laptop", chromedp.EmulateViewport(1280, 800))

	// Log out: the tokens go.
	b.do("log out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-username")))
	if got := eval[bool](b, `sessionStorage.getItem("magflow.session") === null && document.getElementById("top").hidden`); !got {
		t.Error("logging out left the session or the header")
	}

	// A viewer, through a deep link: the login leads back to it; no sync or
	// schedule control anywhere.
	b.do("a deep link", chromedp.Navigate(srv.base+"/#/orders"), chromedp.WaitVisible(chromedp.ID("login-username")))
	b.login("viewer", viewerPassword)
	b.waitFor("the orders after the login", `location.hash === "#/orders" && document.querySelectorAll("a.order-link").length > 0`, 10*time.Second)
	b.do("the viewer's overview", chromedp.Click(chromedp.CSS(`nav a[href="#/"]`)))
	b.waitFor("the viewer's cards", `document.querySelectorAll("article.card.account").length === 2`, 10*time.Second)
	if n := eval[int](b, `document.querySelectorAll(".sync-btn, #sync-all-products, #sync-all-offers").length`); n != 0 {
		t.Errorf("a viewer sees %d sync buttons", n)
	}
	b.shot("14-viewer-overview")
	b.do("the viewer's settings", chromedp.Click(chromedp.CSS(`nav a[href="#/settings"]`)))
	b.waitFor("the viewer's schedule", `document.querySelector("form fieldset[disabled]") !== null`, 10*time.Second)
	if eval[bool](b, `[...document.querySelectorAll("button")].some((x) => x.textContent === "Save schedule")`) {
		t.Error("a viewer sees the Save schedule button")
	}
	b.do("the viewer logs out", chromedp.Click(chromedp.ID("logout")), chromedp.WaitVisible(chromedp.ID("login-username")))

	if errs := b.errors(); len(errs) > 0 {
		t.Errorf("console errors or uncaught exceptions:\n%s", strings.Join(errs, "\n"))
	}
}
