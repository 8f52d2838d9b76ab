package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSyncPeakRSS measures the peak resident memory of a real
// `magflow sync` process syncing two accounts from a `magflow sandbox`
// process (so the sandbox's own memory is not counted), at 5,000 and at
// 50,000 products per account (docs/benchmarks.md: at most 100 MB, and the
// large catalogue within 20% of the small one). Run with -benchtime=1x.
func BenchmarkSyncPeakRSS(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "magflow")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	var small float64
	for _, products := range []int{5000, 50000} {
		b.Run(fmt.Sprintf("products=%d", products), func(b *testing.B) {
			for b.Loop() {
				mb := peakRSS(b, bin, products)
				b.ReportMetric(mb, "peak_MB")
				if products == 5000 {
					small = mb
				} else if small > 0 {
					b.ReportMetric(mb/small, "x_small_catalogue")
				}
			}
		})
	}
}

func peakRSS(b *testing.B, bin string, products int) float64 {
	b.Helper()
	dir := b.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sb := exec.CommandContext(ctx, bin, "sandbox", "--addr", "127.0.0.1:0", "--no-rate-limit",
		"--products", strconv.Itoa(products), "--orders", "1")
	sb.Dir = dir
	out, err := sb.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := sb.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { sb.Process.Signal(syscall.SIGTERM); sb.Wait() }()
	var env []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "EMAG_") {
			env = append(env, line)
		}
		if strings.HasPrefix(line, "# statistics") {
			break
		}
	}
	go func() {
		for sc.Scan() {
		}
	}()
	if err := os.WriteFile(filepath.Join(dir, ".env"), []byte(strings.Join(env, "\n")+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	sync := exec.CommandContext(ctx, bin, "sync", "--mode", "both", "--max-pages", "0", "--progress", "log",
		"--database-url", filepath.Join(dir, "magflow.db"))
	sync.Dir = dir
	sync.Env = append(os.Environ(), "MAGFLOW_LOG_LEVEL=warn")
	if out, err := sync.CombinedOutput(); err != nil {
		b.Fatalf("sync: %v\n%s", err, out)
	}
	ru, ok := sync.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Skip("no rusage on this platform")
	}
	return float64(ru.Maxrss) / 1024 // Maxrss is in KiB on Linux
}
