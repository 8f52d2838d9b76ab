package cli

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/magflow/magflow/internal/app"
)

type serveFlags struct {
	addr       string
	useSandbox bool
	noMigrate  bool
	verbose    bool
	sandbox    sandboxFlags
}

func serveCmd(e *env) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the REST API (JWT auth, OpenAPI docs at /docs, live progress, metrics)",
		Long: "Serve the MagFlow REST API on MAGFLOW_HTTP_ADDR until SIGTERM or Ctrl-C, then stop gracefully: requests in flight\n" +
			"finish and syncs started through the API record themselves cancelled, to resume from their checkpoint.\n" +
			"Create a user first: magflow user create NAME --role operator. See docs/api.md.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			if f.addr != "" {
				cfg.HTTPAddr = f.addr
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
			a, err := app.New(ctx, app.Options{Config: cfg, Logger: logger, NoMigrate: f.noMigrate})
			if err != nil {
				return err
			}
			defer a.Close()
			if n, err := a.DB.CountUsers(ctx); err == nil && n == 0 {
				logger.Warn("no API user exists yet: create one with `magflow user create NAME --role operator`")
			}
			return app.Serve(ctx, a, app.ServeOptions{
				APIOptions: app.APIOptions{Version: buildVersion()},
				Ready: func(addr string) {
					fmt.Fprintf(e.stderr, "MagFlow API on http://%s (docs: http://%s/docs)\n", addr, addr)
				},
			})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&f.addr, "addr", "", "listen address (default MAGFLOW_HTTP_ADDR, 127.0.0.1:8080)")
	fs.BoolVar(&f.useSandbox, "sandbox", false, "start the built-in eMAG sandbox and point every account at it (demos)")
	fs.BoolVar(&f.noMigrate, "no-migrate", false, "do not apply database migrations on start")
	fs.BoolVar(&f.verbose, "verbose", false, "log at debug level")
	f.sandbox.register(fs, "sandbox-")
	return cmd
}

// buildVersion is the module version the binary was built from.
func buildVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
