package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestAuthAndRouting(t *testing.T) {
	t.Parallel()
	opts := small()
	opts.Accounts[1].AllowedIPs = []string{"10.0.0.0/8", "192.0.2.7"}
	s := newTestSandbox(t, opts)
	tests := []struct {
		name       string
		r          req
		wantStatus int
		wantBody   string // exact, when set
		wantSub    string // substring, when set
	}{
		{"no credentials", req{path: "/api-3/product_offer/read"}, 403, `{"isError":true,"messages":["You are not allowed to use this API."],"results":[]}`, ""},
		{"valid credentials", req{path: "/api-3/product_offer/read", account: "main"}, 200, "", `"isError":false`},
		{"unknown route", req{account: "main", path: "/api-3/nothing/here"}, 404, `{"message":"Invalid URL"}`, ""},
		{"wrong method", req{account: "main", method: "GET", path: "/api-3/product_offer/read"}, 404, `{"message":"Invalid URL"}`, ""},
		{"outside api-3", req{account: "main", path: "/product_offer/read"}, 404, `{"message":"Invalid URL"}`, ""},
		{"ip not allowed", req{account: "fbe", path: "/api-3/product_offer/read", remote: "203.0.113.9:5000"}, 200, `{"isError":true,"messages":["ERROR: Invalid vendor ip [203.0.113.9]"],"results":[]}`, ""},
		{"ip allowed by cidr", req{account: "fbe", path: "/api-3/product_offer/count", remote: "10.1.2.3:5000"}, 200, "", `"noOfItems":"150"`},
		{"ip allowed exactly", req{account: "fbe", path: "/api-3/vat/read", remote: "192.0.2.7:5000"}, 200, "", `"vat_id":1`},
		{"awb pdf at root", req{account: "main", method: "GET", path: "/awb/read_pdf?emag_id=1"}, 200, "", "AWB not found"},
		{"ack without id", req{account: "main", path: "/api-3/order/acknowledge/"}, 404, `{"message":"Invalid URL"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := serve(t, s, tt.r)
			if got.status != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", got.status, tt.wantStatus, got.body)
			}
			if tt.wantBody != "" && string(got.body) != tt.wantBody {
				t.Errorf("body %s, want %s", got.body, tt.wantBody)
			}
			if tt.wantSub != "" && !strings.Contains(string(got.body), tt.wantSub) {
				t.Errorf("body %s does not contain %s", got.body, tt.wantSub)
			}
		})
	}
	t.Run("bad password", func(t *testing.T) {
		t.Parallel()
		hr, _ := http.NewRequest("POST", "/api-3/vat/read", nil)
		hr.SetBasicAuth(s.Accounts()[0].Username, "not-it")
		w := &recorder{header: http.Header{}}
		s.Handler().ServeHTTP(w, hr)
		if w.status != 403 {
			t.Fatalf("status %d, want 403", w.status)
		}
		if strings.Contains(w.body.String(), s.Accounts()[0].Password) {
			t.Fatal("password leaked in the answer")
		}
	})
}

// TestEncodings sends the same read in the four encodings eMAG accepts.
func TestEncodings(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	want := idsOf(t, post(t, s, "product_offer/read", `{"currentPage":2,"itemsPerPage":3,"status":1}`))
	if len(want) != 3 {
		t.Fatalf("want 3 ids, got %v", want)
	}
	tests := []struct{ name, ctype, body string }{
		{"form with data[]", "application/x-www-form-urlencoded", "data[currentPage]=2&data[itemsPerPage]=3&data[status]=1"},
		{"form top level", "application/x-www-form-urlencoded", "currentPage=2&itemsPerPage=3&status=1"},
		{"json data wrapper", "application/json", `{"data":{"currentPage":2,"itemsPerPage":"3","status":"1"}}`},
		{"raw json", "application/json", `{"currentPage":"2","itemsPerPage":3,"status":[1]}`},
		{"json without content type", "text/plain", `{"currentPage":2,"itemsPerPage":3,"status":1}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := mustEnvelope(t, serve(t, s, req{account: "main", path: "/api-3/product_offer/read", ctype: tt.ctype, body: tt.body}))
			if diff := cmp.Diff(want, idsOf(t, e)); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("form save with nested lists", func(t *testing.T) {
		t.Parallel()
		id := want[0]
		v := url.Values{}
		v.Set("data[0][id]", strconv.FormatInt(id, 10))
		v.Set("data[0][sale_price]", "0")
		e := mustEnvelope(t, serve(t, s, req{account: "main", path: "/api-3/offer/save", ctype: "application/x-www-form-urlencoded", body: v.Encode()}))
		res := decode[map[string]struct {
			IsError  bool     `json:"isError"`
			Messages []string `json:"messages"`
		}](t, e.Results)
		if r := res[strconv.FormatInt(id, 10)]; !r.IsError {
			t.Errorf("sale_price 0 accepted: %+v", res)
		}
		v = url.Values{}
		v.Set("data[0][id]", strconv.FormatInt(id, 10))
		v.Set("data[0][stock][0][warehouse_id]", "1")
		v.Set("data[0][stock][0][value]", "77")
		e = mustEnvelope(t, serve(t, s, req{account: "main", path: "/api-3/offer/save", ctype: "application/x-www-form-urlencoded", body: v.Encode()}))
		if !strings.Contains(string(e.Results), "updated successfully") {
			t.Fatalf("form save: %s", e.Results)
		}
		rows := decode[[]map[string]any](t, mustOK(t, post(t, s, "product_offer/read", fmt.Sprintf(`{"id":%d}`, id))))
		if got := rows[0]["general_stock"]; got != 77.0 {
			t.Errorf("general_stock after form save = %v, want 77", got)
		}
	})
	t.Run("invalid json", func(t *testing.T) {
		t.Parallel()
		e := post(t, s, "product_offer/read", `{"currentPage":`)
		if !e.IsError {
			t.Fatal("broken JSON accepted")
		}
	})
	t.Run("too many input vars", func(t *testing.T) {
		t.Parallel()
		var b strings.Builder
		b.WriteString(`{"id":[`)
		for i := range 4001 {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(i + 1))
		}
		b.WriteString("]}")
		e := post(t, s, "product_offer/read", b.String())
		if !e.IsError || !hasMessage(e, "Maximum input vars of 4000 exceeded") {
			t.Fatalf("got %+v", e)
		}
	})
}

func idsOf(t *testing.T, e envelope) []int64 {
	t.Helper()
	rows := decode[[]struct {
		ID int64 `json:"id"`
	}](t, mustOK(t, e))
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	return ids
}

// TestProductQuirks checks the real-world shapes of §4.1.2.
func TestProductQuirks(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	var rows []map[string]json.RawMessage
	for page := 1; ; page++ {
		r := decode[[]map[string]json.RawMessage](t, mustOK(t, post(t, s, "product_offer/read", fmt.Sprintf(`{"currentPage":%d,"itemsPerPage":100}`, page))))
		if len(r) == 0 {
			break
		}
		rows = append(rows, r...)
	}
	if len(rows) != 250 {
		t.Fatalf("read %d products, want 250", len(rows))
	}
	seen := map[string]bool{}
	for _, r := range rows {
		kind := func(k string) byte {
			v, ok := r[k]
			if !ok {
				t.Fatalf("field %s missing", k)
			}
			return v[0]
		}
		for _, k := range []string{"sale_price", "min_sale_price", "max_sale_price", "green_tax", "best_offer_sale_price"} {
			if kind(k) != '"' {
				t.Fatalf("%s is not a string: %s", k, r[k])
			}
		}
		if c := kind("ownership"); c != 't' && c != 'f' {
			t.Fatalf("ownership is not a boolean: %s", r["ownership"])
		}
		if kind("offer_validation_status") != '{' || kind("validation_status") != '[' {
			t.Fatal("validation statuses have the wrong shapes")
		}
		if c := kind("manufacturer"); c != 't' && c != 'f' {
			t.Fatalf("unfiltered manufacturer is not a boolean: %s", r["manufacturer"])
		}
		if kind("offer_details") != '{' || !strings.Contains(string(r["offer_details"]), `"supply_lead_time"`) {
			t.Fatal("offer_details lacks supply_lead_time")
		}
		seen["family:"+string(kind("family"))] = true
		seen["recommended:"+string(kind("recommended_price"))] = true
		seen["rank:"+string(kind("buy_button_rank"))] = true
		var ean []string
		_ = json.Unmarshal(r["ean"], &ean)
		for _, e := range ean {
			if len(e) != 13 || eanCheckDigit(e[:12]) != e[12] {
				t.Fatalf("EAN %s has a bad check digit", e)
			}
		}
		var stock []wv
		_ = json.Unmarshal(r["stock"], &stock)
		sum := 0
		for _, w := range stock {
			sum += w.Value
		}
		if string(r["general_stock"]) != strconv.Itoa(sum) {
			t.Fatalf("general_stock %s is not the sum of %v", r["general_stock"], stock)
		}
	}
	for _, k := range []string{"family:n", "family:{", "recommended:n", "recommended:\"", "rank:n"} {
		if !seen[k] {
			t.Errorf("no product shows %s", k)
		}
	}
	// Filtered by id, GPSR fields become lists.
	var withMfr string
	for _, r := range rows {
		if string(r["manufacturer"]) == "true" {
			withMfr = string(r["id"])
			break
		}
	}
	one := decode[[]map[string]json.RawMessage](t, mustOK(t, post(t, s, "product_offer/read", `{"id":`+withMfr+`}`)))
	if len(one) != 1 || one[0]["manufacturer"][0] != '[' || one[0]["eu_representative"][0] != '[' {
		t.Fatalf("filtered GPSR not lists: %s / %s", one[0]["manufacturer"], one[0]["eu_representative"])
	}
	if !strings.Contains(string(one[0]["manufacturer"]), `"email"`) {
		t.Errorf("manufacturer list lacks the entity: %s", one[0]["manufacturer"])
	}
}

func TestPagingAndCounts(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	tests := []struct {
		name, path, body string
		wantErr          string
		wantResults      string
	}{
		{"count strings", "product_offer/count", `{"itemsPerPage":100}`, "", `{"itemsPerPage":"100","noOfItems":"250","noOfPages":"3"}`},
		{"count per 7", "product_offer/count", `{"itemsPerPage":7}`, "", `{"itemsPerPage":"7","noOfItems":"250","noOfPages":"36"}`},
		{"past the end", "product_offer/read", `{"currentPage":4,"itemsPerPage":100}`, "", `[]`},
		{"last partial page", "product_offer/read", `{"currentPage":3,"itemsPerPage":100,"id":[999999999]}`, "", `[]`},
		{"too many per page", "product_offer/read", `{"itemsPerPage":101}`, "Reading products is limited to maximum 100 elements", ""},
		{"too many per page on count", "product_offer/count", `{"itemsPerPage":500}`, "Reading products is limited to maximum 100 elements", ""},
		{"orders too many per page", "order/read", `{"itemsPerPage":101}`, "Reading orders is limited to maximum 100 elements", ""},
		{"orders past the end", "order/read", `{"currentPage":900}`, "", `[]`},
		{"orders window too wide", "order/read", `{"createdAfter":"2025-01-01 00:00:00","createdBefore":"2025-03-01 00:00:00"}`, "at most 1 month", ""},
		{"orders before without after", "order/read", `{"modifiedBefore":"2025-01-01 00:00:00"}`, "can only be used together", ""},
		{"count needs both dates", "order/count", `{"createdAfter":"2025-01-01 00:00:00"}`, "can only be used together", ""},
		{"bad date", "order/count", `{"createdAfter":"yesterday","createdBefore":"today"}`, "format", ""},
		{"bad order type", "order/read", `{"type":4}`, "type filter", ""},
		{"category count", "category/count", `{}`, "", fmt.Sprintf(`{"itemsPerPage":"100","noOfItems":"%d","noOfPages":"1"}`, len(categories))},
		{"locality count", "locality/count", `{"region2":"Ilfov"}`, "", `{"itemsPerPage":"100","noOfItems":"3","noOfPages":"1"}`},
		{"reference too many per page", "category/read", `{"itemsPerPage":101}`, "Reading is limited to maximum 100 elements", ""},
		{"reference filter error before paging", "locality/count", `{"emag_id":"x","itemsPerPage":101}`, "Invalid emag_id filter", ""},
		{"orders page above 65535", "order/read", `{"currentPage":65536}`, "currentPage must be between 1 and 65535", ""},
		{"order count ignores currentPage", "order/count", `{"currentPage":65536}`, "", `{"itemsPerPage":"100","noOfItems":"300","noOfPages":"3"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := post(t, s, tt.path, tt.body)
			if tt.wantErr != "" {
				if !e.IsError || !hasMessage(e, tt.wantErr) {
					t.Fatalf("want error %q, got %+v", tt.wantErr, e)
				}
				return
			}
			if got := string(mustOK(t, e)); got != tt.wantResults {
				t.Errorf("results %s, want %s", got, tt.wantResults)
			}
		})
	}
}

func TestOrderReadQuirks(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	count := func(body string) int {
		var c struct {
			NoOfItems string `json:"noOfItems"`
		}
		c = decode[struct {
			NoOfItems string `json:"noOfItems"`
		}](t, mustOK(t, post(t, s, "order/count", body)))
		n, _ := strconv.Atoi(c.NoOfItems)
		return n
	}
	all, seller, fbe := count(`{}`), count(`{"type":3}`), count(`{"type":2}`)
	if all != 300 || seller+fbe != all || fbe == 0 || seller == 0 {
		t.Fatalf("counts all=%d seller=%d fbe=%d", all, seller, fbe)
	}
	var read int
	types := map[float64]int{}
	statuses := map[float64]bool{}
	for page := 1; ; page++ {
		rows := decode[[]map[string]any](t, mustOK(t, post(t, s, "order/read", fmt.Sprintf(`{"currentPage":%d}`, page))))
		if len(rows) == 0 {
			break
		}
		for _, o := range rows {
			read++
			types[o["type"].(float64)]++
			statuses[o["status"].(float64)] = true
			if o["id"].(float64) < 1<<31 {
				t.Fatalf("order id %v below 2^31", o["id"])
			}
			line := o["products"].([]any)[0].(map[string]any)
			if _, ok := line["sale_price"].(string); !ok {
				t.Fatalf("line sale_price not a string: %v", line["sale_price"])
			}
			if _, ok := o["customer"].(map[string]any)["billing_locality_id"]; !ok {
				t.Fatal("customer lacks billing_locality_id")
			}
		}
	}
	if read != seller || len(types) != 1 || types[3] != seller {
		t.Fatalf("order/read without type read %d orders of types %v; want the %d seller orders", read, types, seller)
	}
	for _, st := range []float64{0, 1, 2, 3, 4, 5} {
		if !statuses[st] {
			t.Errorf("no seller order in status %v", st)
		}
	}
	fbeRows := decode[[]map[string]any](t, mustOK(t, post(t, s, "order/read", `{"type":2,"itemsPerPage":5}`)))
	if len(fbeRows) != 5 || fbeRows[0]["type"] != 2.0 {
		t.Fatalf("type=2 read: %v", fbeRows)
	}
}

func TestReferenceRoutes(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	tests := []struct{ path, body, want string }{
		{"vat/read", ``, `"vat_rate":"0.2100"`},
		{"handling_time/read", ``, `{"id":0}`},
		{"category/read", `{"id":2842}`, `"characteristics"`},
		{"category/read", `{}`, `"is_ean_mandatory"`},
		{"locality/read", `{"name":"cluj"}`, `"Cluj-Napoca"`},
		{"courier_accounts/read", ``, `"courier_account_type"`},
		{"addresses/read", ``, `"address_type_id"`},
		{"invoice/categories", ``, `"FCSA"`},
		{"rma/count", `{}`, `"noOfItems"`},
		{"rma/read", `{"request_status":[2,3,4,5,6,7]}`, `"request_status"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			if got := string(mustOK(t, post(t, s, tt.path, tt.body))); !strings.Contains(got, tt.want) {
				t.Errorf("results %s lack %s", got[:min(len(got), 300)], tt.want)
			}
		})
	}
}

