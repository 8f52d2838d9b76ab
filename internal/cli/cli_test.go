package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/magflow/magflow/internal/emag/sandbox"
)

// run executes magflow in-process with a private .env and returns the exit
// code and what it printed.
func run(t *testing.T, dotenv string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	if err := os.WriteFile(envFile, []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args = append([]string{"--env-file", envFile}, args...)
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func TestConfigPrintsMaskedAndChecks(t *testing.T) {
	t.Parallel()
	code, out, _ := run(t, "EMAG_ACCOUNTS=main\nEMAG_MAIN_USERNAME=seller\nEMAG_MAIN_PASSWORD=s3cr3t-pw\n", "config")
	if code != 0 || strings.Contains(out, "s3cr3t-pw") || !strings.Contains(out, "EMAG_MAIN_USERNAME") {
		t.Errorf("config: exit %d\n%s", code, out)
	}
	code, _, errOut := run(t, "EMAG_ACCOUNTS=main,fbe\nEMAG_MAIN_OTHER_RPS=9\n", "config", "--check")
	if code != ExitFailed {
		t.Errorf("config --check exit %d", code)
	}
	for _, v := range []string{"EMAG_MAIN_USERNAME", "EMAG_MAIN_PASSWORD", "EMAG_FBE_USERNAME", "EMAG_FBE_PASSWORD", "EMAG_MAIN_OTHER_RPS"} {
		if !strings.Contains(errOut, v) {
			t.Errorf("config --check does not name %s:\n%s", v, errOut)
		}
	}
}

func TestUnknownInputIsRejectedClearly(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sync", "--mode", "everything"}, "unknown mode"},
		{[]string{"sync", "--account", "hu"}, "unknown account"},
		{[]string{"export", "--format", "xml"}, "unknown format"},
		{[]string{"migrate", "sideways"}, "unknown direction"},
		{[]string{"--set", "novalue", "config"}, "KEY=VALUE"},
	} {
		code, _, errOut := run(t, "", tc.args...)
		if code != ExitFailed || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q", tc.args, code, errOut)
		}
	}
}

func TestSyncModeTestReportsEachAccount(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 4, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
		{Name: "main", Products: 10, Orders: -1}, {Name: "fbe", Products: 10, Orders: -1, AllowedIPs: []string{"192.0.2.7"}}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	env := sb.Env()

	code, out, _ := run(t, env, "sync", "--mode", "test", "--account", "main")
	if code != 0 || !strings.Contains(out, "main") || !strings.Contains(out, "OK") {
		t.Errorf("main: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, env, "sync", "--mode", "test", "--account", "both")
	if code != ExitFailed || !strings.Contains(out, "fbe") || !strings.Contains(strings.ToLower(out), "whitelist") {
		t.Errorf("fbe behind an IP allow-list: exit %d\n%s", code, out)
	}
	main := sb.Accounts()[0]
	code, out, _ = run(t, env+"EMAG_MAIN_PASSWORD=wrong-password\n", "sync", "--mode", "test", "--account", "main")
	if code != ExitFailed || !strings.Contains(strings.ToLower(out), "password") || strings.Contains(out, main.Password) {
		t.Errorf("wrong password: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, env+"EMAG_MAIN_API_URL=http://127.0.0.1:1/api-3\n", "sync", "--mode", "test", "--account", "main")
	if code != ExitFailed || !strings.Contains(strings.ToLower(out), "unreachable") {
		t.Errorf("host unreachable: exit %d\n%s", code, out)
	}
}

func TestSyncSandboxEndToEnd(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	results := filepath.Join(dir, "results.json")
	syncArgs := func(results string, extra ...string) []string {
		return append([]string{"sync", "--sandbox", "--sandbox-products", "420", "--sandbox-orders", "60", "--sandbox-no-rate-limit",
			"--database-url", filepath.Join(dir, "magflow.db"), "--export-results", results, "--progress", "log"}, extra...)
	}
	code, out, errOut := run(t, "", syncArgs(results)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "completed") || !strings.Contains(out, "duplicates") {
		t.Errorf("no summary table:\n%s", out)
	}
	var res struct {
		Status        string `json:"status"`
		Deduplication struct {
			Duplicates int `json:"duplicates"`
		} `json:"deduplication"`
		Runs []struct {
			Account  string `json:"account"`
			Stream   string `json:"stream"`
			Status   string `json:"status"`
			Counters struct {
				Items int `json:"items"`
			} `json:"counters"`
		} `json:"runs"`
	}
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Status != "completed" || len(res.Runs) != 4 || res.Deduplication.Duplicates == 0 {
		t.Errorf("results: %s", b)
	}
	for _, r := range res.Runs {
		if r.Stream == "products" && r.Counters.Items != 420 {
			t.Errorf("%s products: %d items", r.Account, r.Counters.Items)
		}
	}
	// The sandbox's passwords (derived from its seed) never reach the output.
	sb, err := sandbox.New(context.Background(), sandbox.Options{Seed: 1, Accounts: []sandbox.AccountOptions{{Name: "main", Products: -1, Orders: -1}, {Name: "fbe", Products: -1, Orders: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range sb.Accounts() {
		if strings.Contains(out+errOut, a.Password) {
			t.Errorf("the output contains the %s password", a.Name)
		}
	}

	// A page that keeps failing (eMAG answers isError): the run is
	// partial, exit code 2.
	code, out, errOut = run(t, "", syncArgs(filepath.Join(dir, "partial.json"),
		"--sandbox-fault", "account=fbe,route=product_offer/read,page=2,kind=iserror")...)
	if code != ExitPartial || !strings.Contains(out, "partial") {
		t.Errorf("partial: exit %d\n%s\n%s", code, out, errOut)
	}
}

func TestEveryCommandIsRegistered(t *testing.T) {
	t.Parallel()
	code, out, errOut := run(t, "", "--help")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, c := range []string{"config", "sync", "sandbox", "migrate", "export", "serve", "worker", "user", "version"} {
		if !strings.Contains(out, "\n  "+c+" ") {
			t.Errorf("magflow --help does not list %q:\n%s", c, out)
		}
	}
}
