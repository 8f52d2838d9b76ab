package syncer_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
)

// The crash test re-executes this test binary as a child that runs one sync
// and prints a line per committed page; the parent kills it with SIGKILL at
// chosen points, restarts it, and compares the final tables with a clean run.

const childEnv = "MAGFLOW_SYNCER_CRASH_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(crashChild(spec))
	}
	os.Exit(m.Run())
}

type childSpec struct {
	DatabaseURL string
	Accounts    []sandbox.AccountInfo
	RPS         float64
}

// crashChild runs one sync as the spec says; its exit code tells the status.
func crashChild(spec string) int {
	var cs childSpec
	if err := json.Unmarshal([]byte(spec), &cs); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	ctx := context.Background()
	db, err := sqldb.Open(ctx, cs.DatabaseURL, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	defer db.Close()
	if err := db.Migrate(ctx, "up"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	var accounts []syncer.Account
	for _, a := range cs.Accounts {
		lim, _ := ratelimit.NewLocal(ratelimit.Options{Limits: ratelimit.FromRPS(cs.RPS, cs.RPS)})
		c, err := emag.New(emag.Options{Account: a.Name, BaseURL: a.BaseURL, Username: a.Username, Password: a.Password, Limiter: lim,
			Retry: emag.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		accounts = append(accounts, syncer.Account{Name: a.Name, Source: c})
	}
	out := bufio.NewWriter(os.Stdout)
	var outMu sync.Mutex // the observer is called from every run's goroutine
	obs := syncer.ObserverFunc(func(p syncer.Progress) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(out, "progress %s %s %d\n", p.Account, p.Stream, p.Counters.Page)
		out.Flush()
	})
	e, err := syncer.New(syncer.Options{Store: db, Accounts: accounts, Observer: obs})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	rep, err := e.Sync(ctx, syncer.Request{Mode: syncer.ModeAll, MaxPages: new(int)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 3
	}
	fmt.Fprintf(out, "status %s\n", rep.Status())
	out.Flush()
	if rep.Status() != magflow.RunCompleted {
		for _, r := range rep.Runs {
			fmt.Fprintf(os.Stderr, "%s %s %s %s\n", r.Account, r.Stream, r.Status, r.Reason)
		}
		return 2
	}
	return 0
}

// startChild runs the child; when killAfter > 0 it is killed with SIGKILL
// after that many progress lines. It returns whether it was killed.
func startChild(t *testing.T, spec childSpec, killAfter int) bool {
	t.Helper()
	b, _ := json.Marshal(spec)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(b))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	timer := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer timer.Stop()
	sc := bufio.NewScanner(stdout)
	lines, killed := 0, false
	for sc.Scan() {
		if strings.HasPrefix(sc.Text(), "progress ") {
			lines++
		}
		if killAfter > 0 && lines == killAfter && !killed {
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed && err != nil {
		t.Fatalf("child sync failed: %v\n%s", err, stderr.String())
	}
	return killed
}

// snapshot is what a database holds, without the times of the run.
func snapshot(t *testing.T, db *sqldb.DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for p, err := range db.ExportProducts(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("product %s/%d", p.Account, p.ID)] = fmt.Sprintf("%s gone=%v", p.ContentHash, p.GoneAt != nil)
	}
	for o, err := range db.ExportOffers(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("offer %s/%d", o.Account, o.ProductID)] = fmt.Sprintf("%s %s %d", o.ContentHash, o.SalePrice, o.GeneralStock)
	}
	for o, err := range db.ExportOrders(ctx, "") {
		if err != nil {
			t.Fatal(err)
		}
		out[fmt.Sprintf("order %s/%d", o.Account, o.ID)] = fmt.Sprintf("%s status=%d lines=%d", o.ContentHash, o.Status, len(o.Lines))
	}
	for c, err := range db.ExportCanonical(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		out["canonical "+c.PartNumber] = fmt.Sprintf("%s/%d %d", c.SourceAccount, c.Product.ID, len(c.Listings))
	}
	return out
}

func TestKilledSyncResumesToTheSameTables(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	t.Parallel()
	for _, d := range sqldbtest.Engines {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 21, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
				{Name: "main", Products: 1800, Orders: 700}, {Name: "fbe", Products: 1300, Orders: 500}}})
			if err != nil {
				t.Fatal(err)
			}
			defer sb.Close()

			cleanURL := sqldbtest.URL(t, d)
			clean := childSpec{DatabaseURL: cleanURL, Accounts: sb.Accounts(), RPS: 1000}
			startChild(t, clean, 0)
			cleanDB := openURL(t, cleanURL)
			want := snapshot(t, cleanDB)

			crashURL := sqldbtest.URL(t, d)
			crash := childSpec{DatabaseURL: crashURL, Accounts: sb.Accounts(), RPS: 10}
			// A child is killed when the test reads its Nth progress line;
			// on a loaded machine the test reads late and the child has
			// committed further by then, so the later children may find
			// little left to do. Kill until one finishes on its own, at
			// most four times, and ask for at least two kills mid-run.
			kills := 0
			for _, after := range []int{2, 3, 4, 5} {
				if !startChild(t, crash, after) {
					break
				}
				kills++
			}
			if kills < 2 {
				t.Fatalf("only %d children were killed mid-run", kills)
			}
			t.Logf("%d children killed mid-run", kills)
			startChild(t, crash, 0)
			crashDB := openURL(t, crashURL)
			got := snapshot(t, crashDB)
			if !maps.Equal(got, want) {
				diff := 0
				for k, v := range want {
					if got[k] != v {
						if diff < 10 {
							t.Errorf("%s: crashed+resumed %q, clean %q", k, got[k], v)
						}
						diff++
					}
				}
				t.Errorf("%d of %d records differ (crashed has %d)", diff, len(want), len(got))
			}
			runs, _, err := crashDB.ListRuns(context.Background(), sqldb.RunFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			interrupted := 0
			for _, r := range runs {
				if r.Status == magflow.RunRunning {
					t.Errorf("run %d left running", r.ID)
				}
				if strings.Contains(r.Reason, "interrupted") {
					interrupted++
				}
			}
			if interrupted == 0 {
				t.Error("no run was recorded as interrupted")
			}
		})
	}
}

func openURL(t *testing.T, url string) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
