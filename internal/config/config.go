// Package config builds MagFlow's one Config value from the environment, a
// .env file and command-line settings, and validates it in one place. There
// are no globals: the composition root passes the value down.
package config

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// Environments, each with its own defaults.
const (
	EnvDevelopment = "development"
	EnvTesting     = "testing"
	EnvProduction  = "production"
)

// Secret is a string that never prints: fmt, logs and JSON see it masked.
type Secret string

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "********"
}

// GoString masks the secret for %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText masks the secret in JSON and other encodings.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Reveal returns the secret itself, for the one place that sends it.
func (s Secret) Reveal() string { return string(s) }

// Account is the configuration of one eMAG seller account.
type Account struct {
	Name     string // lower case, as in EMAG_ACCOUNTS
	Platform magflow.Platform
	BaseURL  string // the platform's, or EMAG_<NAME>_API_URL
	Username string
	Password Secret
	// OrdersRPS and OtherRPS are the per-second budgets of the two buckets.
	OrdersRPS float64
	OtherRPS  float64
	// MaxPages caps a product scan; 0 means no cap.
	MaxPages int
	// Delay is an optional minimum spacing between this account's requests.
	Delay time.Duration
	// CallbackToken protects the order callback URL registered in eMAG.
	CallbackToken Secret
	// AutoAck acknowledges new orders automatically once stored
	// (EMAG_<NAME>_AUTO_ACK, default true).
	AutoAck bool
}

// Domain returns the account as the domain knows it.
func (a Account) Domain() magflow.Account {
	return magflow.Account{Name: a.Name, Platform: a.Platform}
}

// Official reports whether the account talks to eMAG itself (not a sandbox
// or proxy), where the published rate limits bind.
func (a Account) Official() bool { return magflow.IsOfficialHost(a.BaseURL) }

// Config is everything MagFlow reads from its environment.
type Config struct {
	Env                 string
	Accounts            []Account // in precedence order: the first wins SKU de-duplication
	DatabaseURL         string
	SyncInterval        time.Duration
	OrdersSyncInterval  time.Duration
	EnableScheduledSync bool
	// OrdersBackfill is how far back the first order sync reaches.
	OrdersBackfill time.Duration
	HTTPAddr       string
	JWTSecret      Secret
	CORSOrigins    []string
	LogLevel       string
	LogFormat      string // text or json
}

// Account returns the named account.
func (c *Config) Account(name string) (Account, bool) {
	for _, a := range c.Accounts {
		if a.Name == name {
			return a, true
		}
	}
	return Account{}, false
}

// AccountNames returns the account names in precedence order.
func (c *Config) AccountNames() []string {
	names := make([]string, len(c.Accounts))
	for i, a := range c.Accounts {
		names[i] = a.Name
	}
	return names
}

// Sources are where settings come from, lowest precedence first: the process
// environment, then the .env file, then flags (--set KEY=VALUE and the
// dedicated flags), which win.
type Sources struct {
	Environ []string          // os.Environ() form
	EnvFile string            // path of the .env file; a missing file is fine
	Flags   map[string]string // KEY => value
}

// FromOS returns the sources of a real process: its environment and ./.env.
func FromOS(envFile string, flags map[string]string) Sources {
	return Sources{Environ: os.Environ(), EnvFile: cmp.Or(envFile, ".env"), Flags: flags}
}

// Problems is every problem found in a configuration, reported at once.
type Problems []Problem

// Problem is one configuration problem: the variable, what is wrong, the fix.
type Problem struct {
	Var string
	Msg string
	Fix string
}

func (p Problem) String() string {
	s := p.Var + ": " + p.Msg
	if p.Fix != "" {
		s += " (" + p.Fix + ")"
	}
	return s
}

// Error lists every problem, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = "  - " + p.String()
	}
	return fmt.Sprintf("invalid configuration (%d problem(s)):\n%s", len(ps), strings.Join(lines, "\n"))
}

var accountNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// Load reads the sources and parses every setting. It reports malformed
// values (all of them at once) but does not check completeness: call
// Validate once overrides such as the sandbox are applied.
func Load(src Sources) (*Config, error) {
	vars, err := merge(src)
	if err != nil {
		return nil, err
	}
	p := parser{vars: vars}
	c := &Config{}
	c.Env = strings.ToLower(p.str("MAGFLOW_ENV", EnvDevelopment))
	switch c.Env {
	case EnvDevelopment, EnvTesting, EnvProduction:
	default:
		p.fail("MAGFLOW_ENV", fmt.Sprintf("unknown environment %q", c.Env), "use testing, development or production")
		c.Env = EnvDevelopment
	}
	d := defaultsFor(c.Env)

	c.DatabaseURL = p.str("DATABASE_URL", d.databaseURL)
	c.SyncInterval = time.Duration(p.intIn("EMAG_SYNC_INTERVAL_MINUTES", 60, 1, 7*24*60)) * time.Minute
	c.OrdersSyncInterval = time.Duration(p.intIn("EMAG_ORDERS_SYNC_INTERVAL_MINUTES", 5, 1, 7*24*60)) * time.Minute
	c.EnableScheduledSync = p.boolean("EMAG_ENABLE_SCHEDULED_SYNC", false)
	c.OrdersBackfill = time.Duration(p.intIn("EMAG_ORDERS_BACKFILL_DAYS", 90, 1, 3650)) * 24 * time.Hour
	c.HTTPAddr = p.str("MAGFLOW_HTTP_ADDR", "127.0.0.1:8080")
	c.JWTSecret = Secret(p.str("MAGFLOW_JWT_SECRET", ""))
	c.CORSOrigins = p.list("MAGFLOW_CORS_ORIGINS")
	c.LogLevel = strings.ToLower(p.str("MAGFLOW_LOG_LEVEL", d.logLevel))
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.LogLevel) {
		p.fail("MAGFLOW_LOG_LEVEL", fmt.Sprintf("unknown level %q", c.LogLevel), "use debug, info, warn or error")
	}
	c.LogFormat = strings.ToLower(p.str("MAGFLOW_LOG_FORMAT", d.logFormat))
	if c.LogFormat != "text" && c.LogFormat != "json" {
		p.fail("MAGFLOW_LOG_FORMAT", fmt.Sprintf("unknown format %q", c.LogFormat), "use text or json")
	}

	names := p.list("EMAG_ACCOUNTS")
	if _, set := vars["EMAG_ACCOUNTS"]; !set {
		names = []string{"main", "fbe"}
	}
	if len(names) == 0 {
		p.fail("EMAG_ACCOUNTS", "no account listed", "list at least one account, e.g. EMAG_ACCOUNTS=main,fbe")
	}
	seen := map[string]bool{}
	for _, raw := range names {
		name := strings.ToLower(raw)
		if !accountNameRE.MatchString(name) {
			p.fail("EMAG_ACCOUNTS", fmt.Sprintf("account name %q is not valid", raw), "use letters, digits and _ starting with a letter, e.g. main")
			continue
		}
		if seen[name] {
			p.fail("EMAG_ACCOUNTS", fmt.Sprintf("account %q is listed twice", name), "list each account once")
			continue
		}
		seen[name] = true
		c.Accounts = append(c.Accounts, p.account(name))
	}
	if len(p.problems) > 0 {
		return c, p.problems
	}
	return c, nil
}

func (p *parser) account(name string) Account {
	pre := "EMAG_" + strings.ToUpper(name) + "_"
	a := Account{Name: name}
	code := strings.ToLower(p.str(pre+"PLATFORM", "emag.ro"))
	plat, ok := magflow.Platforms[code]
	if !ok {
		p.fail(pre+"PLATFORM", fmt.Sprintf("unknown platform %q", code), "use emag.ro, emag.bg, emag.hu, fashiondays.ro or fashiondays.bg")
		plat = magflow.Platforms["emag.ro"]
	}
	a.Platform = plat
	a.BaseURL = strings.TrimRight(p.str(pre+"API_URL", plat.BaseURL), "/")
	if u, err := url.Parse(a.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.fail(pre+"API_URL", fmt.Sprintf("%q is not an http(s) URL", a.BaseURL), "use a full URL such as https://marketplace-api.emag.ro/api-3")
	}
	a.Username = p.str(pre+"USERNAME", "")
	a.Password = Secret(p.str(pre+"PASSWORD", ""))
	a.OrdersRPS = p.float(pre+"ORDERS_RPS", magflow.OrdersRPS)
	a.OtherRPS = p.float(pre+"OTHER_RPS", magflow.OtherRPS)
	a.MaxPages = p.intIn(pre+"MAX_PAGES", 100, 0, 1_000_000)
	delay := p.float(pre+"DELAY", 0)
	if delay < 0 || delay > 60 {
		p.fail(pre+"DELAY", fmt.Sprintf("%v seconds is out of range", delay), "use 0 (the rate limiter paces) up to 60 seconds")
		delay = 0
	}
	a.Delay = time.Duration(delay * float64(time.Second))
	a.CallbackToken = Secret(p.str(pre+"CALLBACK_TOKEN", ""))
	a.AutoAck = p.boolean(pre+"AUTO_ACK", true)
	return a
}

