package sandbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/magflow/magflow"
)

// number is a decimal that eMAG sends as a JSON number (shipping_tax).
type number magflow.Decimal

// MarshalJSON writes the decimal as a bare number with trailing zeros cut.
func (n number) MarshalJSON() ([]byte, error) {
	s := magflow.Decimal(n).String()
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return []byte(s), nil
}

type voucherSplit struct {
	VoucherID   int64           `json:"voucher_id"`
	Value       magflow.Decimal `json:"value"`
	VatValue    magflow.Decimal `json:"vat_value"`
	VAT         magflow.Decimal `json:"vat"`
	OfferedBy   string          `json:"offered_by"`
	VoucherName string          `json:"voucher_name"`
}

type voucher struct {
	ID           int64           `json:"id"`
	VoucherID    int64           `json:"voucher_id"`
	Modified     string          `json:"modified"`
	Created      string          `json:"created"`
	Status       int             `json:"status"`
	SalePriceVat magflow.Decimal `json:"sale_price_vat"`
	SalePrice    magflow.Decimal `json:"sale_price"`
	VoucherName  string          `json:"voucher_name"`
	VAT          magflow.Decimal `json:"vat"`
	IssueDate    string          `json:"issue_date"`
}

type orderAttachment struct {
	Name          string `json:"name"`
	URL           string `json:"url"`
	Type          int    `json:"type"`
	ForceDownload int    `json:"force_download"`
	Visibility    string `json:"visibility"`
	OrderID       int64  `json:"order_id"`
}

type customer struct {
	ID                 int64   `json:"id"`
	MktID              int64   `json:"mkt_id"`
	Name               string  `json:"name"`
	Company            string  `json:"company"`
	Gender             string  `json:"gender"`
	Email              string  `json:"email"`
	Code               string  `json:"code"`
	RegistrationNumber string  `json:"registration_number"`
	Bank               string  `json:"bank"`
	IBAN               string  `json:"iban"`
	Fax                *string `json:"fax"`
	LegalEntity        int     `json:"legal_entity"`
	IsVatPayer         int     `json:"is_vat_payer"`
	Phone1             string  `json:"phone_1"`
	Phone2             string  `json:"phone_2"`
	Phone3             string  `json:"phone_3"`
	BillingName        string  `json:"billing_name"`
	BillingPhone       string  `json:"billing_phone"`
	BillingCountry     string  `json:"billing_country"`
	BillingSuburb      string  `json:"billing_suburb"`
	BillingCity        string  `json:"billing_city"`
	BillingLocalityID  int     `json:"billing_locality_id"`
	BillingStreet      string  `json:"billing_street"`
	BillingPostalCode  string  `json:"billing_postal_code"`
	ShippingCountry    string  `json:"shipping_country"`
	ShippingSuburb     string  `json:"shipping_suburb"`
	ShippingCity       string  `json:"shipping_city"`
	ShippingLocalityID int     `json:"shipping_locality_id"`
	ShippingStreet     string  `json:"shipping_street"`
	ShippingPostalCode string  `json:"shipping_postal_code"`
	ShippingContact    string  `json:"shipping_contact"`
	ShippingPhone      string  `json:"shipping_phone"`
	LiablePerson       string  `json:"liable_person"`
	Created            string  `json:"created"`
	Modified           string  `json:"modified"`
}

type orderLine struct {
	ID                  int64           `json:"id"`
	ProductID           int64           `json:"product_id"`
	MktID               int64           `json:"mkt_id"`
	Name                string          `json:"name"`
	ExtPartNumber       string          `json:"ext_part_number"`
	PartNumber          string          `json:"part_number"`
	PartNumberKey       string          `json:"part_number_key"`
	Quantity            int             `json:"quantity"`
	InitialQty          int             `json:"initial_qty"`
	StornoQty           int             `json:"storno_qty"`
	SalePrice           magflow.Decimal `json:"sale_price"`
	OriginalPrice       magflow.Decimal `json:"original_price"`
	Currency            string          `json:"currency"`
	VAT                 magflow.Decimal `json:"vat"`
	Status              int             `json:"status"`
	RetainedAmount      int             `json:"retained_amount"`
	ReversibleVAT       int             `json:"reversible_vat_charging"`
	ProductVoucherSplit []voucherSplit  `json:"product_voucher_split"`
	Details             []any           `json:"details"`
	Attachments         []any           `json:"attachments"`
	RecycleWarranties   []any           `json:"recycle_warranties"`
	SerialNumbers       string          `json:"serial_numbers"`
	Created             string          `json:"created"`
	Modified            string          `json:"modified"`
}

type idName struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

type flag struct {
	Flag  string `json:"flag"`
	Value int    `json:"value"`
}

