// Package cli is MagFlow's command line: one file per command. Commands parse
// flags, load the configuration and hand over to internal/app; they hold no
// business logic of their own.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/spf13/cobra"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/config"
)

// Exit codes shared by every command. sync adds ExitPartial.
const (
	ExitOK      = 0
	ExitFailed  = 1
	ExitPartial = 2
)

// exitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

// env is what every command gets: streams and the global settings.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	envFile        string
	sets           []string
	databaseURL    string
}

// Run executes magflow with args and returns the process exit code.
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "magflow",
		Short:         "MagFlow connects your ERP to the eMAG Marketplace",
		Long:          "MagFlow syncs products, offers and orders of your eMAG seller accounts into SQLite or PostgreSQL,\nserves them over a REST API and dashboard, and ships an eMAG sandbox to try it all without credentials.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&e.envFile, "env-file", ".env", "the .env file to read (a missing file is fine)")
	pf.StringArrayVar(&e.sets, "set", nil, "override a setting, KEY=VALUE (repeatable); flags win over .env and the environment")
	pf.StringVar(&e.databaseURL, "database-url", "", "override DATABASE_URL")

	root.AddCommand(
		configCmd(e),
		syncCmd(e),
		sandboxCmd(e),
		migrateCmd(e),
		exportCmd(e),
		offersCmd(e),
		serveCmd(e),
		workerCmd(e),
		userCmd(e),
		versionCmd(e),
	)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "magflow:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "magflow:", err)
	return ExitFailed
}

// loadConfig layers the environment, the .env file and the flags. It does not
// validate: commands call Validate after their own overrides.
func (e *env) loadConfig() (*config.Config, error) {
	flags := map[string]string{}
	for _, kv := range e.sets {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, magflow.Errorf(magflow.EInvalid, "--set %q: expected KEY=VALUE", kv)
		}
		flags[strings.TrimSpace(k)] = v
	}
	if e.databaseURL != "" {
		flags["DATABASE_URL"] = e.databaseURL
	}
	return config.Load(config.FromOS(e.envFile, flags))
}

// logger builds the process logger from the configuration.
func (e *env) logger(c *config.Config, verbose bool) *slog.Logger {
	level := slog.LevelInfo
	switch c.LogLevel {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	if verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(e.stderr, opts))
	}
	return slog.New(slog.NewTextHandler(e.stderr, opts))
}
