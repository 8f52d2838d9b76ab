package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/twoway"
)

// offersFlags are shared by the offers subcommands.
type offersFlags struct {
	account, sku string
	id           int64
	noWait       bool
	verbose      bool
}

func (f *offersFlags) register(cmd *cobra.Command, one bool) {
	fs := cmd.Flags()
	fs.StringVar(&f.account, "account", "", "the account (default: the first of EMAG_ACCOUNTS)")
	if one {
		fs.Int64Var(&f.id, "id", 0, "the offer's seller product id")
		fs.StringVar(&f.sku, "sku", "", "the offer's part number (SKU), instead of --id")
	}
	fs.BoolVar(&f.noWait, "no-wait", false, "only write the changes to the outbox; a running magflow serve or worker sends them")
	fs.BoolVarP(&f.verbose, "verbose", "v", false, "debug logging")
}

func offersCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "offers",
		Short: "Change offers on eMAG: stock, prices, status, one by one or from a CSV or JSON file",
		Long: "Each change is checked (a known offer, stock 0..65535, the sale price within min and max) and written to the\n" +
			"outbox, then sent to eMAG 50 offers per request (several changes of one offer coalesced to the latest), unless\n" +
			"--no-wait leaves that to a running magflow serve or worker. Exit code 0 when eMAG applied every change,\n" +
			"2 when it rejected some (its messages are printed), 1 on error. See docs/two-way.md.",
	}
	cmd.AddCommand(offersSetStockCmd(e), offersSetPriceCmd(e), offersSetStatusCmd(e), offersImportCmd(e), offersChangesCmd(e))
	return cmd
}

func offersSetStockCmd(e *env) *cobra.Command {
	var f offersFlags
	var stock, warehouse int
	cmd := &cobra.Command{
		Use:   "set-stock",
		Short: "Set one offer's stock",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("stock") {
				return magflow.Errorf(magflow.EInvalid, "--stock is required")
			}
			row := twoway.ChangeRow{ID: f.id, PartNumber: f.sku, Stock: &stock, WarehouseID: warehouse}
			return runOfferChanges(cmd.Context(), e, &f, []twoway.ChangeRow{row})
		},
	}
	f.register(cmd, true)
	cmd.Flags().IntVar(&stock, "stock", 0, "the stock, 0 to 65535")
	cmd.Flags().IntVar(&warehouse, "warehouse", 0, "the warehouse id (default 1)")
	return cmd
}

func offersSetPriceCmd(e *env) *cobra.Command {
	var f offersFlags
	var sale, minP, maxP, rec string
	cmd := &cobra.Command{
		Use:   "set-price",
		Short: "Set one offer's sale, minimum, maximum or recommended price (without VAT)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			row := twoway.ChangeRow{ID: f.id, PartNumber: f.sku}
			for _, p := range []struct {
				flag, v string
				dst     **magflow.Decimal
			}{{"sale", sale, &row.SalePrice}, {"min", minP, &row.MinSalePrice}, {"max", maxP, &row.MaxSalePrice}, {"recommended", rec, &row.RecommendedPrice}} {
				if p.v == "" {
					continue
				}
				d, err := magflow.ParseDecimal(p.v)
				if err != nil {
					return magflow.Errorf(magflow.EInvalid, "--%s %q: use an amount with a dot and at most 4 decimals, e.g. 79.9", p.flag, p.v)
				}
				*p.dst = &d
			}
			if row.SalePrice == nil && row.MinSalePrice == nil && row.MaxSalePrice == nil && row.RecommendedPrice == nil {
				return magflow.Errorf(magflow.EInvalid, "set at least one of --sale, --min, --max, --recommended")
			}
			return runOfferChanges(cmd.Context(), e, &f, []twoway.ChangeRow{row})
		},
	}
	f.register(cmd, true)
	fs := cmd.Flags()
	fs.StringVar(&sale, "sale", "", "the sale price")
	fs.StringVar(&minP, "min", "", "the minimum sale price")
	fs.StringVar(&maxP, "max", "", "the maximum sale price")
	fs.StringVar(&rec, "recommended", "", "the recommended (former) price, above the sale price")
	return cmd
}

func offersSetStatusCmd(e *env) *cobra.Command {
	var f offersFlags
	var status int
	cmd := &cobra.Command{
		Use:   "set-status",
		Short: "Set one offer's status: 0 inactive, 1 active, 2 end of life",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("status") {
				return magflow.Errorf(magflow.EInvalid, "--status is required")
			}
			return runOfferChanges(cmd.Context(), e, &f, []twoway.ChangeRow{{ID: f.id, PartNumber: f.sku, Status: &status}})
		},
	}
	f.register(cmd, true)
	cmd.Flags().IntVar(&status, "status", 1, "0 inactive, 1 active, 2 end of life")
	return cmd
}

