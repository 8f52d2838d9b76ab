package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/export"
)

func exportCmd(e *env) *cobra.Command {
	var format, account, output string
	var include []string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Stream a backup of products, offers, orders and the canonical SKU view",
		Long: "Stream a full backup, in constant memory whatever the catalogue size. Records carry eMAG's own field\n" +
			"names plus the account. json: one document; ndjson: one record per line with record_type; csv: a section\n" +
			"per kind (header row first, sections separated by an empty line).",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts, err := export.ParseOptions(format, include, account)
			if err != nil {
				return err
			}
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			if account != "" {
				if _, ok := cfg.Account(account); !ok {
					return fmt.Errorf("--account: unknown account %q (EMAG_ACCOUNTS lists %v)", account, cfg.AccountNames())
				}
			}
			ctx := cmd.Context()
			db, err := app.OpenDB(ctx, cfg, e.logger(cfg, false), false)
			if err != nil {
				return err
			}
			defer db.Close()
			var w io.Writer = e.stdout
			if output != "" && output != "-" {
				f, err := os.Create(output)
				if err != nil {
					return fmt.Errorf("--output: %w", err)
				}
				defer f.Close()
				w = f
			}
			if err := export.Write(ctx, w, db, opts); err != nil {
				return err
			}
			if f, ok := w.(*os.File); ok && f != os.Stdout {
				if err := f.Sync(); err != nil {
					return err
				}
				fmt.Fprintf(e.stderr, "export written to %s\n", output)
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&format, "format", "json", "json|ndjson|csv")
	fs.StringSliceVar(&include, "include", []string{"products", "offers", "orders", "canonical"}, "what to export: products,offers,orders,canonical")
	fs.StringVar(&account, "account", "", "only this account's products, offers and orders")
	fs.StringVarP(&output, "output", "o", "-", "write to this file instead of standard output")
	return cmd
}
