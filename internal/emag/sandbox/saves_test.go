package sandbox

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// firstProduct returns a product of main that is not in a campaign.
func firstProduct(t *testing.T, s *Sandbox, pick func(*product) bool) *product {
	t.Helper()
	a := s.account("main")
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, p := range a.products {
		if !p.inCampaign && (pick == nil || pick(p)) {
			return p
		}
	}
	t.Fatal("no product fits")
	return nil
}

func readOne(t *testing.T, s *Sandbox, id int64) map[string]any {
	t.Helper()
	rows := decode[[]map[string]any](t, mustOK(t, post(t, s, "product_offer/read", fmt.Sprintf(`{"id":%d}`, id))))
	if len(rows) != 1 {
		t.Fatalf("product %d: %d rows", id, len(rows))
	}
	return rows[0]
}

func TestProductSave(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	p := firstProduct(t, s, func(p *product) bool { return p.Ownership })
	other := firstProduct(t, s, func(q *product) bool { return q.ID != p.ID })
	offer := func(id int64, extra string) string {
		return fmt.Sprintf(`{"id":%d,"status":1,"sale_price":%s,"vat_id":1,"stock":[{"warehouse_id":1,"value":5}],"handling_time":[{"warehouse_id":1,"value":1}]%s}`,
			id, p.SalePrice, extra)
	}
	newDoc := `,"category_id":2919,"name":"Lampă nouă","brand":"Acme","part_number":"ACME 1, 2;3","ean":["5940000000018"],"min_sale_price":1,"max_sale_price":100000,"images":[{"display_type":1,"url":"https://x.invalid/1.jpg"}]`
	many := make([]string, 51)
	for i := range many {
		many[i] = offer(p.ID, "")
	}
	tests := []struct {
		name, body string
		wantErr    string // "" for success
	}{
		{"offer update", "[" + offer(p.ID, "") + "]", ""},
		{"single object body", offer(p.ID, ""), ""},
		{"51 entities", "[" + strings.Join(many, ",") + "]", "at most 50 entities"},
		{"id too large", "[" + offer(16777216, newDoc) + "]", "between 1 and 16777215"},
		{"missing status", fmt.Sprintf(`[{"id":%d,"sale_price":10,"vat_id":1,"stock":[]}]`, p.ID), "status is mandatory"},
		{"missing handling_time on update", fmt.Sprintf(`[{"id":%d,"status":1,"sale_price":%s,"vat_id":1,"stock":[{"warehouse_id":1,"value":1}]}]`, p.ID, p.SalePrice), "handling_time is mandatory"},
		{"price below min", "[" + strings.Replace(offer(p.ID, ""), `"sale_price":`+p.SalePrice.String(), `"sale_price":0.0001`, 1) + "]", "must be between min_sale_price"},
		{"five decimals", "[" + strings.Replace(offer(p.ID, ""), `"sale_price":`+p.SalePrice.String(), `"sale_price":10.12345`, 1) + "]", "at most 4 decimals"},
		{"unknown vat", "[" + strings.Replace(offer(p.ID, ""), `"vat_id":1`, `"vat_id":99`, 1) + "]", "vat_id 99 does not exist"},
		{"bad supply lead time", "[" + offer(p.ID, `,"supply_lead_time":4`) + "]", "supply_lead_time must be one of"},
		{"new without min/max", "[" + offer(9_000_001, `,"category_id":2919,"name":"X","brand":"Y","part_number":"Z"`) + "]", "mandatory on the first save"},
		{"duplicate part number", "[" + offer(9_000_002, strings.Replace(newDoc, "ACME 1, 2;3", other.PartNumber, 1)) + "]", "already used by your product"},
		{"duplicate EAN", "[" + offer(9_000_003, strings.Replace(newDoc, "5940000000018", other.EAN[0], 1)) + "]", "already used by your product"},
		{"second offer on own PNK", "[" + offer(9_000_004, fmt.Sprintf(`,"name":"X","part_number_key":%q,"min_sale_price":1,"max_sale_price":100000`, other.PNK)) + "]", "you already have an offer"},
		{"unknown PNK", "[" + offer(9_000_005, `,"name":"X","part_number_key":"DNOPE00BM","min_sale_price":1,"max_sale_price":100000`) + "]", "does not exist"},
		{"recommended not above sale", "[" + offer(p.ID, `,"recommended_price":0.5`) + "]", "recommended_price must be greater"},
		{"gpsr incomplete", "[" + offer(p.ID, `,"manufacturer":[{"name":"A"}]`) + "]", "manufacturer.address is mandatory"},
		{"new product", "[" + offer(9_000_006, newDoc) + "]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := post(t, s, "product_offer/save", tt.body)
			if tt.wantErr == "" {
				mustOK(t, e)
				return
			}
			if !e.IsError || !hasMessage(e, tt.wantErr) {
				t.Fatalf("want error %q, got %+v", tt.wantErr, e)
			}
		})
	}
	// Saved data is visible to later reads (and the cached JSON was dropped).
	got := readOne(t, s, 9_000_006)
	if got["part_number"] != "ACME123" || got["name"] != "Lampă nouă" || got["general_stock"] != 5.0 || got["ownership"] != true {
		t.Errorf("new product read back as %v", got)
	}
	mustOK(t, post(t, s, "product_offer/save", "["+offer(p.ID, `,"supply_lead_time":30,"green_tax":"1.5","manufacturer":[{"name":"A SRL","address":"Str. B 1","email":"a@b.invalid"}]`)+"]"))
	got = readOne(t, s, p.ID)
	if got["supply_lead_time"] != 30.0 || got["green_tax"] != "1.5000" || got["offer_details"].(map[string]any)["supply_lead_time"] != 30.0 {
		t.Errorf("update read back as supply %v green %v", got["supply_lead_time"], got["green_tax"])
	}
	if m, ok := got["manufacturer"].([]any); !ok || len(m) != 1 {
		t.Errorf("manufacturer after save: %v", got["manufacturer"])
	}
	// A documentation error is reported while the product is saved anyway.
	e := post(t, s, "product_offer/save", "["+offer(9_000_007, strings.NewReplacer(`"images":[{"display_type":1,"url":"https://x.invalid/1.jpg"}]`, `"images":[]`, "5940000000018", "5940000000025", "ACME 1, 2;3", "ACME-7").Replace(newDoc))+"]")
	if !e.IsError || !hasMessage(e, "photo_gallery array is empty") {
		t.Fatalf("empty gallery: %+v", e)
	}
	if got := readOne(t, s, 9_000_007); got["validation_status"].([]any)[0].(map[string]any)["value"] != 8.0 {
		t.Errorf("doc-error product validation %v", got["validation_status"])
	}
}

