package cli

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/app"
	"github.com/magflow/magflow/internal/config"
)

func migrateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate up|down|status",
		Short: "Apply, roll back (one step) or list the database migrations",
		Long: "The migrations are embedded in the binary, one set per engine (SQLite and PostgreSQL).\n" +
			"sync and serve apply pending migrations on start unless given --no-migrate.",
		Args:      cobra.ExactArgs(1),
		ValidArgs: []string{"up", "down", "status"},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			if dir != "up" && dir != "down" && dir != "status" {
				return &magflow.Error{Code: magflow.EInvalid, Message: fmt.Sprintf("unknown direction %q: use up, down or status", dir)}
			}
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			db, err := app.OpenDB(ctx, cfg, e.logger(cfg, false), false)
			if err != nil {
				return err
			}
			defer db.Close()
			if dir != "status" {
				if err := db.Migrate(ctx, dir); err != nil {
					return err
				}
			}
			states, err := db.MigrationStatus(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "database: %s\n", config.RedactURL(db.String()))
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "version\tname\tapplied")
			for _, s := range states {
				applied := "pending"
				if s.Applied {
					applied = s.AppliedAt.UTC().Format("2006-01-02 15:04:05")
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\n", s.Version, s.Name, applied)
			}
			return tw.Flush()
		},
	}
}