// order is one order, held in the shape order/read sends.
type order struct {
	ID                       int64             `json:"id"`
	VendorName               string            `json:"vendor_name"`
	Type                     int               `json:"type"`
	ParentID                 *int64            `json:"parent_id"`
	Date                     string            `json:"date"`
	Created                  string            `json:"created"`
	Modified                 string            `json:"modified"`
	PaymentMode              string            `json:"payment_mode"`
	DetailedPaymentMethod    string            `json:"detailed_payment_method"`
	PaymentModeID            *int              `json:"payment_mode_id"`
	DeliveryMode             string            `json:"delivery_mode"`
	DeliveryPaymentMode      *string           `json:"delivery_payment_mode"`
	Observation              *string           `json:"observation"`
	Status                   int               `json:"status"`
	PaymentStatus            int               `json:"payment_status"`
	IsComplete               int               `json:"is_complete"`
	Details                  map[string]any    `json:"details"`
	Customer                 customer          `json:"customer"`
	Products                 []orderLine       `json:"products"`
	ShippingTax              number            `json:"shipping_tax"`
	ShippingTaxVoucherSplit  []voucherSplit    `json:"shipping_tax_voucher_split"`
	Vouchers                 []voucher         `json:"vouchers"`
	Proforms                 []any             `json:"proforms"`
	Attachments              []orderAttachment `json:"attachments"`
	CashedCO                 *number           `json:"cashed_co"`
	CashedCOD                number            `json:"cashed_cod"`
	CancellationRequest      *string           `json:"cancellation_request"`
	HasEditableProducts      int               `json:"has_editable_products"`
	IsStorno                 bool              `json:"is_storno"`
	RefundedAmount           string            `json:"refunded_amount"`
	RefundStatus             *string           `json:"refund_status"`
	ReasonCancellation       *idName           `json:"reason_cancellation"`
	MaximumDateForShipment   string            `json:"maximum_date_for_shipment"`
	LateShipment             int               `json:"late_shipment"`
	FinalizationDate         *string           `json:"finalization_date"`
	Flags                    []flag            `json:"flags"`
	EmagClub                 int               `json:"emag_club"`
	WeekendDelivery          int               `json:"weekend_delivery"`
	EnforcedVendorCourierAcc []int             `json:"enforced_vendor_courier_accounts"`
	Currency                 string            `json:"currency"`

	date      time.Time
	modified  time.Time
	statusAt  time.Time // when the status last changed (48 h windows)
	reserving bool      // status 1: its quantities are reserved
	cache     atomic.Pointer[[]byte]
}

func (o *order) json() []byte {
	if b := o.cache.Load(); b != nil {
		return *b
	}
	b, err := marshal(o)
	if err != nil {
		panic(err)
	}
	o.cache.Store(&b)
	return b
}

func (o *order) setModified(t time.Time) {
	o.modified = t
	o.Modified = t.Format(dateLayout)
	o.cache.Store(nil)
}

var (
	firstNames = []string{"Ion", "Maria", "Andrei", "Elena", "Mihai", "Ioana", "Alexandru", "Ana", "Gabriel", "Cristina", "Florin", "Raluca", "Vlad", "Diana", "Bogdan", "Simona"}
	lastNames  = []string{"Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica", "Gheorghe", "Matei", "Ciobanu", "Rusu", "Munteanu", "Constantin", "Marin", "Dinu", "Tudor", "Lazăr"}
	streets    = []string{"Str. Mihai Eminescu", "Bd. Unirii", "Str. Florilor", "Calea Victoriei", "Str. Libertății", "Aleea Teilor", "Str. Republicii", "Bd. Independenței"}
	reasons    = map[int]string{1: "Out of stock", 2: "Cancelled by the client", 3: "The client can not be contacted", 18: "Better offer in another store", 24: "By customer request", 26: "Late shipment", 36: "Better price elsewhere", 38: "Customer changed mind, does not need the product"}
	reasonIDs  = []int{1, 2, 3, 18, 24, 26, 36, 38}
)

type paymentMode struct {
	id       int
	name     string
	detailed string
}

var paymentModes = []paymentMode{{1, "RAMBURS", "RAMBURS"}, {3, "CARD ONLINE", "CARD ONLINE"}, {2, "ORDIN DE PLATA", "ORDIN DE PLATA"}, {1, "RAMBURS", "eCREDIT"}}

