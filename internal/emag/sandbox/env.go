package sandbox

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Env returns the .env lines that point MagFlow at this sandbox: the
// account list, and each account's API URL and credentials (what
// `magflow sandbox` prints; the credentials are the sandbox's own).
func (s *Sandbox) Env() string {
	var b strings.Builder
	names := make([]string, 0, len(s.accounts))
	for _, a := range s.accounts {
		names = append(names, a.name)
	}
	fmt.Fprintf(&b, "EMAG_ACCOUNTS=%s\n", strings.Join(names, ","))
	for _, a := range s.Accounts() {
		pre := "EMAG_" + strings.ToUpper(a.Name) + "_"
		fmt.Fprintf(&b, "%sAPI_URL=%s\n%sUSERNAME=%s\n%sPASSWORD=%s\n", pre, a.BaseURL, pre, a.Username, pre, a.Password)
	}
	return b.String()
}

// ParseFaultRule parses a fault plan rule written as comma-separated
// key=value pairs, for command-line flags:
//
//	account=fbe,route=product_offer/read,page=3,kind=502,times=2,skip=0
//
// kind is required; the other keys are optional.
func ParseFaultRule(s string) (FaultRule, error) {
	var r FaultRule
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return r, fmt.Errorf("fault rule %q: %q is not key=value", s, part)
		}
		num := func() (int, error) {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return 0, fmt.Errorf("fault rule %q: %s must be a whole number", s, k)
			}
			return n, nil
		}
		var err error
		switch k {
		case "account":
			r.Account = v
		case "route":
			if routes[v] == nil {
				return r, fmt.Errorf("fault rule %q: unknown route %q", s, v)
			}
			r.Route = v
		case "page":
			r.Page, err = num()
		case "times":
			r.Times, err = num()
		case "skip":
			r.Skip, err = num()
		case "kind":
			r.Kind, err = ParseFaultKind(v)
		default:
			return r, fmt.Errorf("fault rule %q: unknown key %q (use account, route, page, kind, times, skip)", s, k)
		}
		if err != nil {
			return r, err
		}
	}
	if r.Kind == "" {
		return r, fmt.Errorf("fault rule %q: kind is required", s)
	}
	return r, nil
}

// Routes lists the route names a fault rule can target.
func Routes() []string {
	out := make([]string, 0, len(routes))
	for name := range routes {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
