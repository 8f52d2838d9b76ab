// Command magflow connects a seller's ERP to the eMAG Marketplace: it syncs
// products, offers and orders into SQLite or PostgreSQL, serves a REST API
// and dashboard, and ships an eMAG sandbox. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/magflow/magflow/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