// newOrder builds an order placed at t with status, from the seed.
func (a *account) newOrder(r *rand.Rand, id int64, t time.Time, status, typ int) *order {
	loc := localities[r.IntN(len(localities))]
	fn, ln := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
	name := fn + " " + ln
	phone := fmt.Sprintf("07%08d", r.IntN(100000000))
	ts := t.Format(dateLayout)
	pm := paymentModes[r.IntN(len(paymentModes))]
	o := &order{
		ID: id, VendorName: "Magazin Sandbox SRL", Type: typ, Date: ts, Created: ts, Status: status,
		PaymentMode: pm.name, DetailedPaymentMethod: pm.detailed, IsComplete: 1, Currency: "RON",
		DeliveryMode: "courier", Details: map[string]any{}, Proforms: []any{}, Attachments: []orderAttachment{},
		ShippingTaxVoucherSplit: []voucherSplit{}, Vouchers: []voucher{}, Flags: []flag{}, RefundedAmount: "0",
		HasEditableProducts: 1, date: t, statusAt: t,
		MaximumDateForShipment: t.Add(48 * time.Hour).Format(dateLayout),
	}
	if r.IntN(20) != 0 {
		id := pm.id
		o.PaymentModeID = &id // eMAG sometimes sends null
	}
	if pm.id == 3 {
		o.PaymentStatus = 1
	}
	street := fmt.Sprintf("%s nr. %d", streets[r.IntN(len(streets))], 1+r.IntN(150))
	if r.IntN(3) == 0 {
		o.DeliveryMode = "pickup"
		lockerID := fmt.Sprintf("%08x-0000-4000-8000-%012x", r.Uint32(), r.Uint64()&0xffffffffffff)
		o.Details = map[string]any{"locker_id": lockerID, "locker_name": "easybox " + loc.name, "locker_delivery_eligible": 1, "courier_external_office_id": nil}
		street += fmt.Sprintf(" [EasyBox #%d]", 1000+r.IntN(9000))
	}
	o.Customer = customer{
		ID: 4_000_000 + r.Int64N(5_000_000), MktID: 4_500_000 + r.Int64N(5_000_000), Name: name, Company: name,
		Gender: []string{"M", "F", ""}[r.IntN(3)], Phone1: phone, BillingName: name, BillingPhone: phone,
		BillingCountry: "RO", BillingSuburb: loc.county, BillingCity: loc.name, BillingLocalityID: loc.id,
		BillingStreet: street, ShippingCountry: "RO", ShippingSuburb: loc.county, ShippingCity: loc.name,
		ShippingLocalityID: loc.id, ShippingStreet: street, ShippingContact: name, ShippingPhone: phone,
		BillingPostalCode: loc.zipcode, ShippingPostalCode: loc.zipcode, Created: ts, Modified: ts,
	}
	if r.IntN(8) == 0 {
		o.Customer.Company = "SC " + ln + " Distribution SRL"
		o.Customer.LegalEntity, o.Customer.IsVatPayer = 1, 1
		o.Customer.Code = fmt.Sprintf("RO%d", 10_000_000+r.IntN(30_000_000))
		o.Customer.RegistrationNumber = fmt.Sprintf("J40/%d/20%02d", 1000+r.IntN(20000), 10+r.IntN(15))
	}
	o.Customer.Email = fmt.Sprintf("%x@emag-customers.invalid", r.Uint64())
	nlines := 1 + r.IntN(3)
	lineBase := id*4 - 12_000_000_000
	for i := range nlines {
		var p *product
		if len(a.products) > 0 {
			p = a.products[r.IntN(len(a.products))]
		}
		l := orderLine{ID: lineBase + int64(i), Quantity: 1 + r.IntN(2)*r.IntN(3), Currency: "RON", VAT: magflow.MustDecimal("0.2100"),
			Status: 1, ProductVoucherSplit: []voucherSplit{}, Details: []any{}, Attachments: []any{}, RecycleWarranties: []any{},
			Created: ts, Modified: ts}
		if p != nil {
			l.ProductID, l.Name, l.ExtPartNumber, l.PartNumber, l.PartNumberKey = p.ID, p.Name, p.PartNumber, p.PartNumber, p.PNK
			l.MktID = int64(mix(p.entry.key) % 90_000_000)
			l.SalePrice = p.SalePrice
		} else {
			l.ProductID, l.Name, l.PartNumber, l.ExtPartNumber = 1, "Produs", "P-1", "P-1"
			l.SalePrice = magflow.DecimalFromInt(100)
		}
		l.OriginalPrice = l.SalePrice
		l.InitialQty = l.Quantity
		if l.Name != "" && strings.Contains(l.Name, "Combină") {
			l.RecycleWarranties = []any{map[string]any{"quantity": l.Quantity, "sale_price": "0.5000", "vat_rate": "0.2100", "product_name": "Taxa SGR metal", "recycle_warranty_voucher_split": []any{}}}
		}
		o.Products = append(o.Products, l)
	}
	o.ShippingTax = number(magflow.MustDecimal([]string{"0", "14.99", "19.99", "9.99"}[r.IntN(4)]))
	if r.IntN(10) == 0 {
		vid := 9_000_000 + r.Int64N(1_000_000)
		val := magflow.DecimalFromInt(int64(10 * (1 + r.IntN(5))))
		net := magflow.NewDecimal(val.Units() * 100 / 121)
		o.Vouchers = append(o.Vouchers, voucher{ID: vid + 1, VoucherID: vid, Modified: ts, Created: ts, Status: 1,
			SalePriceVat: magflow.NewDecimal(-val.Units()), SalePrice: magflow.NewDecimal(-net.Units()),
			VoucherName: "Voucher reducere " + val.String()[:2] + " lei", VAT: magflow.MustDecimal("0.2100"), IssueDate: ts[:10]})
		o.Products[0].ProductVoucherSplit = []voucherSplit{{VoucherID: vid, Value: magflow.NewDecimal(-net.Units()),
			VatValue: magflow.NewDecimal(net.Units() - val.Units()), VAT: magflow.MustDecimal("0.2100"), OfferedBy: "emag", VoucherName: "Voucher reducere"}}
	}
	if r.IntN(5) == 0 {
		o.Flags = []flag{{Flag: "genius", Value: 1}}
		o.EmagClub = 1
	}
	if status == 0 {
		rid := reasonIDs[r.IntN(len(reasonIDs))]
		o.ReasonCancellation = &idName{ID: rid, Name: reasons[rid]}
	}
	if status >= 4 {
		f := t.Add(time.Duration(24+r.IntN(48)) * time.Hour).Format(dateLayout)
		o.FinalizationDate = &f
	}
	if status == 4 && r.IntN(15) == 0 {
		l := &o.Products[0]
		if l.Quantity > 1 {
			l.Quantity--
			l.StornoQty = 1
			o.IsStorno = true
		}
	}
	if status == 1 && typ == 3 {
		a.reserve(o, 1)
	}
	return o
}