func TestLightOfferSave(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	p := firstProduct(t, s, nil)
	tests := []struct {
		body    string
		wantErr bool
		wantMsg string
	}{
		{fmt.Sprintf(`[{"id":%d,"sale_price":%s,"stock":[{"warehouse_id":1,"value":25}],"status":1}]`, p.ID, p.MinSalePrice), false, fmt.Sprintf("Offer %d updated successfully", p.ID)},
		{fmt.Sprintf(`[{"id":%d,"stock":[{"warehouse_id":1,"value":-1}]}]`, p.ID), true, "Stock should be 0 or more"},
		{fmt.Sprintf(`[{"id":%d,"stock":[{"warehouse_id":1,"value":1.5}]}]`, p.ID), true, "Decimals are not allowed"},
		{fmt.Sprintf(`[{"id":%d,"sale_price":999999999}]`, p.ID), true, "must be between"},
		{`[{"id":16000000}]`, true, "Offer 16000000 does not exist"},
	}
	for _, tt := range tests {
		e := post(t, s, "offer/save", tt.body)
		if e.IsError {
			t.Fatalf("top-level isError for %s: %v", tt.body, e.Messages)
		}
		res := decode[map[string]struct {
			IsError  bool     `json:"isError"`
			Messages []string `json:"messages"`
		}](t, e.Results)
		if len(res) != 1 {
			t.Fatalf("results %s", e.Results)
		}
		for _, r := range res {
			if r.IsError != tt.wantErr || !strings.Contains(strings.Join(r.Messages, " "), tt.wantMsg) {
				t.Errorf("%s: got %+v, want isError=%v %q", tt.body, r, tt.wantErr, tt.wantMsg)
			}
		}
	}
	got := readOne(t, s, p.ID)
	if got["sale_price"] != p.MinSalePrice.String() || got["general_stock"] != 25.0 {
		t.Errorf("after light save: price %v stock %v", got["sale_price"], got["general_stock"])
	}
	// Mixed batch: one result per id, top-level isError false.
	e := post(t, s, "offer/save", fmt.Sprintf(`[{"id":%d,"status":1},{"id":16000001,"status":1}]`, p.ID))
	if got := string(e.Results); !strings.Contains(got, `"16000001":{"isError":true`) || !strings.Contains(got, fmt.Sprintf(`"%d":{"isError":false`, p.ID)) {
		t.Errorf("mixed batch %s", got)
	}
}

