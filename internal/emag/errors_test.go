package emag

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/magflow/magflow"
)

func htmlAnswer(status int, body []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		w.Write(body)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestErrorClassification(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		handler  http.HandlerFunc
		kind     Kind
		sentinel error
		code     string
		status   int
		alert    bool
		remedy   string
		message  string
	}{
		{"captcha page on HTTP 200", htmlAnswer(200, fixture(t, "captcha_200.html")), KindNonJSON, ErrNonJSON, magflow.EUnavailable, 200, true, "HTML page", "eMAG Captcha"},
		{"IP not whitelisted", jsonAnswer(200, fixture(t, "ip_not_whitelisted.json")), KindIPNotWhitelisted, ErrIPNotWhitelisted, magflow.EForbidden, 200, true, "whitelist IP 188.214.106.10", "Invalid vendor ip"},
		{"wrong password (403)", jsonAnswer(403, fixture(t, "auth_403.json")), KindAuth, ErrAuth, magflow.EUnauthorized, 403, true, "check the username and password", "You are not allowed"},
		{"business error", jsonAnswer(200, fixture(t, "rma_save_error.json")), KindAPI, ErrAPI, magflow.EInvalid, 200, false, "fix what eMAG", "please provide the customer name"},
		{"max input vars", jsonAnswer(200, fixture(t, "max_input_vars.json")), KindAPI, ErrAPI, magflow.EInvalid, 200, false, "", "Maximum input vars of 4000 exceeded"},
		{"no isError key", jsonAnswer(200, fixture(t, "no_iserror.json")), KindDecode, ErrDecode, magflow.EInternal, 200, false, "", ""},
		{"HTML 403 from a firewall", htmlAnswer(403, fixture(t, "captcha_200.html")), KindNonJSON, ErrNonJSON, magflow.EUnavailable, 403, true, "", "eMAG Captcha"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ev events
			logs := &syncBuffer{}
			c, _ := newFake(t, map[string]http.HandlerFunc{"/api-3/vat/read": tc.handler}, func(o *Options) {
				o.Hooks = ev.hooks()
				o.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			_, err := c.ReadVAT(bg)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v", err)
			}
			if e.Kind != tc.kind || !errors.Is(err, tc.sentinel) || e.Code() != tc.code || magflow.ErrorCode(err) != tc.code || e.Status != tc.status {
				t.Errorf("kind %s code %s status %d; err %v", e.Kind, e.Code(), e.Status, err)
			}
			if e.Account != "main" || e.Route != "vat/read" || e.Attempts != 1 {
				t.Errorf("account %q route %q attempts %d", e.Account, e.Route, e.Attempts)
			}
			if !strings.Contains(e.Remedy(), tc.remedy) {
				t.Errorf("remedy %q lacks %q", e.Remedy(), tc.remedy)
			}
			if !strings.Contains(err.Error(), tc.message) {
				t.Errorf("error %q lacks %q", err, tc.message)
			}
			if got := len(ev.alerts) > 0; got != tc.alert {
				t.Errorf("alerted = %v, want %v", got, tc.alert)
			}
			if tc.alert && (!strings.Contains(logs.String(), `"msg":"emag alert"`) || ev.alerts[0].Kind != tc.kind || ev.alerts[0].Remedy == "") {
				t.Errorf("alert not logged: %s %+v", logs.String(), ev.alerts)
			}
		})
	}
}

