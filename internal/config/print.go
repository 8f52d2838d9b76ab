package config

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
)

// RedactURL hides the password of a URL such as a PostgreSQL DATABASE_URL.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "********")
	}
	return strings.Replace(u.String(), "%2A%2A%2A%2A%2A%2A%2A%2A", "********", 1)
}

// Print writes the effective configuration, every secret masked, as
// `magflow config` shows it.
func (c *Config) Print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k string, v any) { fmt.Fprintf(tw, "%s\t%v\n", k, v) }
	row("MAGFLOW_ENV", c.Env)
	row("DATABASE_URL", RedactURL(c.DatabaseURL))
	row("EMAG_ACCOUNTS", strings.Join(c.AccountNames(), ","))
	row("EMAG_SYNC_INTERVAL_MINUTES", int(c.SyncInterval.Minutes()))
	row("EMAG_ORDERS_SYNC_INTERVAL_MINUTES", int(c.OrdersSyncInterval.Minutes()))
	row("EMAG_ENABLE_SCHEDULED_SYNC", c.EnableScheduledSync)
	row("EMAG_ORDERS_BACKFILL_DAYS", int(c.OrdersBackfill.Hours()/24))
	row("MAGFLOW_HTTP_ADDR", c.HTTPAddr)
	row("MAGFLOW_JWT_SECRET", orUnset(c.JWTSecret.String()))
	row("MAGFLOW_CORS_ORIGINS", strings.Join(c.CORSOrigins, ","))
	row("MAGFLOW_LOG_LEVEL", c.LogLevel)
	row("MAGFLOW_LOG_FORMAT", c.LogFormat)
	for _, a := range c.Accounts {
		pre := "EMAG_" + strings.ToUpper(a.Name) + "_"
		row(pre+"PLATFORM", a.Platform.Code+" ("+a.Platform.Currency+")")
		row(pre+"API_URL", RedactURL(a.BaseURL))
		row(pre+"USERNAME", orUnset(a.Username))
		row(pre+"PASSWORD", orUnset(a.Password.String()))
		row(pre+"ORDERS_RPS", a.OrdersRPS)
		row(pre+"OTHER_RPS", a.OtherRPS)
		row(pre+"MAX_PAGES", a.MaxPages)
		row(pre+"DELAY", a.Delay.Seconds())
		row(pre+"CALLBACK_TOKEN", orUnset(a.CallbackToken.String()))
		row(pre+"AUTO_ACK", a.AutoAck)
	}
	return tw.Flush()
}

func orUnset(s string) string {
	if s == "" {
		return "(not set)"
	}
	return s
}