// reserve moves an order's quantities in or out of the products' reserved
// stock (estimated_stock). Callers hold the write lock.
func (a *account) reserve(o *order, sign int) {
	if (sign > 0) == o.reserving {
		return
	}
	o.reserving = sign > 0
	for _, l := range o.Products {
		if p := a.byID[l.ProductID]; p != nil {
			p.reserved = max(0, p.reserved+sign*l.Quantity)
			p.touch()
		}
	}
}

func (a *account) nextOrderID(r *rand.Rand) int64 {
	last := int64(3_100_000_000) + int64(a.index)*7
	if n := len(a.orders); n > 0 {
		last = a.orders[n-1].ID
	}
	return last + 1 + r.Int64N(40)
}

func (a *account) orderType(r *rand.Rand) int {
	if r.Float64() < a.opts.FBEShare {
		return 2
	}
	return 3
}

// generateOrders builds the last 90 days of orders.
func (a *account) generateOrders(ai int) {
	n := a.opts.Orders
	if n == 0 {
		return
	}
	r := newRand(uint64(a.s.opts.Seed), uint64(ai), 0x0dd)
	now := a.now()
	start := now.Add(-90 * 24 * time.Hour)
	times := make([]time.Time, n)
	for i := range times {
		times[i] = start.Add(time.Duration(r.Int64N(int64(90 * 24 * time.Hour))))
	}
	slices.SortFunc(times, func(x, y time.Time) int { return x.Compare(y) })
	for _, t := range times {
		t = t.Truncate(time.Second)
		age := now.Sub(t)
		typ := a.orderType(r)
		x := r.IntN(100)
		var status int
		switch {
		case age < 24*time.Hour:
			status = []int{1, 1, 1, 1, 2, 2, 2, 3, 3, 0}[x%10]
		case age < 72*time.Hour:
			status = []int{2, 3, 3, 4, 4, 4, 4, 4, 0, 1}[x%10]
		default:
			status = 4
			if x < 12 {
				status = 0
			} else if x < 19 {
				status = 5
			}
		}
		if typ == 2 && status == 1 {
			status = 2
		}
		o := a.newOrder(r, a.nextOrderID(r), t, status, typ)
		mod := t.Add(time.Duration(r.Int64N(int64(max(age, time.Minute)))))
		if status == 1 {
			mod = t.Add(time.Duration(r.Int64N(int64(max(age/4, time.Second)))))
		}
		o.statusAt = mod
		o.setModified(mod)
		a.addOrder(o)
	}
}

func (a *account) addOrder(o *order) {
	a.orders = append(a.orders, o)
	a.orderByID[o.ID] = o
}

// maybeAdvance lets the orders that the clock says have arrived arrive.
func (a *account) maybeAdvance(now time.Time) {
	if a.s.opts.OrderRate <= 0 {
		return
	}
	if a.due(now) <= atomic.LoadInt64(&a.arrivals) {
		return
	}
	a.mu.Lock()
	a.advance(now)
	a.mu.Unlock()
}

func (a *account) due(now time.Time) int64 {
	return int64(now.Sub(a.s.started).Minutes() * a.s.opts.OrderRate)
}

// advance creates the orders due by now and drifts the statuses of older
// ones: eMAG processes its own (FBE) orders, customers cancel new ones,
// finalized ones come back. Callers hold the write lock.
func (a *account) advance(now time.Time) {
	rate := a.s.opts.OrderRate
	if rate <= 0 {
		return
	}
	due := a.due(now)
	k := atomic.LoadInt64(&a.arrivals)
	if due-k > 10000 {
		k = due - 10000 // a clock leap: the orders in between are lost, as during an outage
	}
	period := time.Duration(float64(time.Minute) / rate)
	for ; k < due; k++ {
		t := a.s.started.Add(time.Duration(k+1) * period).In(a.s.zone).Truncate(time.Second)
		r := newRand(uint64(a.s.opts.Seed), uint64(a.index), uint64(k), 0xa77)
		o := a.newOrder(r, a.nextOrderID(r), t, 1, a.orderType(r))
		o.setModified(t)
		a.addOrder(o)
		if len(a.orders) > 1 && r.IntN(2) == 0 {
			lo := max(0, len(a.orders)-200)
			a.drift(r, a.orders[lo+r.IntN(len(a.orders)-1-lo)], t)
		}
	}
	atomic.StoreInt64(&a.arrivals, k)
}

