package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow/internal/httpapi"
	"github.com/magflow/magflow/internal/sqldb"
)

// TestAccounts reads the configured accounts: any logged-in user gets them
// in precedence order with their platform and limits, never a credential;
// without a token, nothing. The endpoint reads no table, so one engine is
// enough.
func TestAccounts(t *testing.T) {
	t.Parallel()
	e := setup(t, sqldb.SQLite, setupOptions{})
	view := e.login("view", viewerPassword).AccessToken
	op := e.login("op", operatorPassword).AccessToken
	const path = "/api/v1/emag/enhanced/accounts"

	want := []httpapi.AccountInfo{
		{Name: "main", Platform: "emag.ro", Currency: "RON", OrdersRPS: 1000, OtherRPS: 1000, BaseURLIsOfficial: false},
		{Name: "fbe", Platform: "emag.ro", Currency: "RON", OrdersRPS: 1000, OtherRPS: 1000, BaseURLIsOfficial: false},
	}
	for _, tok := range []struct{ who, token string }{{"viewer", view}, {"operator", op}} {
		r := e.do("GET", path, tok.token, nil)
		if r.status != 200 || r.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: GET accounts = %d %v %s", tok.who, r.status, r.header, r.body)
		}
		var got struct {
			Accounts []httpapi.AccountInfo `json:"accounts"`
		}
		r.json(t, &got)
		if diff := cmp.Diff(want, got.Accounts); diff != "" {
			t.Errorf("%s: accounts (-want +got):\n%s", tok.who, diff)
		}
		var raw map[string][]map[string]any
		r.json(t, &raw)
		keys := []string{}
		for k := range raw["accounts"][0] {
			keys = append(keys, k)
		}
		if len(keys) != 6 {
			t.Errorf("an account has fields %v, want exactly name, platform, currency, orders_rps, other_rps, base_url_is_official", keys)
		}
		for _, a := range e.cfg.Accounts {
			for _, secret := range []string{a.Username, a.Password.Reveal(), a.CallbackToken.Reveal(), a.BaseURL} {
				if strings.Contains(string(r.body), secret) {
					t.Errorf("%s: the accounts answer carries %q of account %s: %s", tok.who, secret, a.Name, r.body)
				}
			}
		}
	}

	for _, c := range []struct{ name, token, contains string }{
		{"no token", "", "authentication required"},
		{"bad token", "not-a-token", "invalid token"},
	} {
		if r := e.do("GET", path, c.token, nil); r.status != 401 || !strings.Contains(string(r.body), c.contains) || strings.Contains(string(r.body), "main") {
			t.Errorf("%s: GET accounts = %d %s", c.name, r.status, r.body)
		}
	}

	// The OpenAPI document describes it, behind the bearer token.
	var spec struct {
		Paths map[string]map[string]struct {
			OperationID string                `json:"operationId"`
			Security    []map[string][]string `json:"security"`
			Responses   map[string]any        `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	e.do("GET", "/openapi.json", view, nil).json(t, &spec)
	op0, ok := spec.Paths[path]["get"]
	if !ok || op0.OperationID != "listAccounts" || len(op0.Security) != 1 || op0.Security[0]["bearer"] == nil ||
		op0.Responses["200"] == nil || op0.Responses["401"] == nil {
		t.Errorf("the OpenAPI document describes GET %s as %+v", path, op0)
	}
	props := spec.Components.Schemas["AccountInfo"].Properties
	for _, f := range []string{"name", "platform", "currency", "orders_rps", "other_rps", "base_url_is_official"} {
		if props[f] == nil {
			t.Errorf("the AccountInfo schema lacks %s: %v", f, props)
		}
	}
}