func TestProductOfferSaveErrorMayBeApplied(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, map[string]http.HandlerFunc{"/api-3/product_offer/save": jsonAnswer(200, fixture(t, "product_offer_save_doc_error.json"))})
	sale, lo, hi := dec("82.6446"), dec("50"), dec("200")
	one, vat := 24, 1
	_, err := c.SaveProductOffers(bg, []ProductOfferSave{{ID: 1001, CategoryID: 1315, PartNumber: "ABC 1001", Name: "Lampa", Brand: "Acme",
		Status: 1, SalePrice: &sale, MinSalePrice: &lo, MaxSalePrice: &hi, VatID: vat, Warranty: &one, EAN: []string{"5941234567890"},
		Stock: []WarehouseValue{{1, 12}}, HandlingTime: []WarehouseValue{{1, 1}}, SupplyLeadTime: 14,
		Manufacturer: []GPSREntity{{Name: "Acme SRL", Address: "Str. X 1", Email: "gpsr@acme.invalid"}}, GreenTax: &lo}})
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindAPI || !e.MaybeApplied() || !strings.Contains(e.Remedy(), "read the entity back") {
		t.Fatalf("err = %v", err)
	}
	var sent []map[string]any
	if err := jsonUnmarshal(f.requests()[0].Body, &sent); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"id": 1001.0, "category_id": 1315.0, "part_number": "ABC 1001", "name": "Lampa", "brand": "Acme", "status": 1.0,
		"sale_price": 82.6446, "min_sale_price": 50.0, "max_sale_price": 200.0, "vat_id": 1.0, "warranty": 24.0, "ean": []any{"5941234567890"},
		"stock": []any{map[string]any{"warehouse_id": 1.0, "value": 12.0}}, "handling_time": []any{map[string]any{"warehouse_id": 1.0, "value": 1.0}},
		"supply_lead_time": 14.0, "manufacturer": []any{map[string]any{"name": "Acme SRL", "address": "Str. X 1", "email": "gpsr@acme.invalid"}}, "green_tax": 50.0}
	if diff := cmp.Diff([]map[string]any{want}, sent); diff != "" {
		t.Errorf("save body (-want +got):\n%s", diff)
	}
}

func TestLightOfferSavePartial(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, map[string]http.HandlerFunc{"/api-3/offer/save": jsonAnswer(200, fixture(t, "light_offer_save_partial.json"))}, func(o *Options) { o.WrapData = true })
	price := dec("79.9")
	one := 1
	res, err := c.SaveOffers(bg, []OfferUpdate{{ID: 1001, SalePrice: &price, Stock: []WarehouseValue{{1, 25}}, Status: &one}, {ID: 1002}, {ID: 1003}})
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrPartial) || e.Code() != magflow.EInvalid {
		t.Fatalf("err = %v", err)
	}
	wantItems := []ItemError{
		{ID: 1002, Index: -1, Messages: []string{"Stock should be 0 or more"}},
		{ID: 1003, Index: -1, Messages: []string{"The stock field is mandatory. Its value must be a whole (integer) number. Decimals are not allowed. (ex: 5)"}},
	}
	if diff := cmp.Diff(wantItems, e.Items); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	if len(res.Items) != 3 || res.Items[1001].IsError || res.Items[1001].Messages[0] != "Offer 1001 updated successfully" {
		t.Errorf("result = %+v", res)
	}
	if got := string(f.requests()[0].Body); got != `{"data":[{"id":1001,"sale_price":79.9,"stock":[{"warehouse_id":1,"value":25}],"status":1},{"id":1002},{"id":1003}]}` {
		t.Errorf("body = %s", got)
	}
}

func TestUpdateOfferStockStatuses(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, map[string]http.HandlerFunc{
		"/api-3/offer_stock/1001": func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) },
		"/api-3/offer_stock/1002": jsonAnswer(400, fixture(t, "offer_stock_400_validation.json")),
		"/api-3/offer_stock/1003": jsonAnswer(400, fixture(t, "offer_stock_400_invalid.json")),
		"/api-3/offer_stock/1004": jsonAnswer(404, fixture(t, "offer_stock_404.json")),
		"/api-3/offer_stock/1005": jsonAnswer(403, fixture(t, "auth_403.json")),
	})
	if err := c.UpdateOfferStock(bg, 1001, 21); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.Method != http.MethodPatch || string(r.Body) != `{"stock":21}` || r.ContentType != "application/json" {
		t.Errorf("request = %+v %s", r, r.Body)
	}
	check := func(id int64, kind Kind, code, field, msg string) {
		t.Helper()
		err := c.UpdateOfferStock(bg, id, 1)
		var e *Error
		if !errors.As(err, &e) || e.Kind != kind || e.Code() != code || !strings.Contains(err.Error(), msg) {
			t.Fatalf("offer %d: err = %v", id, err)
		}
		if field != "" && (len(e.Items) != 1 || e.Items[0].Field != field) {
			t.Errorf("offer %d: items = %+v", id, e.Items)
		}
	}
	check(1002, KindAPI, magflow.EInvalid, "stock", "active campaign BF")
	check(1003, KindAPI, magflow.EInvalid, "", "Invalid content")
	check(1004, KindNotFound, magflow.ENotFound, "", "This offer does not exist")
	check(1005, KindAuth, magflow.EUnauthorized, "", "You are not allowed")
	check(1006, KindNotFound, magflow.ENotFound, "", "Invalid URL")
}