func TestFindByEANs(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	mine := decode[[]struct {
		EAN []string `json:"ean"`
		PNK string   `json:"part_number_key"`
	}](t, mustOK(t, post(t, s, "product_offer/read", `{"itemsPerPage":1}`)))[0]
	q := url.Values{"eans[]": {mine.EAN[0], "4000000000000"}}
	r := serve(t, s, req{account: "main", method: "GET", path: "/api-3/documentation/find_by_eans?" + q.Encode()})
	res := decode[map[string]struct {
		Products []map[string]any `json:"products"`
	}](t, mustOK(t, mustEnvelope(t, r)))
	if p := res[mine.EAN[0]].Products; len(p) != 1 || p[0]["part_number_key"] != mine.PNK || p[0]["vendor_has_offer"] != true || p[0]["allowed_to_add_offer"] != true {
		t.Errorf("own EAN: %v", p)
	}
	if p, ok := res["4000000000000"]; !ok || len(p.Products) != 0 {
		t.Errorf("unknown EAN: %v", p)
	}
	if got := r.header.Get("X-RateLimit-Limit-day"); got != "" {
		t.Errorf("no-limit sandbox sent limit headers %q", got)
	}
	var many []string
	for i := range 120 {
		many = append(many, fmt.Sprintf("59400000%05d", i))
	}
	e := mustEnvelope(t, serve(t, s, req{account: "main", method: "GET", path: "/api-3/documentation/find_by_eans?" + url.Values{"eans[]": many}.Encode()}))
	if !hasMessage(e, "first 100") || len(decode[map[string]any](t, e.Results)) != 100 {
		t.Errorf("120 EANs: messages %v, %d results", e.Messages, len(decode[map[string]any](t, e.Results)))
	}
	sd := string(mustOK(t, mustEnvelope(t, serve(t, s, req{account: "main", method: "GET", path: "/api-3/smart-deals-price-check?productId=1"}))))
	if sd != "null" {
		t.Errorf("smart deals for an unknown product: %s", sd)
	}
}

// recorder is a minimal ResponseWriter without Hijack.
type recorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(s int) {
	if r.status == 0 {
		r.status = s
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}