// Validate checks that the configuration is complete and safe: credentials
// for every account, rates within eMAG's published limits on eMAG's own
// hosts, and, in production, no insecure defaults. It reports every problem.
func (c *Config) Validate() error {
	var ps Problems
	add := func(v, msg, fix string) { ps = append(ps, Problem{Var: v, Msg: msg, Fix: fix}) }
	for _, a := range c.Accounts {
		pre := "EMAG_" + strings.ToUpper(a.Name) + "_"
		if a.Username == "" {
			add(pre+"USERNAME", "not set", "set the API user of the "+a.Name+" account, or remove "+a.Name+" from EMAG_ACCOUNTS")
		}
		if a.Password == "" {
			add(pre+"PASSWORD", "not set", "set the API password of the "+a.Name+" account")
		}
		if a.OrdersRPS <= 0 {
			add(pre+"ORDERS_RPS", "must be above 0", "use a rate up to 12")
		}
		if a.OtherRPS <= 0 {
			add(pre+"OTHER_RPS", "must be above 0", "use a rate up to 3")
		}
		if a.Official() {
			if a.OrdersRPS > magflow.OrdersRPS {
				add(pre+"ORDERS_RPS", fmt.Sprintf("%g requests/s is above eMAG's limit of %d", a.OrdersRPS, magflow.OrdersRPS), "use 12 or less; eMAG answers 429 above it")
			}
			if a.OtherRPS > magflow.OtherRPS {
				add(pre+"OTHER_RPS", fmt.Sprintf("%g requests/s is above eMAG's limit of %d", a.OtherRPS, magflow.OtherRPS), "use 3 or less; eMAG answers 429 above it")
			}
		}
	}
	if c.Env == EnvProduction {
		switch {
		case c.JWTSecret == "":
			add("MAGFLOW_JWT_SECRET", "not set in production", "set a random secret of at least 32 characters, e.g. `openssl rand -hex 32`")
		case len(c.JWTSecret) < 32 || weakSecret(c.JWTSecret.Reveal()):
			add("MAGFLOW_JWT_SECRET", "too weak for production", "use a random secret of at least 32 characters, e.g. `openssl rand -hex 32`")
		}
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

func weakSecret(s string) bool {
	lower := strings.ToLower(s)
	for _, w := range []string{"secret", "changeme", "password", "magflow", "example"} {
		if strings.Contains(lower, w) {
			return true
		}
	}
	distinct := map[rune]bool{}
	for _, r := range s {
		distinct[r] = true
	}
	return len(distinct) < 8
}

// IsPostgres reports whether url selects PostgreSQL.
func IsPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

type envDefaults struct {
	databaseURL string
	logLevel    string
	logFormat   string
}

func defaultsFor(env string) envDefaults {
	switch env {
	case EnvTesting:
		return envDefaults{databaseURL: "magflow-test.db", logLevel: "warn", logFormat: "text"}
	case EnvProduction:
		return envDefaults{databaseURL: "magflow.db", logLevel: "info", logFormat: "json"}
	}
	return envDefaults{databaseURL: "magflow.db", logLevel: "info", logFormat: "text"}
}

// merge layers the sources: environment, then .env, then flags.
func merge(src Sources) (map[string]string, error) {
	vars := map[string]string{}
	for _, kv := range src.Environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	if src.EnvFile != "" {
		fileVars, err := ReadDotEnv(src.EnvFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		for k, v := range fileVars {
			vars[k] = v
		}
	}
	for k, v := range src.Flags {
		vars[k] = v
	}
	return vars, nil
}

type parser struct {
	vars     map[string]string
	problems Problems
}

func (p *parser) fail(v, msg, fix string) {
	p.problems = append(p.problems, Problem{Var: v, Msg: msg, Fix: fix})
}

func (p *parser) str(key, def string) string {
	if v, ok := p.vars[key]; ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return def
}

func (p *parser) list(key string) []string {
	var out []string
	for _, s := range strings.Split(p.vars[key], ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) intIn(key string, def, lo, hi int) int {
	raw := p.str(key, "")
	if raw == "" {
		return def
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		p.fail(key, fmt.Sprintf("%q is not a whole number", raw), fmt.Sprintf("use a number from %d to %d", lo, hi))
		return def
	}
	if n < lo || n > hi {
		p.fail(key, fmt.Sprintf("%d is out of range", n), fmt.Sprintf("use a number from %d to %d", lo, hi))
		return def
	}
	return n
}

func (p *parser) float(key string, def float64) float64 {
	raw := p.str(key, "")
	if raw == "" {
		return def
	}
	f, err := strconv.ParseFloat(raw, 64)
	if err != nil {
		p.fail(key, fmt.Sprintf("%q is not a number", raw), "use a number such as 3 or 0.5")
		return def
	}
	return f
}

func (p *parser) boolean(key string, def bool) bool {
	raw := strings.ToLower(p.str(key, ""))
	switch raw {
	case "":
		return def
	case "1", "true", "yes", "on":
		return true
	case "0", "false", "no", "off":
		return false
	}
	p.fail(key, fmt.Sprintf("%q is not a boolean", raw), "use true or false")
	return def
}
