package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/magflow/magflow/internal/config"
	"github.com/magflow/magflow/internal/emag/sandbox"
)

// sandboxFlags are the simulator's knobs, shared by `magflow sandbox` and
// `magflow sync --sandbox` (there prefixed with "sandbox-").
type sandboxFlags struct {
	addr        string
	seed        int64
	accounts    []string
	products    int
	orders      int
	overlap     float64
	orderRate   float64
	rateScale   float64
	noRateLimit bool
	faults      sandbox.FaultOptions
	churn       sandbox.ChurnOptions
	callbackURL string
	allowedIPs  []string
	plan        []string
}

func (f *sandboxFlags) register(fs *pflag.FlagSet, prefix string) {
	if prefix == "" {
		fs.StringVar(&f.addr, "addr", "127.0.0.1:8099", "listen address")
		fs.StringSliceVar(&f.accounts, "accounts", []string{"main", "fbe"}, "simulated account names")
	}
	fs.Int64Var(&f.seed, prefix+"seed", 1, "seed of every generated value and random fault")
	fs.IntVar(&f.products, prefix+"products", 5000, "products per account")
	fs.IntVar(&f.orders, prefix+"orders", 2000, "orders per account over the last 90 days")
	fs.Float64Var(&f.overlap, prefix+"overlap", 0.3, "fraction of part numbers listed by more than one account")
	fs.Float64Var(&f.orderRate, prefix+"order-rate", 0, "new orders per minute per account while running")
	fs.Float64Var(&f.rateScale, prefix+"rate-scale", 1, "multiply every eMAG rate limit (keeps their shape)")
	fs.BoolVar(&f.noRateLimit, prefix+"no-rate-limit", false, "remove the rate limits")
	fs.Float64Var(&f.faults.P500, prefix+"p500", 0, "probability of a 500 with an HTML body")
	fs.Float64Var(&f.faults.P502, prefix+"p502", 0, "probability of a 502 with an HTML body")
	fs.Float64Var(&f.faults.P504, prefix+"p504", 0, "probability of a 504 with an HTML body")
	fs.Float64Var(&f.faults.PSlow, prefix+"p-slow", 0, "probability of a slow answer")
	fs.DurationVar(&f.faults.SlowMin, prefix+"slow-min", 0, "shortest slow answer (default 1s)")
	fs.DurationVar(&f.faults.SlowMax, prefix+"slow-max", 0, "longest slow answer (default 5s)")
	fs.Float64Var(&f.faults.PReset, prefix+"p-reset", 0, "probability of a connection reset")
	fs.Float64Var(&f.faults.PCaptcha, prefix+"p-captcha", 0, "probability of a captcha HTML page with status 200")
	fs.Float64Var(&f.faults.PTruncated, prefix+"p-truncated", 0, "probability of truncated JSON")
	fs.Float64Var(&f.faults.PIsError, prefix+"p-iserror", 0, "probability of isError:true with a message")
	fs.IntVar(&f.churn.Inserts, prefix+"churn-inserts", 0, "products inserted after every read (shifts pages)")
	fs.IntVar(&f.churn.Deletes, prefix+"churn-deletes", 0, "products deleted after every read (shifts pages)")
	fs.StringVar(&f.callbackURL, prefix+"callback-url", "", "call URL?order_id=N for every new order until acknowledged")
	fs.StringSliceVar(&f.allowedIPs, prefix+"allowed-ips", nil, "IP allow-list of every account (empty: any)")
	fs.StringArrayVar(&f.plan, prefix+"fault", nil, "a targeted fault, repeatable: account=fbe,route=product_offer/read,page=3,kind=502,times=2")
}

func (f *sandboxFlags) options(names []string, logger *slog.Logger) (sandbox.Options, error) {
	faults := f.faults
	faults.Plan = nil
	for _, rule := range f.plan {
		r, err := sandbox.ParseFaultRule(rule)
		if err != nil {
			return sandbox.Options{}, fmt.Errorf("--fault %q: %w", rule, err)
		}
		faults.Plan = append(faults.Plan, r)
	}
	opts := sandbox.Options{
		Addr:        f.addr,
		Seed:        f.seed,
		Overlap:     f.overlap,
		OrderRate:   f.orderRate,
		RateScale:   f.rateScale,
		NoRateLimit: f.noRateLimit,
		Faults:      faults,
		Churn:       f.churn,
		CallbackURL: f.callbackURL,
		Logger:      logger,
	}
	if f.overlap == 0 {
		opts.Overlap = -1 // an explicit 0 means none
	}
	for _, n := range names {
		opts.Accounts = append(opts.Accounts, sandbox.AccountOptions{
			Name: strings.ToLower(strings.TrimSpace(n)), Products: orNone(f.products), Orders: orNone(f.orders), AllowedIPs: f.allowedIPs,
		})
	}
	return opts, nil
}

// orNone maps an explicit 0 to the sandbox's "none" (-1).
func orNone(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

func sandboxCmd(e *env) *cobra.Command {
	var f sandboxFlags
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Serve the eMAG sandbox, a faithful local simulator of the eMAG Marketplace API",
		Long: "Serve simulated eMAG seller accounts (products, offers, orders, rate limits, quirks and faults) and print,\n" +
			"for each, the variables to put in .env. See docs/sandbox.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			logger := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
			opts, err := f.options(f.accounts, logger)
			if err != nil {
				return err
			}
			sb, err := sandbox.Start(ctx, opts)
			if err != nil {
				return err
			}
			defer sb.Close()
			printSandboxEnv(e.stdout, sb)
			fmt.Fprintf(e.stdout, "\n# statistics: %s/_sandbox/stats   (Ctrl-C stops)\n", sb.URL())
			<-ctx.Done()
			return nil
		},
	}
	f.register(cmd.Flags(), "")
	return cmd
}

func printSandboxEnv(w io.Writer, sb *sandbox.Sandbox) {
	fmt.Fprintf(w, "# eMAG sandbox on %s: put these in .env\n%s", sb.URL(), sb.Env())
}

// pointAtSandbox starts the sandbox in-process (`sync --sandbox`, `serve
// --sandbox`) with one simulated account per configured account, and points
// every account at it. The caller closes the sandbox.
func pointAtSandbox(ctx context.Context, e *env, cfg *config.Config, f *sandboxFlags) (*sandbox.Sandbox, error) {
	sb, err := startSandbox(ctx, f, cfg.AccountNames())
	if err != nil {
		return nil, fmt.Errorf("start the sandbox: %w", err)
	}
	for _, info := range sb.Accounts() {
		for i := range cfg.Accounts {
			if cfg.Accounts[i].Name == info.Name {
				cfg.Accounts[i].BaseURL = info.BaseURL
				cfg.Accounts[i].Username = info.Username
				cfg.Accounts[i].Password = config.Secret(info.Password)
			}
		}
	}
	fmt.Fprintf(e.stderr, "eMAG sandbox running on %s (%d products and %d orders per account)\n", sb.URL(), f.products, f.orders)
	return sb, nil
}

// startSandbox runs the sandbox in-process on a random loopback port.
func startSandbox(ctx context.Context, f *sandboxFlags, names []string) (*sandbox.Sandbox, error) {
	f.addr = "127.0.0.1:0"
	opts, err := f.options(names, nil)
	if err != nil {
		return nil, err
	}
	return sandbox.Start(ctx, opts)
}
