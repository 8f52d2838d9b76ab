package sandbox

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

type locality struct {
	id      int
	name    string
	county  string
	zipcode string
}

var localities = []locality{
	{8801, "București", "București", "010011"}, {41, "Corbeanca", "Ilfov", "077065"}, {9102, "Cluj-Napoca", "Cluj", "400001"},
	{9310, "Timișoara", "Timiș", "300001"}, {9420, "Iași", "Iași", "700001"}, {9530, "Constanța", "Constanța", "900001"},
	{9640, "Brașov", "Brașov", "500001"}, {9750, "Craiova", "Dolj", "200001"}, {9860, "Galați", "Galați", "800001"},
	{9970, "Ploiești", "Prahova", "100001"}, {10080, "Oradea", "Bihor", "410001"}, {10190, "Sibiu", "Sibiu", "550001"},
	{10200, "Bacău", "Bacău", "600001"}, {10310, "Pitești", "Argeș", "110001"}, {10420, "Arad", "Arad", "310001"},
	{10530, "Suceava", "Suceava", "720001"}, {10640, "Voluntari", "Ilfov", "077190"}, {10750, "Otopeni", "Ilfov", "075100"},
	{10860, "Târgu Mureș", "Mureș", "540001"}, {10970, "Baia Mare", "Maramureș", "430001"},
}

// localitiesModified is when the locality list last changed.
var localitiesModified = time.Date(2024, 11, 13, 10, 0, 0, 0, bucharest())

func latin(s string) string {
	return latinLetters.Replace(s)
}

// listRead answers one page of an in-memory list (the reference reads):
// the list's filter error first, then the paging one.
func listRead[T any](c *call, list func() ([]T, string)) {
	rows, page, per, ok := listPaging(c, list)
	if !ok {
		return
	}
	lo := min(int((page-1)*per), len(rows))
	c.ok(nonNil(rows[lo:min(lo+int(per), len(rows))]))
}

// listCount answers the count of an in-memory list, with listRead's errors.
func listCount[T any](c *call, list func() ([]T, string)) {
	rows, _, per, ok := listPaging(c, list)
	if ok {
		c.ok(countResult(len(rows), int(per)))
	}
}

// listPaging selects a list and reads its paging, failing the call on an
// error in either.
func listPaging[T any](c *call, list func() ([]T, string)) (rows []T, page, per int64, ok bool) {
	rows, msg := list()
	if msg == "" {
		page, per, msg = c.params().paging("")
	}
	if msg != "" {
		c.fail(msg)
		return nil, 0, 0, false
	}
	return rows, page, per, true
}

func (c *call) categoryList() ([]map[string]any, string) {
	p := c.params()
	ids, _, err := p.intList("id")
	if err != nil {
		return nil, "Invalid id filter: " + err.Error()
	}
	var out []map[string]any
	for _, cat := range categories {
		if ids != nil && !slices.Contains(ids, int64(cat.id)) {
			continue
		}
		ean, warr := 0, 0
		if cat.eanRequired {
			ean = 1
		}
		if cat.warranty > 0 {
			warr = 1
		}
		row := map[string]any{"id": cat.id, "name": cat.name, "is_allowed": 1, "parent_id": 1000 + cat.id%7,
			"is_ean_mandatory": ean, "is_warranty_mandatory": warr}
		if ids != nil {
			row["characteristics"] = []map[string]any{
				{"id": 5213, "name": "Culoare", "type_id": 11, "display_order": 1, "is_mandatory": 1, "is_filter": 1, "allow_new_value": 1, "values": colors, "tags": []string{}},
				{"id": 6779, "name": "Producător", "type_id": 11, "display_order": 2, "is_mandatory": 0, "is_filter": 1, "allow_new_value": 1, "values": cat.brands, "tags": []string{}},
				{"id": 6506, "name": "Mărime", "type_id": 60, "display_order": 3, "is_mandatory": 0, "is_filter": 1, "allow_new_value": 0, "values": []string{"S", "M", "L", "XL"}, "tags": []string{"original", "converted"}},
			}
			row["family_types"] = []map[string]any{{"id": 200 + cat.id%50, "name": "Culoare", "characteristics": []map[string]any{
				{"characteristic_id": 5213, "characteristic_family_type_id": 1, "is_foldable": 0, "display_order": 1}}}}
		}
		out = append(out, row)
	}
	return out, ""
}