func TestOfferStock(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	p := firstProduct(t, s, nil)
	var camp *product
	for _, a := range []string{"main", "fbe"} {
		acc := s.account(a)
		for _, q := range acc.products {
			if q.inCampaign && q.Status == 1 && a == "main" {
				camp = q
			}
		}
	}
	tests := []struct {
		name, path, ctype, body string
		wantStatus              int
		wantBody                string
	}{
		{"ok", fmt.Sprintf("/api-3/offer_stock/%d", p.ID), "application/json", `{"stock":21}`, 204, ""},
		{"not json", fmt.Sprintf("/api-3/offer_stock/%d", p.ID), "application/json", `{"stock":`, 400, `{"message":"Invalid content"}`},
		{"no content type", fmt.Sprintf("/api-3/offer_stock/%d", p.ID), "text/plain", `{"stock":1}`, 400, `{"message":"Invalid content"}`},
		{"negative", fmt.Sprintf("/api-3/offer_stock/%d", p.ID), "application/json", `{"stock":-2}`, 400, `{"message":"Validation errors in your request","errors":[{"message":"Stock should be 0 or more","field":"stock"}]}`},
		{"decimal", fmt.Sprintf("/api-3/offer_stock/%d", p.ID), "application/json", `{"stock":2.5}`, 400, `{"message":"Validation errors in your request","errors":[{"message":"The stock field is mandatory. Its value must be a whole (integer) number. Decimals are not allowed. (ex: 5)","field":"stock"}]}`},
		{"unknown offer", "/api-3/offer_stock/16000000", "application/json", `{"stock":1}`, 404, `{"message":"This offer does not exist"}`},
		{"bad id", "/api-3/offer_stock/abc", "application/json", `{"stock":1}`, 404, `{"message":"Invalid URL"}`},
	}
	if camp != nil {
		tests = append(tests, struct {
			name, path, ctype, body string
			wantStatus              int
			wantBody                string
		}{"campaign", fmt.Sprintf("/api-3/offer_stock/%d", camp.ID), "application/json", `{"stock":1}`, 400,
			`{"message":"Validation errors in your request","errors":[{"message":"The offer is included in the active campaign BF, thus the stock has NOT been changed.","field":"stock"}]}`})
	}
	for _, tt := range tests {
		r := serve(t, s, req{account: "main", method: http.MethodPatch, path: tt.path, ctype: tt.ctype, body: tt.body})
		if r.status != tt.wantStatus || string(r.body) != tt.wantBody {
			t.Errorf("%s: %d %s, want %d %s", tt.name, r.status, r.body, tt.wantStatus, tt.wantBody)
		}
	}
	if got := readOne(t, s, p.ID); got["general_stock"] != 21.0 {
		t.Errorf("stock after PATCH: %v", got["general_stock"])
	}
}

// orderIn finds a seller order of main in a status.
func orderIn(t *testing.T, s *Sandbox, status, typ int) *order {
	t.Helper()
	a := s.account("main")
	a.mu.RLock()
	defer a.mu.RUnlock()
	for _, o := range a.orders {
		if o.Status == status && o.Type == typ {
			return o
		}
	}
	t.Fatalf("no order in status %d type %d", status, typ)
	return nil
}

func orderStatus(t *testing.T, s *Sandbox, id int64) float64 {
	t.Helper()
	rows := decode[[]map[string]any](t, mustOK(t, post(t, s, "order/read", fmt.Sprintf(`{"id":%d,"type":[2,3]}`, id))))
	if len(rows) != 1 {
		t.Fatalf("order %d: %d rows", id, len(rows))
	}
	return rows[0]["status"].(float64)
}

// TestOrderPathErrors covers the routes that name an order in their path.
func TestOrderPathErrors(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, small())
	seller, fbe := orderIn(t, s, 1, 3), orderIn(t, s, 4, 2)
	tests := []struct{ path, want string }{
		{fmt.Sprintf("order/acknowledge/%d", fbe.ID), fmt.Sprintf("Order %d is fulfilled by eMAG and cannot be acknowledged", fbe.ID)},
		{"order/acknowledge/42", "Order 42 does not exist"},
		{"order/acknowledge/x", `Invalid order id "x"`},
		{fmt.Sprintf("order/%d/unlock-courier", fbe.ID), fmt.Sprintf("Order %d is fulfilled by eMAG", fbe.ID)},
		{"order/42/unlock-courier", "Order 42 does not exist"},
		{fmt.Sprintf("order/%d/unlock-courier", seller.ID), ""},
		{fmt.Sprintf("order/acknowledge/%d", seller.ID), ""},
		{fmt.Sprintf("order/acknowledge/%d", seller.ID), "its status is 2"},
	}
	for _, tt := range tests { // in order: the last two acknowledge twice
		e := post(t, s, tt.path, "")
		if tt.want == "" {
			mustOK(t, e)
			continue
		}
		if !e.IsError || len(e.Messages) != 1 || !strings.Contains(e.Messages[0], tt.want) {
			t.Errorf("%s: %+v, want %q", tt.path, e, tt.want)
		}
	}
}