// TestCredentialsNeverLeak drives every failure path against a server that
// echoes the Authorization header (and the password it decodes) back in
// its bodies, and checks errors, logs and alerts.
func TestCredentialsNeverLeak(t *testing.T) {
	t.Parallel()
	echo := func(status int, ctype, format string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			auth := r.Header.Get("Authorization")
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(auth, "Basic "))
			w.Header().Set("Content-Type", ctype)
			w.WriteHeader(status)
			io.WriteString(w, strings.NewReplacer("AUTH", auth, "PASS", string(raw)).Replace(format))
		}
	}
	logs := &syncBuffer{}
	var ev events
	c, f := newFake(t, map[string]http.HandlerFunc{
		"/api-3/vat/read":              echo(200, "text/html", `<html><title>Denied AUTH PASS</title></html>`),
		"/api-3/handling_time/read":    echo(200, "application/json", `{"isError":true,"messages":["bad AUTH PASS"]}`),
		"/api-3/courier_accounts/read": echo(502, "text/plain", `upstream said AUTH PASS`),
		"/api-3/addresses/read":        echo(403, "application/json", `{"isError":true,"messages":["You are not allowed to use this API. AUTH PASS"]}`),
		"/api-3/offer_stock/7":         echo(400, "application/json", `{"message":"Validation errors","errors":[{"message":"PASS","field":"AUTH"}]}`),
	}, func(o *Options) {
		o.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		o.Hooks = ev.hooks()
		o.Retry.MaxAttempts = 2
	})
	var errs []error
	_, err := c.ReadVAT(bg)
	errs = append(errs, err)
	_, err = c.ReadHandlingTimes(bg)
	errs = append(errs, err)
	_, err = c.ReadCourierAccounts(bg)
	errs = append(errs, err)
	_, err = c.ReadAddresses(bg)
	errs = append(errs, err)
	errs = append(errs, c.UpdateOfferStock(bg, 7, 1))
	token := base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPassword))
	if !strings.Contains(f.requests()[0].Auth, token) {
		t.Fatal("the server did not receive the credentials; the test proves nothing")
	}
	var all strings.Builder
	for _, err := range errs {
		if err == nil {
			t.Fatal("expected an error")
		}
		var e *Error
		errors.As(err, &e)
		all.WriteString(err.Error() + "\n" + e.Remedy() + "\n" + magflow.ErrorMessage(err) + "\n")
		for _, it := range e.Items {
			all.WriteString(strings.Join(it.Messages, " ") + it.Field + "\n")
		}
	}
	all.WriteString(logs.String())
	for _, a := range ev.alerts {
		all.WriteString(a.Message + a.Remedy)
	}
	for _, secret := range []string{testPassword, token} {
		if strings.Contains(all.String(), secret) {
			t.Errorf("secret %q leaked:\n%s", secret, all.String())
		}
	}
	if !strings.Contains(all.String(), "[REDACTED]") {
		t.Error("nothing was redacted; the echo did not reach the error text")
	}
}

func TestNewValidatesOptions(t *testing.T) {
	t.Parallel()
	_, err := New(Options{Account: "fbe", BaseURL: "https://user:" + testPassword + "@marketplace-api.emag.ro/api-3", Username: "u", Password: testPassword, MinSpacing: -1})
	if err == nil || !strings.Contains(err.Error(), "BaseURL") || !strings.Contains(err.Error(), "MinSpacing") || strings.Contains(err.Error(), testPassword) {
		t.Errorf("err = %v", err)
	}
	_, err = New(Options{BaseURL: "ftp://x"})
	for _, field := range []string{"Username", "Password", "BaseURL"} {
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("err = %v lacks %s", err, field)
		}
	}
}
