package httpapi

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// AccountInfo is what the API tells of a configured eMAG account: its
// platform and request budgets, never a credential, user name or URL.
type AccountInfo struct {
	Name     string `json:"name" example:"main" doc:"The account's name, as in EMAG_ACCOUNTS."`
	Platform string `json:"platform" example:"emag.ro" doc:"The eMAG platform: emag.ro, emag.bg, emag.hu, fashiondays.ro or fashiondays.bg."`
	Currency string `json:"currency" example:"RON" doc:"The platform's currency."`
	// OrdersRPS and OtherRPS are the per-second request budgets of the
	// order routes and of every other route (the catalogue scan).
	OrdersRPS float64 `json:"orders_rps" example:"12" doc:"Requests per second allowed on the order routes."`
	OtherRPS  float64 `json:"other_rps" example:"3" doc:"Requests per second allowed on every other route (the catalogue scan)."`
	// BaseURLIsOfficial tells whether the account talks to eMAG itself,
	// where eMAG's published limits bind, rather than to a sandbox or proxy.
	BaseURLIsOfficial bool `json:"base_url_is_official" doc:"Whether the account talks to eMAG's own API (not a sandbox or proxy)."`
}

// AccountsOutput answers GET .../accounts.
type AccountsOutput struct {
	CacheControl string `header:"Cache-Control"`
	Body         struct {
		Accounts []AccountInfo `json:"accounts" doc:"In precedence order: the first account wins SKU de-duplication."`
	}
}

func (s *Server) registerAccounts() {
	huma.Register(s.api, huma.Operation{
		OperationID: "listAccounts", Method: http.MethodGet, Path: basePath + "/accounts", Tags: []string{"Accounts"},
		Summary: "List the configured accounts",
		Description: "The eMAG accounts this server syncs, in precedence order, with their platform, currency and request budgets. " +
			"Credentials, user names and API URLs are never reported.",
		Security: bearerAuth, Errors: []int{401, 429},
	}, func(context.Context, *struct{}) (*AccountsOutput, error) {
		out := &AccountsOutput{CacheControl: "no-store"}
		out.Body.Accounts = make([]AccountInfo, len(s.opts.Accounts))
		copy(out.Body.Accounts, s.opts.Accounts)
		return out, nil
	})
}