func TestOrderLifecycle(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	opts := small()
	opts.Clock = clock
	s := newTestSandbox(t, opts)
	newOrder := orderIn(t, s, 1, 3)
	id := newOrder.ID
	save := func(status int, extra string) envelope {
		return post(t, s, "order/save", fmt.Sprintf(`[{"id":%d,"status":%d%s}]`, id, status, extra))
	}
	if e := save(2, ""); !e.IsError || !hasMessage(e, "only move on by acknowledge") {
		t.Fatalf("save 1->2: %+v", e)
	}
	mustOK(t, post(t, s, "order/acknowledge/"+strconv.FormatInt(id, 10), ""))
	if st := orderStatus(t, s, id); st != 2 {
		t.Fatalf("status after ack %v", st)
	}
	if e := post(t, s, "order/acknowledge/"+strconv.FormatInt(id, 10), ""); !e.IsError {
		t.Fatal("second acknowledge accepted")
	}
	fbe := orderIn(t, s, 4, 2)
	if e := post(t, s, "order/acknowledge/"+strconv.FormatInt(fbe.ID, 10), ""); !e.IsError {
		t.Fatal("FBE acknowledge accepted")
	}
	if e := post(t, s, "order/save", fmt.Sprintf(`[{"id":%d,"status":4}]`, fbe.ID)); !e.IsError || !hasMessage(e, "fulfilled by eMAG") {
		t.Fatalf("FBE save: %+v", e)
	}
	if e := post(t, s, "order/acknowledge/42", ""); !e.IsError || !hasMessage(e, "does not exist") {
		t.Fatalf("unknown ack: %+v", e)
	}
	// 2 -> 3, line edits allowed; then the first AWB finalizes.
	line := newOrder.Products[0]
	mustOK(t, save(3, fmt.Sprintf(`,"products":[{"id":%d,"product_id":%d,"quantity":%d,"sale_price":"%s","status":1},{"product_id":1,"name":"Discount intern","status":1,"sale_price":-5,"quantity":1}]`,
		line.ID, line.ProductID, line.Quantity, line.SalePrice)))
	if e := save(3, fmt.Sprintf(`,"products":[{"id":%d,"sale_price":"1.0000"}]`, line.ID)); !e.IsError || !hasMessage(e, "cannot be changed") {
		t.Fatalf("price change: %+v", e)
	}
	if e := post(t, s, "order/attachments/save", fmt.Sprintf(`[{"order_id":%d,"order_type":3,"name":"Factura 1","url":"https://x.invalid/f1.pdf","type":1}]`, id)); e.IsError {
		t.Fatalf("attachment: %v", e.Messages)
	}
	for _, bad := range []string{
		fmt.Sprintf(`[{"order_id":%d,"name":"Factura","url":"https://x.invalid/f.pdf"}]`, id),
		fmt.Sprintf(`[{"order_id":%d,"order_type":3,"name":"Factura","url":"https://x.invalid/f.doc"}]`, id),
		fmt.Sprintf(`[{"order_id":%d,"order_type":3,"name":"Garantie","url":"https://x.invalid/g.pdf","type":3}]`, id),
	} {
		if e := post(t, s, "order/attachments/save", bad); !e.IsError {
			t.Errorf("attachment %s accepted", bad)
		}
	}
	awb := fmt.Sprintf(`{"order_id":%d,"sender":{"name":"Magazin","phone1":"0722000000","locality_id":8801,"street":"Str. A 1"},"receiver":{"name":"Ion Pop","phone1":"+40722000001","locality_id":41,"street":"Str. B 2","legal_entity":0},"is_oversize":0,"cod":0,"envelope_number":0,"parcel_number":1,"weight":1.5}`, id)
	if e := post(t, s, "awb/save", strings.Replace(awb, `"parcel_number":1`, `"parcel_number":0`, 1)); !e.IsError {
		t.Fatal("AWB with no parcel accepted")
	}
	res := decode[struct {
		ReservationID int64 `json:"reservation_id"`
		Awb           []struct {
			EmagID int64 `json:"emag_id"`
		} `json:"awb"`
	}](t, mustOK(t, post(t, s, "awb/save", awb)))
	if st := orderStatus(t, s, id); st != 4 {
		t.Fatalf("status after first AWB %v", st)
	}
	if got := string(mustOK(t, post(t, s, "awb/read", fmt.Sprintf(`{"reservation_id":%d}`, res.ReservationID)))); !strings.Contains(got, `"awb_number"`) {
		t.Errorf("awb/read %s", got)
	}
	pdf := serve(t, s, req{account: "main", method: "GET", path: fmt.Sprintf("/awb/read_pdf?emag_id=%d&awb_format=A6", res.Awb[0].EmagID)})
	if pdf.status != 200 || pdf.header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(string(pdf.body), "%PDF-") {
		t.Errorf("read_pdf: %d %s", pdf.status, pdf.header.Get("Content-Type"))
	}
	zpl := mustEnvelope(t, serve(t, s, req{account: "main", method: "GET", path: fmt.Sprintf("/api-3/awb/read_zpl?emag_id=%d", res.Awb[0].EmagID)}))
	if !strings.Contains(string(zpl.Results), `"content":["`) {
		t.Errorf("read_zpl %s", zpl.Results)
	}
	// Finalized: storno rules, 48 h windows.
	if e := save(4, fmt.Sprintf(`,"products":[{"id":%d,"quantity":0}]`, line.ID)); !e.IsError || !hasMessage(e, "only be modified with is_storno") {
		t.Fatalf("finalized edit without storno: %+v", e)
	}
	if e := save(4, `,"is_storno":true`); !e.IsError || !hasMessage(e, "no product quantity was lowered") {
		t.Fatalf("storno without change: %+v", e)
	}
	if e := save(4, fmt.Sprintf(`,"is_storno":true,"products":[{"id":%d,"quantity":-1}]`, line.ID)); !e.IsError {
		t.Fatal("negative storno accepted")
	}
	clock.Advance(49 * time.Hour)
	if e := save(0, ""); !e.IsError || !hasMessage(e, "within 48 hours") {
		t.Fatalf("cancel after 48h: %+v", e)
	}
	mustOK(t, save(5, ""))
	if e := save(4, ""); !e.IsError || !hasMessage(e, "returned order cannot be changed") {
		t.Fatalf("returned order changed: %+v", e)
	}
}

