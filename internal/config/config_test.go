package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func load(t *testing.T, environ []string, dotenv string, flags map[string]string) (*Config, error) {
	t.Helper()
	src := Sources{Environ: environ, Flags: flags}
	if dotenv != "" {
		src.EnvFile = filepath.Join(t.TempDir(), ".env")
		if err := os.WriteFile(src.EnvFile, []byte(dotenv), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return Load(src)
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := load(t, nil, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.AccountNames(); !cmp.Equal(got, []string{"main", "fbe"}) {
		t.Errorf("accounts = %v", got)
	}
	a := c.Accounts[0]
	if a.OrdersRPS != 12 || a.OtherRPS != 3 || a.MaxPages != 100 || a.Delay != 0 {
		t.Errorf("account defaults = %+v", a)
	}
	if a.Platform.Code != "emag.ro" || a.BaseURL != "https://marketplace-api.emag.ro/api-3" || a.Platform.Currency != "RON" {
		t.Errorf("platform defaults = %+v %s", a.Platform, a.BaseURL)
	}
	if c.SyncInterval != time.Hour || c.EnableScheduledSync || c.DatabaseURL != "magflow.db" || c.Env != EnvDevelopment {
		t.Errorf("global defaults = %+v", c)
	}
}

func TestPrecedenceEnvThenDotEnvThenFlags(t *testing.T) {
	t.Parallel()
	environ := []string{"EMAG_MAIN_USERNAME=from-env", "EMAG_MAIN_MAX_PAGES=5", "EMAG_SYNC_INTERVAL_MINUTES=10"}
	dotenv := "# comment\nexport EMAG_MAIN_MAX_PAGES=7\nEMAG_SYNC_INTERVAL_MINUTES=\"20\"\nEMAG_MAIN_PLATFORM=emag.bg # inline\n"
	flags := map[string]string{"EMAG_SYNC_INTERVAL_MINUTES": "30"}
	c, err := load(t, environ, dotenv, flags)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.Account("main")
	if a.Username != "from-env" || a.MaxPages != 7 || c.SyncInterval != 30*time.Minute {
		t.Errorf("username=%q maxPages=%d interval=%v", a.Username, a.MaxPages, c.SyncInterval)
	}
	if a.Platform.Code != "emag.bg" || a.Platform.Currency != "BGN" || !strings.Contains(a.BaseURL, "emag.bg") {
		t.Errorf("platform = %+v", a.Platform)
	}
}

func TestAccountsAreData(t *testing.T) {
	t.Parallel()
	c, err := load(t, []string{"EMAG_ACCOUNTS=fbe, Main ,hu1", "EMAG_HU1_PLATFORM=emag.hu", "EMAG_HU1_API_URL=http://127.0.0.1:9/api-3/"}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.AccountNames(); !cmp.Equal(got, []string{"fbe", "main", "hu1"}) {
		t.Errorf("accounts = %v", got)
	}
	hu, _ := c.Account("hu1")
	if hu.BaseURL != "http://127.0.0.1:9/api-3" || hu.Official() {
		t.Errorf("hu1 = %+v official=%v", hu.BaseURL, hu.Official())
	}
}

func TestLoadReportsEveryMalformedValue(t *testing.T) {
	t.Parallel()
	_, err := load(t, []string{
		"MAGFLOW_ENV=staging",
		"EMAG_ACCOUNTS=main,main,9x",
		"EMAG_MAIN_PLATFORM=emag.pl",
		"EMAG_MAIN_API_URL=ftp//nope",
		"EMAG_MAIN_MAX_PAGES=ten",
		"EMAG_MAIN_OTHER_RPS=fast",
		"EMAG_ENABLE_SCHEDULED_SYNC=maybe",
		"EMAG_MAIN_DELAY=-1",
	}, "", nil)
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("err = %v, want Problems", err)
	}
	want := []string{"MAGFLOW_ENV", "EMAG_ACCOUNTS", "EMAG_ACCOUNTS", "EMAG_MAIN_PLATFORM", "EMAG_MAIN_API_URL",
		"EMAG_MAIN_MAX_PAGES", "EMAG_MAIN_OTHER_RPS", "EMAG_MAIN_DELAY", "EMAG_ENABLE_SCHEDULED_SYNC"}
	var got []string
	for _, p := range ps {
		got = append(got, p.Var)
		if p.Fix == "" {
			t.Errorf("%s has no fix", p.Var)
		}
	}
	if diff := cmp.Diff(sorted(want), sorted(got)); diff != "" {
		t.Errorf("problems (-want +got):\n%s\n%v", diff, err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		environ []string
		want    []string // variables named in the problems
	}{
		{"missing credentials", []string{"EMAG_ACCOUNTS=main"}, []string{"EMAG_MAIN_USERNAME", "EMAG_MAIN_PASSWORD"}},
		{"complete", []string{"EMAG_ACCOUNTS=main", "EMAG_MAIN_USERNAME=u", "EMAG_MAIN_PASSWORD=p"}, nil},
		{"rate above eMAG's limit", []string{"EMAG_ACCOUNTS=main", "EMAG_MAIN_USERNAME=u", "EMAG_MAIN_PASSWORD=p",
			"EMAG_MAIN_ORDERS_RPS=13", "EMAG_MAIN_OTHER_RPS=3.5"}, []string{"EMAG_MAIN_ORDERS_RPS", "EMAG_MAIN_OTHER_RPS"}},
		{"any rate on a sandbox", []string{"EMAG_ACCOUNTS=main", "EMAG_MAIN_USERNAME=u", "EMAG_MAIN_PASSWORD=p",
			"EMAG_MAIN_API_URL=http://127.0.0.1:8099/api-3", "EMAG_MAIN_OTHER_RPS=1000"}, nil},
		{"production without JWT secret", []string{"MAGFLOW_ENV=production", "EMAG_ACCOUNTS=main", "EMAG_MAIN_USERNAME=u",
			"EMAG_MAIN_PASSWORD=p"}, []string{"MAGFLOW_JWT_SECRET"}},
		{"production with weak JWT secret", []string{"MAGFLOW_ENV=production", "MAGFLOW_JWT_SECRET=secretsecretsecretsecretsecret12",
			"EMAG_ACCOUNTS=main", "EMAG_MAIN_USERNAME=u", "EMAG_MAIN_PASSWORD=p"}, []string{"MAGFLOW_JWT_SECRET"}},
		{"production with strong JWT secret", []string{"MAGFLOW_ENV=production", "MAGFLOW_JWT_SECRET=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
			"EMAG_ACCOUNTS=main", "EMAG_MAIN_USERNAME=u", "EMAG_MAIN_PASSWORD=p"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tt.environ, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			err = c.Validate()
			var got []string
			var ps Problems
			if errors.As(err, &ps) {
				for _, p := range ps {
					got = append(got, p.Var)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDotEnvErrors(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"JUST_A_KEY\n", "A=\"unterminated\n", "BAD KEY=1\n"} {
		_, err := load(t, nil, bad, nil)
		if err == nil || !strings.Contains(err.Error(), "line 1") {
			t.Errorf("%q: err = %v, want a line number", bad, err)
		}
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	t.Parallel()
	const pw, jwt, dbpw, token = "hunter2-pw", "jwt-secret-value-123", "dbpass-xyz", "cb-token-777"
	c, err := load(t, []string{
		"EMAG_ACCOUNTS=main", "EMAG_MAIN_USERNAME=seller", "EMAG_MAIN_PASSWORD=" + pw,
		"MAGFLOW_JWT_SECRET=" + jwt, "DATABASE_URL=postgres://magflow:" + dbpw + "@db:5432/magflow",
		"EMAG_MAIN_CALLBACK_TOKEN=" + token,
	}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := c.Print(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, s := range []string{pw, jwt, dbpw, token} {
		if strings.Contains(out, s) {
			t.Errorf("config output leaks %q:\n%s", s, out)
		}
	}
	for _, s := range []string{"seller", "********", "postgres://magflow:********@db:5432/magflow"} {
		if !strings.Contains(out, s) {
			t.Errorf("config output lacks %q:\n%s", s, out)
		}
	}
	a, _ := c.Account("main")
	for _, formatted := range []string{a.Password.String(), fmtAll(a), fmtAll(c)} {
		if strings.Contains(formatted, pw) || strings.Contains(formatted, jwt) {
			t.Errorf("formatting leaks a secret: %s", formatted)
		}
	}
}

func sorted(s []string) []string { return slices.Sorted(slices.Values(s)) }

// TestEnvExampleDocumentsEveryVariable keeps .env.example complete: every
// variable the configuration reads appears in it.
func TestEnvExampleDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	example, err := os.ReadFile("../../.env.example")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("config.go")
	if err != nil {
		t.Fatal(err)
	}
	vars := regexp.MustCompile(`"((?:MAGFLOW|EMAG|DATABASE)_[A-Z_]*)"`).FindAllStringSubmatch(string(src), -1)
	suffixes := regexp.MustCompile(`pre\+"([A-Z_]+)"`).FindAllStringSubmatch(string(src), -1)
	if len(vars) < 10 || len(suffixes) < 8 {
		t.Fatalf("found only %d variables and %d account suffixes in config.go", len(vars), len(suffixes))
	}
	for _, m := range vars {
		if m[1] == "EMAG_" || strings.HasSuffix(m[1], "_") {
			continue
		}
		if !strings.Contains(string(example), m[1]) {
			t.Errorf(".env.example does not document %s", m[1])
		}
	}
	for _, m := range suffixes {
		if !strings.Contains(string(example), "EMAG_MAIN_"+m[1]) {
			t.Errorf(".env.example does not document EMAG_<NAME>_%s", m[1])
		}
	}
}