func offersImportCmd(e *env) *cobra.Command {
	var f offersFlags
	var format string
	cmd := &cobra.Command{
		Use:   "import FILE.csv|FILE.json",
		Short: "Change many offers from a CSV or JSON file (- for standard input)",
		Long: "CSV: a header row naming some of " + strings.Join(twoway.CSVColumns, ", ") + " (id or part_number\n" +
			"required; empty cells leave a field as it is). JSON: an array of such objects, {\"changes\": [...]}, or one object\n" +
			"per line. Every row is checked before any is written; --account applies to rows without an account.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if format == "" {
				format = strings.TrimPrefix(strings.ToLower(filepath.Ext(name)), ".")
			}
			r := e.stdin
			if name != "-" {
				fh, err := os.Open(name)
				if err != nil {
					return fmt.Errorf("open the change file: %w", err)
				}
				defer fh.Close()
				r = fh
			}
			rows, err := twoway.ReadChanges(r, format)
			if err != nil {
				return err
			}
			if len(rows) == 0 {
				return magflow.Errorf(magflow.EInvalid, "%s has no rows", name)
			}
			return runOfferChanges(cmd.Context(), e, &f, rows)
		},
	}
	f.register(cmd, false)
	cmd.Flags().StringVar(&format, "format", "", "csv or json (default: from the file's extension)")
	return cmd
}

func offersChangesCmd(e *env) *cobra.Command {
	var account, state string
	var limit int
	cmd := &cobra.Command{
		Use:   "changes",
		Short: "List the latest offer changes and order acknowledgements with their state and eMAG's message",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return e.withDB(cmd.Context(), func(ctx context.Context, db *sqldb.DB) error {
				list, total, err := db.ListOutbox(ctx, sqldb.OutboxFilter{Account: account, State: sqldb.OutboxState(state), Limit: limit})
				if err != nil {
					return err
				}
				printChanges(e, list)
				fmt.Fprintf(e.stdout, "%d of %d changes\n", len(list), total)
				return nil
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&account, "account", "", "only this account")
	fs.StringVar(&state, "state", "", "only this state: pending, sending, retrying, applied, rejected, superseded, failed")
	fs.IntVar(&limit, "limit", 50, "how many, newest first")
	return cmd
}

func printChanges(e *env, list []sqldb.OutboxEntry) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACCOUNT\tKIND\tTARGET\tSKU\tSTATE\tATTEMPTS\tMESSAGE")
	for _, c := range list {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%d\t%s\n", c.ID, c.Account, c.Kind, c.TargetID, c.PartNumber, c.State, c.Attempts, c.Message)
	}
	tw.Flush()
}

// runOfferChanges writes rows to the outbox and, unless --no-wait, sends
// them from this process and reports eMAG's verdicts.
func runOfferChanges(ctx context.Context, e *env, f *offersFlags, rows []twoway.ChangeRow) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	account := strings.ToLower(f.account)
	if account == "" {
		account = cfg.AccountNames()[0]
	}
	if _, ok := cfg.Account(account); !ok {
		return magflow.Errorf(magflow.EInvalid, "--account: unknown account %q (EMAG_ACCOUNTS lists %v)", account, cfg.AccountNames())
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Logger: e.logger(cfg, f.verbose)})
	if err != nil {
		return err
	}
	defer a.Close()
	changes := make([]sqldb.OfferChange, len(rows))
	for i, r := range rows {
		changes[i] = r.Change(account, "cli")
	}
	ids, err := a.TwoWay.EnqueueOfferChanges(ctx, changes)
	if err != nil {
		return rowError(err)
	}
	fmt.Fprintf(e.stdout, "%d change(s) accepted: ids %d..%d\n", len(ids), ids[0], ids[len(ids)-1])
	if f.noWait {
		return nil
	}
	var accounts []string
	for _, c := range changes {
		if !slices.Contains(accounts, c.Account) {
			accounts = append(accounts, c.Account)
		}
	}
	for _, name := range accounts {
		ok, err := a.TwoWay.Drain(ctx, name, sqldb.OutboxOffer)
		if err != nil {
			return fmt.Errorf("send the changes of %s: %w", name, err)
		}
		if !ok {
			fmt.Fprintf(e.stdout, "another MagFlow process is sending %s's changes; follow them with: magflow offers changes --account %s\n", name, name)
		}
	}
	f2 := sqldb.OutboxFilter{MinID: ids[0], MaxID: ids[len(ids)-1], Kind: sqldb.OutboxOffer}
	sum, err := a.DB.OutboxSummary(ctx, f2)
	if err != nil {
		return err
	}
	var parts []string
	for _, st := range sqldb.OutboxStates {
		if sum[st] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", sum[st], st))
		}
	}
	fmt.Fprintln(e.stdout, strings.Join(parts, ", "))
	if bad := sum[sqldb.OutboxRejected] + sum[sqldb.OutboxFailed]; bad > 0 {
		var list []sqldb.OutboxEntry
		for _, st := range []sqldb.OutboxState{sqldb.OutboxRejected, sqldb.OutboxFailed} {
			f3 := f2
			f3.State, f3.Limit = st, 50
			l, _, err := a.DB.ListOutbox(ctx, f3)
			if err != nil {
				return err
			}
			list = append(list, l...)
		}
		printChanges(e, list)
		return &exitError{code: ExitPartial, err: fmt.Errorf("eMAG did not apply %d of %d change(s)", bad, len(ids))}
	}
	return nil
}

// rowError says which row a "[i].field" error is about, counting from 1.
func rowError(err error) error {
	var me *magflow.Error
	if !errors.As(err, &me) || !strings.HasPrefix(me.Field, "[") {
		return err
	}
	var i int
	var rest string
	if n, _ := fmt.Sscanf(me.Field, "[%d]", &i); n == 1 {
		_, rest, _ = strings.Cut(me.Field, ".")
		out := *me
		out.Field = fmt.Sprintf("row %d: %s", i+1, rest)
		return &out
	}
	return err
}