func TestCanTransition(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 10, 0, 0, 0, 0, time.UTC)
	type key struct{ from, to int }
	allowed := map[key]bool{
		{1, 1}: true, {2, 2}: true, {2, 3}: true, {2, 4}: true, {2, 0}: true, {3, 3}: true, {3, 4}: true, {3, 0}: true,
		{4, 3}: true, {4, 4}: true, {4, 0}: true, {4, 5}: true, {0, 2}: true, {0, 3}: true, {0, 4}: true, {0, 0}: true,
	}
	got := map[key]bool{}
	for from := range 6 {
		for to := range 6 {
			o := &order{Status: from, statusAt: now.Add(-time.Hour)}
			if ok, _ := canTransition(o, to, now); ok {
				got[key{from, to}] = true
			}
		}
	}
	if diff := cmp.Diff(allowed, got); diff != "" {
		t.Errorf("matrix (-want +got):\n%s", diff)
	}
	old := &order{Status: 4, statusAt: now.Add(-49 * time.Hour)}
	for _, to := range []int{3, 0} {
		if ok, _ := canTransition(old, to, now); ok {
			t.Errorf("4->%d allowed after 48 h", to)
		}
	}
}

func TestRMASave(t *testing.T) {
	t.Parallel()
	s := newTestSandbox(t, Options{Seed: 3, NoRateLimit: true, Accounts: []AccountOptions{{Name: "main", Products: 100, Orders: 2000}}})
	a := s.account("main")
	var x *rma
	for _, r := range a.rmas {
		if r.RequestStatus == 2 {
			x = r
			break
		}
	}
	if x == nil {
		t.Skip("seed produced no new RMA")
	}
	e := post(t, s, "rma/save", fmt.Sprintf(`[{"emag_id":%d,"request_status":3}]`, x.EmagID))
	if !e.IsError || !hasMessage(e, fmt.Sprintf("ERROR: please provide the customer name - Rma id: %d", x.EmagID)) || !strings.HasPrefix(string(e.Results), "[[") {
		t.Fatalf("rma without name: %+v %s", e, e.Results)
	}
	if e := post(t, s, "rma/save", fmt.Sprintf(`[{"emag_id":%d,"request_status":7,"customer_name":"Ion"}]`, x.EmagID)); !e.IsError {
		t.Fatal("2->7 accepted")
	}
	mustOK(t, post(t, s, "rma/save", fmt.Sprintf(`[{"emag_id":%d,"request_status":3,"customer_name":"Ion"}]`, x.EmagID)))
}