func (a *account) drift(r *rand.Rand, o *order, t time.Time) {
	switch {
	case o.Type == 2 && o.Status >= 1 && o.Status <= 3:
		a.setStatus(o, o.Status+1, t)
	case o.Type == 3 && o.Status == 1 && r.IntN(10) == 0:
		o.ReasonCancellation = &idName{ID: 24, Name: reasons[24]}
		a.setStatus(o, 0, t)
	case o.Status == 4 && r.IntN(30) == 0:
		a.setStatus(o, 5, t)
	default:
		return
	}
}

func (a *account) setStatus(o *order, status int, t time.Time) {
	if o.Status == 1 && status != 1 {
		a.reserve(o, -1)
		if status == 2 {
			for _, l := range o.Products {
				if p := a.byID[l.ProductID]; p != nil && len(p.Stock) > 0 {
					p.Stock[0].Value = max(0, p.Stock[0].Value-l.Quantity)
					p.touch()
				}
			}
		}
	}
	o.Status = status
	o.statusAt = t
	if status == 4 && o.FinalizationDate == nil {
		f := t.Format(dateLayout)
		o.FinalizationDate = &f
	}
	if status >= 4 || status == 0 {
		o.HasEditableProducts = 0
	}
	o.setModified(t)
}

// orderFilter is a parsed order/read or order/count filter.
type orderFilter struct {
	ids, status, payment []int64
	isComplete           int64
	hasComplete          bool
	types                []int64
	cFrom, cTo           time.Time
	mFrom, mTo           time.Time
}

func (c *call) parseOrderFilter(count bool) (orderFilter, string) {
	p := c.params()
	var f orderFilter
	var err error
	if f.ids, _, err = p.intList("id"); err != nil {
		return f, "Invalid id filter: " + err.Error()
	}
	if f.status, _, err = p.intList("status"); err != nil {
		return f, "Invalid status filter: " + err.Error()
	}
	if f.payment, _, err = p.intList("payment_mode_id"); err != nil {
		return f, "Invalid payment_mode_id filter: " + err.Error()
	}
	if f.isComplete, f.hasComplete, err = p.intParam("is_complete"); err != nil {
		return f, "Invalid is_complete filter: " + err.Error()
	}
	var has bool
	if f.types, has, err = p.intList("type"); err != nil {
		return f, "Invalid type filter: " + err.Error()
	}
	for _, t := range f.types {
		if t != 2 && t != 3 {
			return f, "The type filter must be 2 (fulfilled by eMAG) or 3 (fulfilled by seller)"
		}
	}
	if !has && !count {
		f.types = []int64{3} // order/read defaults to seller-fulfilled orders
	}
	var msg string
	if f.cFrom, f.cTo, msg = p.dateWindow(c.s.zone, "createdAfter", "createdBefore", count); msg != "" {
		return f, msg
	}
	if f.mFrom, f.mTo, msg = p.dateWindow(c.s.zone, "modifiedAfter", "modifiedBefore", count); msg != "" {
		return f, msg
	}
	return f, ""
}

func (f *orderFilter) match(o *order) bool {
	in := func(list []int64, v int64) bool { return list == nil || slices.Contains(list, v) }
	pm := int64(-1)
	if o.PaymentModeID != nil {
		pm = int64(*o.PaymentModeID)
	}
	return in(f.ids, o.ID) && in(f.status, int64(o.Status)) && in(f.payment, pm) && in(f.types, int64(o.Type)) &&
		(!f.hasComplete || int64(o.IsComplete) == f.isComplete) &&
		(f.cFrom.IsZero() || !o.date.Before(f.cFrom)) && (f.cTo.IsZero() || !o.date.After(f.cTo)) &&
		(f.mFrom.IsZero() || !o.modified.Before(f.mFrom)) && (f.mTo.IsZero() || !o.modified.After(f.mTo))
}

// orderQuery reads the paging and the filter of order/read and order/count
// (the count ignores currentPage), failing the call on a bad one.
func (c *call) orderQuery(count bool) (f orderFilter, page, per int64, ok bool) {
	page, per, msg := c.params().paging("orders")
	switch {
	case msg != "":
	case !count && page > 65535:
		msg = "currentPage must be between 1 and 65535"
	default:
		f, msg = c.parseOrderFilter(count)
	}
	if msg != "" {
		c.fail(msg)
		return f, 0, 0, false
	}
	return f, page, per, true
}

func (c *call) orderRead() {
	f, page, per, ok := c.orderQuery(false)
	if !ok {
		return
	}
	c.a.mu.RLock()
	defer c.a.mu.RUnlock()
	c.status = http.StatusOK
	c.out.WriteString(envelopeHead)
	c.out.WriteByte('[')
	lo, n := (page-1)*per, int64(0)
	for _, o := range c.a.orders {
		if !f.match(o) {
			continue
		}
		if n >= lo && n < lo+per {
			if n > lo {
				c.out.WriteByte(',')
			}
			c.out.Write(o.json())
		}
		n++
		if n >= lo+per {
			break
		}
	}
	c.out.WriteString("]}")
}

