package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/syncer"
)

type syncFlags struct {
	mode          string
	account       string
	maxPages      int
	exportResults string
	verbose       bool
	useSandbox    bool
	noMigrate     bool
	progress      string
	sandbox       sandboxFlags
}

func syncCmd(e *env) *cobra.Command {
	var f syncFlags
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Sync products, offers and orders of your eMAG accounts into the database",
		Long: "Sync products, offers and orders from every selected eMAG account, side by side, at the highest rate\n" +
			"eMAG allows. --mode test only checks each account's credentials and connectivity.\n\n" +
			"Exit codes: 0 every run completed, 2 a run was partial (holes recorded, fetched first next time), 1 failed.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runSync(cmd.Context(), e, &f) },
	}
	fs := cmd.Flags()
	fs.StringVar(&f.mode, "mode", "all", "products|offers|orders|both|all|test (both = products and offers; all = both and orders)")
	fs.StringVar(&f.account, "account", "both", "main|fbe|both|NAME[,NAME...] (both = every configured account)")
	fs.IntVar(&f.maxPages, "max-pages", -1, "most catalogue pages per account (0: no cap; default: EMAG_<NAME>_MAX_PAGES)")
	fs.StringVar(&f.exportResults, "export-results", "", "write the run summary and de-duplication statistics as JSON to this file")
	fs.BoolVar(&f.verbose, "verbose", false, "log every request at debug level")
	fs.BoolVar(&f.useSandbox, "sandbox", false, "start the built-in eMAG sandbox and point every account at it")
	fs.BoolVar(&f.noMigrate, "no-migrate", false, "do not apply database migrations on start")
	fs.StringVar(&f.progress, "progress", "auto", "auto|bars|log: progress bars on a terminal, log lines otherwise")
	f.sandbox.register(fs, "sandbox-")
	return cmd
}

// selectAccounts resolves --account against the configuration.
func selectAccounts(c *config.Config, sel string) ([]string, error) {
	if sel == "" || sel == "both" || sel == "all" {
		return c.AccountNames(), nil
	}
	var names []string
	for _, n := range strings.Split(sel, ",") {
		n = strings.ToLower(strings.TrimSpace(n))
		if _, ok := c.Account(n); !ok {
			return nil, &magflow.Error{Code: magflow.EInvalid, Field: "--account",
				Message: fmt.Sprintf("unknown account %q: configured accounts are %s (EMAG_ACCOUNTS)", n, strings.Join(c.AccountNames(), ", "))}
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	// Precedence follows EMAG_ACCOUNTS, not the order on the command line.
	slices.SortFunc(names, func(a, b string) int {
		return slices.Index(c.AccountNames(), a) - slices.Index(c.AccountNames(), b)
	})
	return names, nil
}

func runSync(ctx context.Context, e *env, f *syncFlags) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if f.mode != "test" {
		if _, err := syncer.ParseMode(f.mode); err != nil {
			return err
		}
	}
	names, err := selectAccounts(cfg, f.account)
	if err != nil {
		return err
	}
	if f.useSandbox {
		sb, err := pointAtSandbox(ctx, e, cfg, &f.sandbox)
		if err != nil {
			return err
		}
		defer sb.Close()
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	logger := e.logger(cfg, f.verbose)
	if f.mode == "test" {
		return testAccounts(ctx, e, cfg, names)
	}

	bars := f.progress == "bars" || (f.progress == "auto" && isTerminal(e.stderr))
	var obs progressView
	if bars {
		obs = newBarView(ctx, e.stderr)
		// Log lines would tear the bars: only warnings and errors go through.
		if !f.verbose {
			cfg.LogLevel = "warn"
			logger = e.logger(cfg, false)
		}
	} else {
		obs = newLogView(logger)
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Logger: logger, NoMigrate: f.noMigrate, Observer: obs})
	if err != nil {
		obs.Done()
		return err
	}
	defer a.Close()
	req := syncer.Request{Accounts: names, Mode: syncer.Mode(f.mode), Trigger: "cli"}
	if f.maxPages >= 0 {
		req.MaxPages = &f.maxPages
	}
	rep, err := a.Engine.Sync(ctx, req)
	obs.Done()
	if err != nil {
		return err
	}
	printSummary(e, rep)
	if f.exportResults != "" {
		if err := exportResults(f.exportResults, rep, a.DB.String()); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "results written to %s\n", f.exportResults)
	}
	switch rep.Status() {
	case magflow.RunCompleted:
		return nil
	case magflow.RunPartial:
		return &exitError{code: ExitPartial}
	}
	return &exitError{code: ExitFailed}
}