func (c *call) categoryRead()  { listRead(c, c.categoryList) }
func (c *call) categoryCount() { listCount(c, c.categoryList) }

func (c *call) vatRead() {
	c.okRaw([]byte(`[{"vat_id":1,"vat_rate":"0.2100","is_default":1},{"vat_id":2,"vat_rate":"0.1100","is_default":0},` +
		`{"vat_id":3,"vat_rate":"0.0000","is_default":0},{"vat_id":4,"vat_rate":"0.0500","is_default":0},` +
		`{"vat_id":5,"vat_rate":"0.1900","is_default":0},{"vat_id":6,"vat_rate":"0.0900","is_default":0}]`))
}

func (c *call) handlingTimeRead() {
	c.okRaw([]byte(`[{"id":0},{"id":1},{"id":2},{"id":3},{"id":6},{"id":9},{"id":30},{"id":60},{"id":90}]`))
}

func (c *call) localityList() ([]map[string]any, string) {
	p := c.params()
	ids, _, err := p.intList("emag_id")
	if err != nil {
		return nil, "Invalid emag_id filter: " + err.Error()
	}
	country := p.str("country_code")
	if country != "" && country != "RO" {
		return []map[string]any{}, ""
	}
	name, county := strings.ToLower(p.str("name")), strings.ToLower(p.str("region2"))
	// modified selects the localities changed on or after a date.
	since, _, msg := p.dateWindow(c.s.zone, "modified", "", false)
	if msg != "" {
		return nil, msg
	}
	var out []map[string]any
	for _, l := range localities {
		if !since.IsZero() && localitiesModified.Before(since) {
			continue
		}
		if (ids != nil && !slices.Contains(ids, int64(l.id))) || (name != "" && !strings.Contains(strings.ToLower(l.name), name) && !strings.Contains(strings.ToLower(latin(l.name)), name)) ||
			(county != "" && strings.ToLower(l.county) != county && strings.ToLower(latin(l.county)) != county) {
			continue
		}
		out = append(out, map[string]any{"emag_id": l.id, "name": l.name, "name_latin": latin(l.name),
			"region1": "România", "region2": l.county, "region3": "", "region4": "",
			"region1_latin": "Romania", "region2_latin": latin(l.county), "region3_latin": "", "region4_latin": "",
			"geoid": 100000 + l.id, "modified": localitiesModified.Format(dateLayout), "zipcode": l.zipcode, "country_code": "RO", "iso2": "RO"})
	}
	return out, ""
}

func (c *call) localityRead()  { listRead(c, c.localityList) }
func (c *call) localityCount() { listCount(c, c.localityList) }

var courierAccounts = []map[string]any{
	{"account_id": 7001, "account_display_name": "Sameday cont principal", "courier_account_type": 3, "courier_name": "SAMEDAY", "courier_account_properties": []int{0, 2}, "created": "2023-03-01 09:00:00", "status": 1, "pickup_country_code": "RO"},
	{"account_id": 7002, "account_display_name": "Fan Courier", "courier_account_type": 2, "courier_name": "FAN", "courier_account_properties": []int{0, 6}, "created": "2023-05-11 12:30:00", "status": 1, "pickup_country_code": "RO"},
	{"account_id": 7003, "account_display_name": "Cargus retururi", "courier_account_type": 1, "courier_name": "CARGUS", "courier_account_properties": []int{0}, "created": "2024-01-20 08:15:00", "status": 0, "pickup_country_code": "RO"},
}

func (c *call) courierAccountsRead() { c.ok(courierAccounts) }