func (c *call) orderCount() {
	f, _, per, ok := c.orderQuery(true)
	if !ok {
		return
	}
	c.a.mu.RLock()
	n := 0
	for _, o := range c.a.orders {
		if f.match(o) {
			n++
		}
	}
	c.a.mu.RUnlock()
	c.ok(countResult(n, int(per)))
}

// pathSellerOrder returns the seller-fulfilled order the path names, or
// fails the call and returns nil; fbe ends the message for an order eMAG
// fulfils. The caller holds c.a.mu.
func (c *call) pathSellerOrder(fbe string) *order {
	id, err := parseID(c.pathID)
	if err != nil {
		c.fail(fmt.Sprintf("Invalid order id %q", c.pathID))
		return nil
	}
	o := c.a.orderByID[id]
	switch {
	case o == nil:
		c.fail(fmt.Sprintf("Order %d does not exist", id))
	case o.Type != 3:
		c.fail(fmt.Sprintf("Order %d is fulfilled by eMAG%s", id, fbe))
	default:
		return o
	}
	return nil
}

func (c *call) orderAcknowledge() {
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	o := c.pathSellerOrder(" and cannot be acknowledged")
	switch {
	case o == nil:
	case o.Status != 1:
		c.fail(fmt.Sprintf("Order %d cannot be acknowledged: only new orders (status 1) can be acknowledged, its status is %d", o.ID, o.Status))
	default:
		c.a.setStatus(o, 2, c.now.In(c.s.zone))
		c.ok([]any{})
	}
}

func (c *call) orderUnlockCourier() {
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	if o := c.pathSellerOrder(""); o != nil {
		o.EnforcedVendorCourierAcc = nil
		o.setModified(c.now.In(c.s.zone))
		c.ok([]any{})
	}
}

// canTransition is the order status matrix of DOC449 §5.3 (acknowledge is
// the only way from 1 to 2 and is not a save).
func canTransition(o *order, to int, now time.Time) (bool, string) {
	from := o.Status
	within := func(d time.Duration) bool { return now.Sub(o.statusAt) <= d }
	switch from {
	case 1:
		return to == 1, "a new order can only move on by acknowledge"
	case 2:
		return to == 2 || to == 3 || to == 4 || to == 0, "an order in progress can become prepared, finalized or canceled"
	case 3:
		return to == 3 || to == 4 || to == 0, "a prepared order can become finalized or canceled"
	case 4:
		switch to {
		case 4:
			return true, ""
		case 3, 0:
			return within(48 * time.Hour), "a finalized order can go back to prepared or be canceled only within 48 hours"
		case 5:
			return within(35 * 24 * time.Hour), "a finalized order can be returned only within the return period plus 5 days"
		}
		return false, "a finalized order cannot take that status"
	case 0:
		switch to {
		case 0:
			return true, ""
		case 2, 3, 4:
			return within(48 * time.Hour), "a canceled order cannot be reactivated after 48 hours"
		}
		return false, "a canceled order cannot take that status"
	}
	return false, "a returned order cannot be changed"
}

func (c *call) orderSave() {
	items, ok := c.bulk("orders")
	if !ok {
		return
	}
	now := c.now.In(c.s.zone)
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	var errs []string
	for _, m := range items {
		if msg := c.a.saveOrder(m, now); msg != "" {
			errs = append(errs, msg)
		}
	}
	if len(errs) > 0 {
		c.fail(errs...)
		return
	}
	c.ok([]any{})
}

