package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/magflow/magflow/internal/emag/sandbox"
)

func TestOffersCommands(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 5, NoRateLimit: true, Accounts: []sandbox.AccountOptions{{Name: "main", Products: 60, Orders: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	dir := t.TempDir()
	a := sb.Accounts()[0]
	dotenv := fmt.Sprintf("EMAG_ACCOUNTS=main\nEMAG_MAIN_USERNAME=%s\nEMAG_MAIN_PASSWORD=%s\nEMAG_MAIN_API_URL=%s\nDATABASE_URL=%s\n",
		a.Username, a.Password, a.BaseURL, filepath.Join(dir, "magflow.db"))
	if code, out, errOut := run(t, dotenv, "sync", "--mode", "offers", "--progress", "log"); code != 0 {
		t.Fatalf("sync: exit %d\n%s\n%s", code, out, errOut)
	}
	ids := sb.ProductIDs("main")
	csv := filepath.Join(dir, "stock.csv")
	body := fmt.Sprintf("id,stock\n%d,7\n%d,8\n%d,9\n", ids[0], ids[1], ids[2])
	if err := os.WriteFile(csv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// The sandbox's offer ids[1] is in an active campaign: eMAG rejects
	// its change, the exit code says so and its message is printed.
	code, out, errOut := run(t, dotenv, "offers", "import", csv)
	if code != ExitPartial || !strings.Contains(out, "3 change(s) accepted") || !strings.Contains(out, "2 applied, 1 rejected") ||
		!strings.Contains(out, "active campaign") {
		t.Fatalf("import: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, dotenv, "offers", "set-stock", "--id", fmt.Sprint(ids[3]), "--stock", "70000")
	if code != ExitFailed || !strings.Contains(errOut, "row 1: stock") {
		t.Fatalf("out of range: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, errOut = run(t, dotenv, "offers", "set-status", "--id", fmt.Sprint(ids[3]), "--status", "0", "--no-wait")
	if code != 0 || !strings.Contains(out, "1 change(s) accepted") {
		t.Fatalf("no-wait: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(t, dotenv, "offers", "changes", "--state", "pending")
	if code != 0 || !strings.Contains(out, "1 of 1 changes") {
		t.Fatalf("changes: exit %d\n%s", code, out)
	}
	if strings.Contains(out+errOut, a.Password) {
		t.Fatal("the account's password reached the output")
	}
}