func (c *call) addressesRead() {
	c.ok([]map[string]any{
		{"address_id": "1000000000000000001", "country_id": 1, "country_code": "RO", "address_type_id": 2, "locality_id": 8801, "suburb": "București", "city": "București", "address": "Str. Depozitului 5", "zipcode": "010011", "quarter": "Sector 3", "floor": "", "is_default": true},
		{"address_id": "1000000000000000002", "country_id": 1, "country_code": "RO", "address_type_id": 1, "locality_id": 10640, "suburb": "Ilfov", "city": "Voluntari", "address": "Bd. Pipera 1", "zipcode": "077190", "quarter": "", "floor": "1", "is_default": true},
		{"address_id": "1000000000000000003", "country_id": 1, "country_code": "RO", "address_type_id": 3, "locality_id": 8801, "suburb": "București", "city": "București", "address": "Calea Victoriei 100", "zipcode": "010071", "quarter": "Sector 1", "floor": "3", "is_default": true},
	})
}

func (c *call) invoiceCategories() {
	c.ok([]map[string]string{{"category": "FC", "name": "Commission"}, {"category": "FCA", "name": "Canceled Commission"},
		{"category": "FCSA", "name": "Canceled Commission storno"}, {"category": "FCD", "name": "Commission discount"},
		{"category": "FTA", "name": "Canceled Transport"}})
}

// awbRecord is one AWB issued through awb/save.
type awbRecord struct {
	ReservationID int64  `json:"reservation_id"`
	EmagID        int64  `json:"emag_id"`
	OrderID       *int64 `json:"order_id"`
	RmaID         *int64 `json:"rma_id"`
	Type          int    `json:"type"`
	Weight        string `json:"weight"`
	AwbType       int    `json:"awb_type"`
	Awb           []struct {
		EmagID     int64  `json:"emag_id"`
		AwbNumber  string `json:"awb_number"`
		AwbBarcode string `json:"awb_barcode"`
	} `json:"awb"`
	Status  map[string]string `json:"status"`
	Courier map[string]any    `json:"courier"`
}

func party(m map[string]any, key string) string {
	v, ok := m[key].(map[string]any)
	if !ok {
		return key + " is mandatory"
	}
	name := params(v).str("name")
	if len(name) < 3 || len(name) > 255 {
		return key + ".name must have between 3 and 255 characters"
	}
	phone := strings.TrimPrefix(params(v).str("phone1"), "+")
	if len(phone) < 8 || len(phone) > 11 || strings.Trim(phone, "0123456789") != "" {
		return key + ".phone1 must have between 8 and 11 digits"
	}
	if params(v).str("address_id") == "" {
		if _, has, err := getInt(v, "locality_id"); !has || err != nil {
			return key + ".locality_id is mandatory"
		}
		if params(v).str("street") == "" {
			return key + ".street is mandatory"
		}
	}
	return ""
}

