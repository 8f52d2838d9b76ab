package jobs_test

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/magflow/magflow/internal/cli"
)

// envWorker makes the test binary act as `magflow` (the multi-process tests
// start it as `magflow worker`).
const envWorker = "MAGFLOW_JOBS_TEST_MAGFLOW"

func TestMain(m *testing.M) {
	if os.Getenv(envWorker) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