func (a *account) saveOrder(m map[string]any, now time.Time) string {
	id, has, err := getInt(m, "id")
	if !has || err != nil {
		return "The order id is mandatory"
	}
	o := a.orderByID[id]
	if o == nil {
		return fmt.Sprintf("Order %d does not exist; orders cannot be created", id)
	}
	bad := func(format string, args ...any) string {
		return fmt.Sprintf("Order %d: ", id) + fmt.Sprintf(format, args...)
	}
	if o.Type != 3 {
		return bad("orders fulfilled by eMAG cannot be modified")
	}
	to, has, err := getInt(m, "status")
	if !has || err != nil || to < 0 || to > 5 {
		return bad("status is mandatory: 0, 1, 2, 3, 4 or 5")
	}
	if ok, why := canTransition(o, int(to), now); !ok {
		return bad("cannot change status from %d to %d: %s", o.Status, to, why)
	}
	storno, _, _ := getInt(m, "is_storno")
	lines := o.Products
	changed := false
	if v, ok := m["products"]; ok {
		list, ok := v.([]any)
		if !ok {
			return bad("products must be a list")
		}
		var msg string
		lines, changed, msg = a.mergeLines(o, list, now)
		if msg != "" {
			return bad("%s", msg)
		}
	}
	if storno == 1 {
		if o.Status != 4 || to != 4 {
			return bad("is_storno is only allowed on finalized orders (status 4)")
		}
		if !changed {
			return bad("is_storno was sent but no product quantity was lowered")
		}
	} else if changed {
		if o.Status == 4 {
			return bad("a finalized order can only be modified with is_storno")
		}
		if o.Status != 2 && o.Status != 3 {
			return bad("products can only be edited while the order is in progress or prepared")
		}
	}
	if changed && o.PaymentModeID != nil && *o.PaymentModeID == 3 && storno != 1 {
		for i, l := range lines {
			if i < len(o.Products) && l.Quantity < o.Products[i].Quantity {
				return bad("quantities cannot be reduced on orders paid online by card")
			}
		}
	}
	if to == 0 {
		rid, has, _ := getInt(m, "reason_cancellation")
		if !has {
			if rm, ok := m["reason_cancellation"].(map[string]any); ok {
				rid, has, _ = getInt(rm, "id")
			}
		}
		if has {
			name := reasons[int(rid)]
			if name == "" {
				name = "Others"
			}
			o.ReasonCancellation = &idName{ID: int(rid), Name: name}
		}
	}
	if storno == 1 {
		o.IsStorno = true
	}
	o.Products = lines
	if int(to) != o.Status {
		a.setStatus(o, int(to), now)
	} else {
		o.setModified(now)
	}
	return ""
}

// mergeLines applies the product lines of an order/save: keep, change
// quantity or status, remove (status 0 or omitted), add (no id).
func (a *account) mergeLines(o *order, list []any, now time.Time) ([]orderLine, bool, string) {
	byID := map[int64]map[string]any{}
	var added []map[string]any
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, false, "products must be a list of objects"
		}
		lid, has, err := getInt(m, "id")
		if err != nil {
			return nil, false, "product line id must be an integer"
		}
		if !has || lid == 0 {
			added = append(added, m)
			continue
		}
		byID[lid] = m
	}
	changed := false
	ts := now.Format(dateLayout)
	out := make([]orderLine, 0, len(o.Products)+len(added))
	for _, l := range o.Products {
		m, ok := byID[l.ID]
		if !ok {
			if l.Status == 1 {
				l.Status, changed = 0, true
				l.Modified = ts
			}
			out = append(out, l)
			continue
		}
		delete(byID, l.ID)
		if pid, has, _ := getInt(m, "product_id"); has && pid != l.ProductID {
			return nil, false, fmt.Sprintf("the product_id of line %d cannot be changed", l.ID)
		}
		if sp, has, err := getDecimal(m, "sale_price"); err != nil || (has && sp != l.SalePrice) {
			return nil, false, fmt.Sprintf("the sale_price of line %d cannot be changed", l.ID)
		}
		if q, has, err := getInt(m, "quantity"); err != nil || (has && q < 0) {
			return nil, false, fmt.Sprintf("the quantity of line %d must be 0 or more", l.ID)
		} else if has && int(q) != l.Quantity {
			if int(q) > l.Quantity && o.Status == 4 {
				return nil, false, fmt.Sprintf("the quantity of line %d cannot grow on a finalized order", l.ID)
			}
			if o.Status == 4 {
				l.StornoQty += l.Quantity - int(q)
			}
			l.Quantity, changed = int(q), true
			l.Modified = ts
		}
		if st, has, err := getInt(m, "status"); err != nil || (has && st != 0 && st != 1) {
			return nil, false, fmt.Sprintf("the status of line %d must be 0 or 1", l.ID)
		} else if has && int(st) != l.Status {
			l.Status, changed = int(st), true
			l.Modified = ts
		}
		out = append(out, l)
	}
	for lid := range byID {
		return nil, false, fmt.Sprintf("line %d is not part of the order", lid)
	}
	for i, m := range added {
		pid, has, err := getInt(m, "product_id")
		if !has || err != nil || pid < 1 {
			return nil, false, "a new product line needs a product_id"
		}
		name := params(m).str("name")
		sp, hasP, err := getDecimal(m, "sale_price")
		st, hasS, _ := getInt(m, "status")
		if name == "" || !hasP || err != nil || !hasS {
			return nil, false, "a new product line needs product_id, name, status and sale_price"
		}
		q, hasQ, _ := getInt(m, "quantity")
		if !hasQ {
			q = 1
		}
		l := orderLine{ID: o.ID*4 - 12_000_000_000 + int64(len(o.Products)+i) + 100, ProductID: pid, Name: name, Quantity: int(q), InitialQty: int(q),
			SalePrice: sp, OriginalPrice: sp, Currency: "RON", VAT: magflow.MustDecimal("0.2100"), Status: int(st),
			ProductVoucherSplit: []voucherSplit{}, Details: []any{}, Attachments: []any{}, RecycleWarranties: []any{}, Created: ts, Modified: ts}
		if p := a.byID[pid]; p != nil {
			l.PartNumber, l.ExtPartNumber, l.PartNumberKey = p.PartNumber, p.PartNumber, p.PNK
		}
		out = append(out, l)
		changed = true
	}
	return out, changed, ""
}