func (c *call) awbSave() {
	items, ok := c.entities()
	if !ok || len(items) != 1 {
		c.fail("The request must contain one AWB")
		return
	}
	m := items[0]
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	oid, hasO, _ := getInt(m, "order_id")
	rid, hasR, _ := getInt(m, "rma_id")
	var o *order
	switch {
	case hasO:
		o = c.a.orderByID[oid]
		if o == nil {
			c.fail(fmt.Sprintf("Order %d does not exist", oid))
			return
		}
		if o.Type != 3 {
			c.fail(fmt.Sprintf("Order %d is fulfilled by eMAG", oid))
			return
		}
		if o.Status != 2 && o.Status != 3 && o.Status != 4 {
			c.fail(fmt.Sprintf("Order %d: an AWB can only be issued for orders in progress or prepared (status %d)", oid, o.Status))
			return
		}
	case hasR:
		if c.a.rmaByID(rid) == nil {
			c.fail(fmt.Sprintf("Rma %d does not exist", rid))
			return
		}
	default:
		c.fail("order_id or rma_id is mandatory")
		return
	}
	for _, k := range []string{"sender", "receiver"} {
		if msg := party(m, k); msg != "" {
			c.fail(msg)
			return
		}
	}
	over, has, err := getInt(m, "is_oversize")
	if !has || err != nil || (over != 0 && over != 1) {
		c.fail("is_oversize is mandatory: 0 or 1")
		return
	}
	if _, has, err := getDecimal(m, "cod"); !has || err != nil {
		c.fail("cod is mandatory")
		return
	}
	env, _, err1 := getInt(m, "envelope_number")
	parcels, _, err2 := getInt(m, "parcel_number")
	if err1 != nil || err2 != nil || env < 0 || env > 9999 || parcels < 0 || parcels > 999 || env+parcels == 0 {
		c.fail("envelope_number (0-9999) and parcel_number (0-999) cannot both be 0")
		return
	}
	weight, _, _ := getDecimal(m, "weight")
	n := int64(len(c.a.awbs) + 1)
	rec := &awbRecord{ReservationID: 50_000_000 + int64(c.a.index)*1_000_000 + n, EmagID: 60_000_000 + int64(c.a.index)*1_000_000 + n,
		Type: 3, Weight: weight.String(), AwbType: 1,
		Status:  map[string]string{"code": "INR", "name": "Inregistrata", "description": "AWB registered"},
		Courier: map[string]any{"courier_account_id": 7001, "courier_name": "SAMEDAY", "courier_id": 1}}
	if hasO {
		rec.OrderID = &oid
	} else {
		rec.RmaID = &rid
		rec.AwbType = 2
	}
	rec.Awb = append(rec.Awb, struct {
		EmagID     int64  `json:"emag_id"`
		AwbNumber  string `json:"awb_number"`
		AwbBarcode string `json:"awb_barcode"`
	}{rec.EmagID, fmt.Sprintf("4EMG%010d", rec.EmagID), fmt.Sprintf("4EMG%010d001", rec.EmagID)})
	c.a.awbs = append(c.a.awbs, rec)
	if o != nil && o.Status != 4 {
		c.a.setStatus(o, 4, c.now.In(c.s.zone)) // the first AWB finalizes the order
	}
	c.ok(map[string]any{"reservation_id": rec.ReservationID, "awb": rec.Awb})
}

func (c *call) awbRead() {
	p := c.params()
	eid, hasE, _ := p.intParam("emag_id")
	rid, hasR, _ := p.intParam("reservation_id")
	if !hasE && !hasR {
		c.fail("emag_id or reservation_id is mandatory")
		return
	}
	c.a.mu.RLock()
	defer c.a.mu.RUnlock()
	var out []*awbRecord
	for _, a := range c.a.awbs {
		if (hasE && a.EmagID == eid) || (hasR && a.ReservationID == rid) {
			out = append(out, a)
		}
	}
	c.ok(nonNil(out))
}

func (c *call) findAWB() *awbRecord {
	eid, has, _ := c.params().intParam("emag_id")
	if !has {
		return nil
	}
	c.a.mu.RLock()
	defer c.a.mu.RUnlock()
	for _, a := range c.a.awbs {
		if a.EmagID == eid {
			return a
		}
	}
	return nil
}

func (c *call) awbPDF() {
	rec := c.findAWB()
	if rec == nil {
		c.fail("AWB not found")
		return
	}
	format := c.params().str("awb_format")
	if format == "" {
		format = "A4"
	}
	if format != "A4" && format != "A5" && format != "A6" && format != "ZPL" {
		c.fail("awb_format must be A4, A5, A6 or ZPL")
		return
	}
	if format == "ZPL" {
		c.ctype = "text/plain"
		c.status = http.StatusOK
		c.out.WriteString(zplLabel(rec))
		return
	}
	c.ctype = "application/pdf"
	c.status = http.StatusOK
	c.out.Write(pdfLabel(rec, format))
}

func (c *call) awbZPL() {
	rec := c.findAWB()
	if rec == nil {
		c.fail("AWB not found")
		return
	}
	c.ok(map[string]any{"deliveries": map[string]any{"0": map[string]any{"awbs": map[string]any{
		"content": []string{base64.StdEncoding.EncodeToString([]byte(zplLabel(rec)))}}}}})
}