// testAccounts is `sync --mode test`: one cheap authenticated call per
// account, side by side, with the remedy for every failure.
func testAccounts(ctx context.Context, e *env, cfg *config.Config, names []string) error {
	// One retry at most: the test should answer fast.
	clients, _, err := app.NewClients(cfg, slog.New(slog.DiscardHandler), app.ClientOptions{
		Retry: emag.RetryPolicy{MaxAttempts: 2, BaseDelay: 250 * time.Millisecond, MaxElapsed: 10 * time.Second}})
	if err != nil {
		return err
	}
	results := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Go(func() {
			cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			results[i] = app.CheckAccount(cctx, clients[n])
		})
	}
	wg.Wait()
	failed := 0
	for i, n := range names {
		ac, _ := cfg.Account(n)
		if results[i] == nil {
			fmt.Fprintf(e.stdout, "%-10s OK      %s (%s)\n", n, ac.BaseURL, ac.Platform.Code)
			continue
		}
		failed++
		fmt.Fprintf(e.stdout, "%-10s FAILED  %s\n", n, results[i])
		var ee *emag.Error
		if errors.As(results[i], &ee) && ee.Remedy() != "" {
			fmt.Fprintf(e.stdout, "%-10s         fix: %s\n", "", ee.Remedy())
		}
	}
	if failed > 0 {
		return &exitError{code: ExitFailed, err: fmt.Errorf("%d of %d account(s) failed the test", failed, len(names))}
	}
	return nil
}

func printSummary(e *env, rep syncer.Report) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "account\tstream\tstatus\tpages\titems\tinserted\tupdated\tunchanged\tgone\tduplicates\trequests\t429s\tretries\tholes\tduration\t")
	for _, r := range rep.Runs {
		c := r.Counters
		status := string(r.Status)
		if r.Capped {
			status += " (capped)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t\n", r.Account, r.Stream, status,
			c.Page, c.Items, c.Inserted, c.Updated, c.Unchanged, c.Gone, c.Duplicates, c.Requests, c.Throttled, c.Retries, c.Holes,
			r.Duration.Round(10*time.Millisecond))
	}
	tw.Flush()
	for _, r := range rep.Runs {
		if r.Reason != "" {
			fmt.Fprintf(e.stdout, "%s %s: %s\n", r.Account, r.Stream, r.Reason)
		}
	}
	fmt.Fprintf(e.stdout, "%s in %s; %d SKU(s) listed by more than one account\n", rep.Status(), rep.Duration.Round(10*time.Millisecond), rep.Duplicates)
}

// resultsFile is the JSON that --export-results writes.
type resultsFile struct {
	Status          magflow.RunStatus `json:"status"`
	StartedAt       time.Time         `json:"started_at"`
	DurationSeconds float64           `json:"duration_seconds"`
	Database        string            `json:"database"`
	Deduplication   struct {
		Duplicates int `json:"duplicates"`
	} `json:"deduplication"`
	Runs []resultRun `json:"runs"`
}

type resultRun struct {
	RunID           int64               `json:"run_id"`
	Account         string              `json:"account"`
	Stream          magflow.Stream      `json:"stream"`
	Status          magflow.RunStatus   `json:"status"`
	Capped          bool                `json:"capped"`
	Reason          string              `json:"reason,omitempty"`
	DurationSeconds float64             `json:"duration_seconds"`
	Counters        magflow.RunCounters `json:"counters"`
}

func exportResults(path string, rep syncer.Report, database string) error {
	out := resultsFile{Status: rep.Status(), StartedAt: rep.Started.UTC(), DurationSeconds: rep.Duration.Seconds(), Database: config.RedactURL(database)}
	out.Deduplication.Duplicates = rep.Duplicates
	for _, r := range rep.Runs {
		out.Runs = append(out.Runs, resultRun{RunID: r.RunID, Account: r.Account, Stream: r.Stream, Status: r.Status, Capped: r.Capped,
			Reason: r.Reason, DurationSeconds: r.Duration.Seconds(), Counters: r.Counters})
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--export-results: %w", err)
	}
	return nil
}