var attachmentTypes = map[int64]bool{1: true, 3: true, 4: true, 8: true, 10: true, 11: true}

func (c *call) attachmentsSave() {
	items, ok := c.bulk("attachments")
	if !ok {
		return
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	var errs []string
	for _, m := range items {
		oid, has, err := getInt(m, "order_id")
		o := c.a.orderByID[oid]
		typ, hasT, errT := getInt(m, "type")
		if !hasT {
			typ = 1
		}
		if lid, hasL, _ := getInt(m, "order_product_id"); !has && err == nil && typ == 3 && hasL {
			// order_id is required for invoices; a warranty names its line
			// (order_product_id), which names the order (emag-api.md §4.6.7).
			if o = c.a.orderOfLine(lid); o != nil {
				oid, has = o.ID, true
			}
		}
		otype, hasOT, errOT := getInt(m, "order_type")
		name, u := params(m).str("name"), params(m).str("url")
		switch {
		case !has || err != nil || o == nil:
			errs = append(errs, fmt.Sprintf("Order %v does not exist", m["order_id"]))
		case !hasOT || errOT != nil || (otype != 2 && otype != 3):
			errs = append(errs, fmt.Sprintf("Order %d: order_type is mandatory, 2 or 3", oid))
		case int(otype) != o.Type:
			errs = append(errs, fmt.Sprintf("Order %d: order_type %d does not match the order", oid, otype))
		case errT != nil || !attachmentTypes[typ]:
			errs = append(errs, fmt.Sprintf("Order %d: invalid attachment type %v", oid, m["type"]))
		case name == "" || len([]rune(name)) > 60:
			errs = append(errs, fmt.Sprintf("Order %d: the attachment name is mandatory, at most 60 characters", oid))
		case u == "" || len(u) > 1024 || !(strings.HasPrefix(u, "http://") || strings.HasPrefix(u, "https://")):
			errs = append(errs, fmt.Sprintf("Order %d: the attachment url must be an http(s) URL of at most 1024 characters", oid))
		case !strings.HasSuffix(strings.ToLower(strings.SplitN(u, "?", 2)[0]), ".pdf"):
			errs = append(errs, fmt.Sprintf("Order %d: only PDF attachments are accepted", oid))
		default:
			if typ == 3 {
				lid, has, _ := getInt(m, "order_product_id")
				found := false
				for _, l := range o.Products {
					found = found || l.ID == lid
				}
				if !has || !found {
					errs = append(errs, fmt.Sprintf("Order %d: order_product_id is mandatory for warranties and must be a line of the order", oid))
					continue
				}
			}
			fd, _, _ := getInt(m, "force_download")
			att := orderAttachment{Name: name, URL: u, Type: int(typ), ForceDownload: int(fd), Visibility: "all", OrderID: oid}
			replaced := false
			for i := range o.Attachments {
				if o.Attachments[i].Type == att.Type && o.Attachments[i].Name == att.Name {
					o.Attachments[i], replaced = att, true
				}
			}
			if !replaced {
				o.Attachments = append(o.Attachments, att)
			}
			o.cache.Store(nil)
		}
	}
	if len(errs) > 0 {
		c.fail(errs...)
		return
	}
	c.ok([]any{})
}

// orderOfLine finds the order holding a product line. Callers hold the lock.
func (a *account) orderOfLine(lineID int64) *order {
	for _, o := range a.orders {
		for _, l := range o.Products {
			if l.ID == lineID {
				return o
			}
		}
	}
	return nil
}

// callbacksEnabled reports whether any account has a callback URL.
func (s *Sandbox) callbacksEnabled() bool {
	if s.opts.CallbackURL != "" {
		return true
	}
	for _, a := range s.accounts {
		if a.opts.CallbackURL != "" {
			return true
		}
	}
	return false
}

// callbackLoop calls each account's callback URL with ?order_id=N for every
// unacknowledged seller-fulfilled order, every CallbackInterval, as eMAG
// does until the order is acknowledged.
func (s *Sandbox) callbackLoop(ctx context.Context) {
	t := time.NewTicker(s.opts.CallbackInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, a := range s.accounts {
			u := a.opts.CallbackURL
			if u == "" {
				u = s.opts.CallbackURL
			}
			if u == "" {
				continue
			}
			a.mu.Lock()
			a.advance(s.clock.Now())
			var ids []int64
			for _, o := range a.orders {
				if o.Status == 1 && o.Type == 3 {
					ids = append(ids, o.ID)
				}
			}
			a.mu.Unlock()
			for _, id := range ids {
				if ctx.Err() != nil {
					return
				}
				s.callback(a, u, id)
			}
		}
	}
}

func (s *Sandbox) callback(a *account, base string, id int64) {
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	resp, err := s.opts.CallbackClient.Get(base + sep + "order_id=" + strconv.FormatInt(id, 10))
	a.callbacks.Add(1)
	if err != nil {
		s.log.Warn("sandbox order callback failed", "account", a.name, "order_id", id, "err", err)
		return
	}
	_ = resp.Body.Close()
}