func zplLabel(rec *awbRecord) string {
	return fmt.Sprintf("^XA^FO50,50^A0N,40,40^FDSAMEDAY %s^FS^FO50,120^BCN,100,Y,N,N^FD%s^FS^XZ", rec.Awb[0].AwbNumber, rec.Awb[0].AwbBarcode)
}

// pdfLabel is a small, valid one-page PDF carrying the AWB number.
func pdfLabel(rec *awbRecord, format string) []byte {
	size := map[string]string{"A4": "595 842", "A5": "420 595", "A6": "298 420"}[format]
	text := fmt.Sprintf("BT /F1 18 Tf 40 %s Td (AWB %s) Tj ET", "200", rec.Awb[0].AwbNumber)
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + size + "] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(text), text),
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
	}
	var b strings.Builder
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return []byte(b.String())
}

// rma is one return request.
type rma struct {
	EmagID          int64            `json:"emag_id"`
	ID              *int64           `json:"id"`
	OrderID         string           `json:"order_id"`
	Type            int              `json:"type"`
	IsFullFBE       int              `json:"is_full_fbe"`
	IsClub          int              `json:"is_club"`
	IsFast          int              `json:"is_fast"`
	CustomerName    string           `json:"customer_name"`
	CustomerCompany string           `json:"customer_company"`
	CustomerPhone   string           `json:"customer_phone"`
	Products        []map[string]any `json:"products"`
	Awbs            []map[string]any `json:"awbs"`
	PickupCountry   string           `json:"pickup_country"`
	PickupSuburb    string           `json:"pickup_suburb"`
	PickupCity      string           `json:"pickup_city"`
	PickupAddress   string           `json:"pickup_address"`
	PickupZipcode   string           `json:"pickup_zipcode"`
	PickupLocality  int              `json:"pickup_locality_id"`
	PickupMethod    int              `json:"pickup_method"`
	ReturnReason    int              `json:"return_reason"`
	Observations    string           `json:"observations"`
	ReturnType      int              `json:"return_type"`
	Date            string           `json:"date"`
	RequestStatus   int              `json:"request_status"`
	RequestHistory  []map[string]any `json:"request_history"`
	StatusHistory   []map[string]any `json:"status_history"`
	Locker          any              `json:"locker"`
	Currency        string           `json:"currency"`
	date            time.Time
}

func (a *account) generateRMAs() {
	r := newRand(uint64(a.s.opts.Seed), uint64(a.index), 0x3a)
	for _, o := range a.orders {
		if o.Status != 4 && o.Status != 5 || r.IntN(25) != 0 {
			continue
		}
		l := o.Products[0]
		d := o.date.Add(time.Duration(3+r.IntN(10)) * 24 * time.Hour)
		if d.After(a.now()) {
			continue
		}
		status := []int{2, 3, 6, 7, 7, 7, 4, 5}[r.IntN(8)]
		x := &rma{EmagID: 1_100_000 + int64(len(a.rmas))*13 + int64(a.index), OrderID: fmt.Sprint(o.ID), Type: o.Type,
			CustomerName: o.Customer.Name, CustomerPhone: o.Customer.Phone1,
			Products: []map[string]any{{"id": 2_000_000 + r.IntN(1_000_000), "product_emag_id": l.MktID, "product_id": l.ProductID,
				"quantity": 1, "product_name": l.Name, "return_reason": 10 + r.IntN(20), "observations": "", "diagnostic": nil,
				"reject_reason": nil, "refund_value": l.SalePrice.String(), "retained_amount": 0}},
			Awbs: []map[string]any{}, PickupCountry: "RO", PickupSuburb: o.Customer.ShippingSuburb, PickupCity: o.Customer.ShippingCity,
			PickupAddress: o.Customer.ShippingStreet, PickupZipcode: o.Customer.ShippingPostalCode, PickupLocality: o.Customer.ShippingLocalityID,
			PickupMethod: 1 + r.IntN(3), ReturnReason: 10 + r.IntN(20), ReturnType: []int{1, 3, 3, 5}[r.IntN(4)],
			Date: d.Format(dateLayout), RequestStatus: status, RequestHistory: []map[string]any{}, StatusHistory: []map[string]any{},
			Locker: []any{}, Currency: "RON", date: d}
		a.rmas = append(a.rmas, x)
	}
}

func (a *account) rmaByID(id int64) *rma {
	for _, x := range a.rmas {
		if x.EmagID == id {
			return x
		}
	}
	return nil
}

func (c *call) rmaSelect() ([]*rma, string) {
	p := c.params()
	var filters = map[string][]int64{}
	for _, k := range []string{"emag_id", "order_id", "product_id", "request_status", "type"} {
		v, _, err := p.intList(k)
		if err != nil {
			return nil, fmt.Sprintf("Invalid %s filter: %v", k, err)
		}
		filters[k] = v
	}
	from, to, msg := p.dateWindow(c.s.zone, "date_start", "date_end", false)
	if msg != "" {
		return nil, msg
	}
	var out []*rma
	for _, x := range c.a.rmas {
		oid := int64(0)
		fmt.Sscan(x.OrderID, &oid)
		pid, _ := x.Products[0]["product_id"].(int64)
		ok := (filters["emag_id"] == nil || slices.Contains(filters["emag_id"], x.EmagID)) &&
			(filters["order_id"] == nil || slices.Contains(filters["order_id"], oid)) &&
			(filters["product_id"] == nil || slices.Contains(filters["product_id"], pid)) &&
			(filters["request_status"] == nil || slices.Contains(filters["request_status"], int64(x.RequestStatus))) &&
			(filters["type"] == nil || slices.Contains(filters["type"], int64(x.Type))) &&
			(from.IsZero() || !x.date.Before(from)) && (to.IsZero() || !x.date.After(to))
		if ok {
			out = append(out, x)
		}
	}
	return out, ""
}

func (c *call) rmaRead() {
	c.a.mu.RLock()
	defer c.a.mu.RUnlock()
	listRead(c, c.rmaSelect) // the returns are encoded under the lock
}

func (c *call) rmaCount() {
	c.a.mu.RLock()
	defer c.a.mu.RUnlock()
	listCount(c, c.rmaSelect)
}

var rmaTransitions = map[int][]int{2: {2, 3, 5}, 3: {3, 5, 6}, 4: {4}, 5: {5}, 6: {4, 6, 7}, 7: {7}}

func (c *call) rmaSave() {
	items, ok := c.bulk("returns")
	if !ok {
		return
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	var errs []string
	for _, m := range items {
		id, _, _ := getInt(m, "emag_id")
		x := c.a.rmaByID(id)
		st, has, err := getInt(m, "request_status")
		switch {
		case x == nil:
			errs = append(errs, fmt.Sprintf("ERROR: the return request does not exist - Rma id: %v", m["emag_id"]))
		case params(m).str("customer_name") == "":
			errs = append(errs, fmt.Sprintf("ERROR: please provide the customer name - Rma id: %d", id))
		case !has || err != nil || !slices.Contains(rmaTransitions[x.RequestStatus], int(st)):
			errs = append(errs, fmt.Sprintf("ERROR: the status cannot change from %d to %v - Rma id: %d", x.RequestStatus, m["request_status"], id))
		default:
			x.RequestStatus = int(st)
			x.CustomerName = params(m).str("customer_name")
		}
	}
	if len(errs) > 0 {
		// eMAG echoes the submitted entities, nested, with the errors.
		echo, _ := marshal([]any{items})
		m, _ := marshal(errs)
		c.status = http.StatusOK
		fmt.Fprintf(c.out, `{"isError":true,"messages":%s,"errors":[],"results":%s}`, m, echo)
		return
	}
	c.ok([]any{})
}

// latinLetters folds Romanian diacritics to plain Latin letters.
var latinLetters = strings.NewReplacer("ă", "a", "â", "a", "î", "i", "ș", "s", "ş", "s", "ț", "t", "ţ", "t", "Ă", "A", "Â", "A", "Î", "I", "Ș", "S", "Ț", "T")
