package emag_test

// End-to-end tests: the client against a real sandbox on loopback, for every
// resource, every fault the client must survive and the rate limits. Each
// test starts its own sandbox (deterministic seed, small catalogues) so the
// tests run in parallel and never see each other's writes.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/ratelimit"
)

const e2eSeed = 20251013

// startSandbox serves a sandbox on a random loopback port until the test ends.
func startSandbox(t *testing.T, opts sandbox.Options) *sandbox.Sandbox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sb, err := sandbox.Start(ctx, opts)
	if err != nil {
		cancel()
		t.Fatalf("start sandbox: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = sb.Close()
		sb.Wait()
	})
	return sb
}

// smallOpts is a fast sandbox: two small accounts, no rate limits.
func smallOpts() sandbox.Options {
	return sandbox.Options{Seed: e2eSeed, NoRateLimit: true, Accounts: []sandbox.AccountOptions{
		{Name: "main", Products: 230, Orders: 260},
		{Name: "fbe", Products: 120, Orders: 150},
	}}
}

// fastRetry keeps retries real but quick.
func fastRetry() emag.RetryPolicy {
	return emag.RetryPolicy{MaxAttempts: 5, BaseDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxElapsed: 15 * time.Second}
}

func accountInfo(t *testing.T, sb *sandbox.Sandbox, name string) sandbox.AccountInfo {
	t.Helper()
	for _, a := range sb.Accounts() {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("sandbox has no account %q", name)
	return sandbox.AccountInfo{}
}

// newClient builds a client for one sandbox account; mods adjust its options.
func newClient(t *testing.T, sb *sandbox.Sandbox, name string, mods ...func(*emag.Options)) *emag.Client {
	t.Helper()
	info := accountInfo(t, sb, name)
	o := emag.Options{Account: name, BaseURL: info.BaseURL, Username: info.Username, Password: info.Password,
		Retry: fastRetry(), AttemptTimeout: 10 * time.Second}
	for _, m := range mods {
		m(&o)
	}
	c, err := emag.New(o)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	return c
}

// wantKind asserts err is an *emag.Error of kind k.
func wantKind(t *testing.T, err error, k emag.Kind) *emag.Error {
	t.Helper()
	var e *emag.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want an *emag.Error of kind %s", err, k)
	}
	if e.Kind != k {
		t.Fatalf("kind = %s, want %s (err: %v)", e.Kind, k, err)
	}
	return e
}

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// bucketStats returns one account's bucket statistics.
func bucketStats(sb *sandbox.Sandbox, account, bucket string) sandbox.BucketStats {
	return sb.Stats().Accounts[account].Buckets[bucket]
}

// totalRequests counts every request the sandbox accepted or refused.
func totalRequests(sb *sandbox.Sandbox) int64 {
	st := sb.Stats()
	n := st.Unauthorized
	for _, a := range st.Accounts {
		for _, b := range a.Buckets {
			n += b.Requests + b.RateLimited
		}
	}
	return n
}

// rawFields splits an item's raw JSON into its fields.
func rawFields(t *testing.T, raw json.RawMessage) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("raw item: %v", err)
	}
	return m
}

func ptr[T any](v T) *T { return &v }

func dec(s string) magflow.Decimal { return magflow.MustDecimal(s) }

// allOffers scans a whole catalogue with the pager.
func allOffers(t *testing.T, c *emag.Client, f emag.ProductOfferFilter) ([]emag.ProductOffer, emag.Count, int) {
	t.Helper()
	var out []emag.ProductOffer
	var total emag.Count
	pages := 0
	for page, err := range c.ProductOfferPages(t.Context(), f, 0) {
		if err != nil {
			t.Fatalf("scan page %d: %v", page.Number, err)
		}
		pages++
		total = page.Total
		out = append(out, page.Items...)
	}
	return out, total, pages
}

// allOrders reads every order of both types.
func allOrders(t *testing.T, c *emag.Client) []emag.Order {
	t.Helper()
	var out []emag.Order
	for _, typ := range []int{2, 3} {
		n := 0
		var total emag.Count
		for page, err := range c.OrderPages(t.Context(), emag.OrderFilter{Type: ptr(typ)}, 0) {
			if err != nil {
				t.Fatalf("orders of type %d, page %d: %v", typ, page.Number, err)
			}
			total = page.Total
			for _, o := range page.Items {
				if o.Type != typ {
					t.Fatalf("order %d has type %d in a type %d read", o.ID, o.Type, typ)
				}
			}
			n += len(page.Items)
			out = append(out, page.Items...)
		}
		if total.Items != n {
			t.Errorf("order/count type %d = %d, pages held %d", typ, total.Items, n)
		}
	}
	return out
}

func readOne(t *testing.T, c *emag.Client, id int64) emag.ProductOffer {
	t.Helper()
	got, err := c.ReadProductOffers(t.Context(), emag.ProductOfferFilter{ID: id})
	if err != nil {
		t.Fatalf("read product %d: %v", id, err)
	}
	if len(got) != 1 {
		t.Fatalf("read product %d: %d rows, want 1", id, len(got))
	}
	return got[0]
}

func readOrder(t *testing.T, c *emag.Client, id int64) emag.Order {
	t.Helper()
	got, err := c.ReadOrders(t.Context(), emag.OrderFilter{ID: id, Type: ptr(3)})
	if err != nil {
		t.Fatalf("read order %d: %v", id, err)
	}
	if len(got) != 1 {
		t.Fatalf("read order %d: %d rows, want 1", id, len(got))
	}
	return got[0]
}

// TestE2EProductOffersScan pages through both catalogues: the ids equal the
// sandbox's, the totals come from counts sent as strings, and every row
// decodes eMAG's quirks.
func TestE2EProductOffersScan(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, smallOpts())
	for _, name := range []string{"main", "fbe"} {
		c := newClient(t, sb, name)
		want := sb.ProductIDs(name)
		offers, total, pages := allOffers(t, c, emag.ProductOfferFilter{})
		ids := make([]int64, len(offers))
		for i, o := range offers {
			ids[i] = o.ID
		}
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Fatalf("%s: scanned ids differ from the sandbox (-want +got):\n%s", name, diff)
		}
		if wantCount := (emag.Count{Items: len(want), Pages: (len(want) + 99) / 100, ItemsPerPage: 100}); total != wantCount {
			t.Errorf("%s: count = %+v, want %+v", name, total, wantCount)
		}
		if pages != (len(want)+99)/100 {
			t.Errorf("%s: %d pages yielded, want %d", name, pages, (len(want)+99)/100)
		}

		active := 0
		var withGPSR, withoutGPSR int64
		for _, o := range offers {
			raw := rawFields(t, o.Raw)
			if len(o.Extra) > 0 {
				t.Errorf("%s: product %d has fields the client does not know: %v", name, o.ID, slices.Sorted(maps.Keys(o.Extra)))
			}
			// ownership arrives as a boolean.
			if own := string(raw["ownership"]); own != "true" && own != "false" || o.Ownership != (own == "true") {
				t.Errorf("product %d: ownership %s decoded as %v", o.ID, own, o.Ownership)
			}
			// offer_validation_status arrives as an object.
			if !strings.HasPrefix(string(raw["offer_validation_status"]), "{") || len(o.OfferValidationStatus) != 1 ||
				(o.OfferValidationValue() != 1 && o.OfferValidationValue() != 2) {
				t.Errorf("product %d: offer_validation_status %s decoded as %+v", o.ID, raw["offer_validation_status"], o.OfferValidationStatus)
			}
			// prices arrive as strings.
			var sale string
			if err := json.Unmarshal(raw["sale_price"], &sale); err != nil {
				t.Errorf("product %d: sale_price %s is not a string", o.ID, raw["sale_price"])
			} else if dec(sale).Cmp(o.SalePrice) != 0 || o.SalePrice.Units() <= 0 {
				t.Errorf("product %d: sale_price %q decoded as %s", o.ID, sale, o.SalePrice)
			}
			if o.MinSalePrice.Cmp(o.SalePrice) > 0 || o.SalePrice.Cmp(o.MaxSalePrice) > 0 {
				t.Errorf("product %d: sale price %s outside [%s, %s]", o.ID, o.SalePrice, o.MinSalePrice, o.MaxSalePrice)
			}
			// GPSR flags are booleans when reading unfiltered.
			if m := string(raw["manufacturer"]); m != "true" && m != "false" || o.Manufacturer.Set != (m == "true") || o.Manufacturer.Entities != nil {
				t.Errorf("product %d: unfiltered manufacturer %s decoded as %+v", o.ID, m, o.Manufacturer)
			}
			if o.Manufacturer.Set && withGPSR == 0 {
				withGPSR = o.ID
			}
			if !o.Manufacturer.Set && withoutGPSR == 0 {
				withoutGPSR = o.ID
			}
			sum := 0
			for _, w := range o.Stock {
				sum += w.Value
			}
			if sum != o.GeneralStock || o.EstimatedStock > o.GeneralStock {
				t.Errorf("product %d: stock %+v, general %d, estimated %d", o.ID, o.Stock, o.GeneralStock, o.EstimatedStock)
			}
			if o.OfferDetails.ID == 0 || o.PartNumberKey == "" || o.Name == "" || len(o.ValidationStatus) != 1 || o.Currency != "RON" || o.VatID == 0 {
				t.Errorf("product %d decoded incompletely: %+v", o.ID, o)
			}
			if o.Status == 1 {
				active++
			}
		}
		// A status filter counts what the scan saw.
		n, err := c.CountProductOffers(t.Context(), emag.ProductOfferFilter{Status: ptr(1)})
		mustNil(t, "count active", err)
		if n.Items != active {
			t.Errorf("%s: count status 1 = %d, scan saw %d", name, n.Items, active)
		}
		if withGPSR == 0 || withoutGPSR == 0 {
			t.Fatalf("%s: the catalogue lacks products with and without GPSR data", name)
		}
		// Filtered by id, the GPSR flags become lists.
		o := readOne(t, c, withGPSR)
		if raw := rawFields(t, o.Raw); !strings.HasPrefix(string(raw["manufacturer"]), "[") {
			t.Errorf("product %d filtered by id: manufacturer %s, want a list", o.ID, raw["manufacturer"])
		}
		if !o.Manufacturer.Set || len(o.Manufacturer.Entities) == 0 || o.Manufacturer.Entities[0].Name == "" {
			t.Errorf("product %d filtered by id: manufacturer decoded as %+v", o.ID, o.Manufacturer)
		}
		o = readOne(t, c, withoutGPSR)
		if o.Manufacturer.Set || len(o.Manufacturer.Entities) != 0 {
			t.Errorf("product %d filtered by id: manufacturer decoded as %+v, want none", o.ID, o.Manufacturer)
		}
	}
}

// TestE2EOrdersScan reads every order of both types: the ids equal the
// sandbox's, exceed 2^31, and the order quirks decode.
func TestE2EOrdersScan(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, smallOpts())
	ctx := t.Context()
	for _, name := range []string{"main", "fbe"} {
		c := newClient(t, sb, name)
		orders := allOrders(t, c)
		ids := make([]int64, len(orders))
		for i, o := range orders {
			ids[i] = o.ID
		}
		slices.Sort(ids)
		if diff := cmp.Diff(sb.OrderIDs(name), ids); diff != "" {
			t.Fatalf("%s: order ids differ from the sandbox (-want +got):\n%s", name, diff)
		}
		canceled, nullPayment, pickup := 0, 0, 0
		for _, o := range orders {
			raw := rawFields(t, o.Raw)
			if len(o.Extra)+len(o.Customer.Extra)+len(o.Details.Extra) > 0 {
				t.Errorf("%s: order %d has fields the client does not know: %v %v %v", name, o.ID,
					slices.Sorted(maps.Keys(o.Extra)), slices.Sorted(maps.Keys(o.Customer.Extra)), slices.Sorted(maps.Keys(o.Details.Extra)))
			}
			for _, f := range o.Flags {
				if f.Flag == "" || f.Value == "" {
					t.Errorf("order %d: flag %+v from %s", o.ID, f, raw["flags"])
				}
			}
			for _, v := range o.Vouchers {
				if v.VoucherID == 0 || v.SalePriceVAT.Units() >= 0 || v.SalePrice.Units() >= 0 || v.IssueDate.IsZero() {
					t.Errorf("order %d: voucher %+v", o.ID, v)
				}
			}
			if o.ID <= 1<<31 {
				t.Errorf("order id %d is not above 2^31", o.ID)
			}
			if o.Date.IsZero() || o.Modified.IsZero() || o.Customer.Name == "" || len(o.Products) == 0 {
				t.Errorf("order %d decoded incompletely: %+v", o.ID, o)
			}
			for _, l := range o.Products {
				if len(l.Extra) > 0 {
					t.Errorf("order %d line %d has fields the client does not know: %v", o.ID, l.ID, slices.Sorted(maps.Keys(l.Extra)))
				}
				if l.SalePrice.Units() <= 0 || l.VAT.Cmp(dec("0.21")) != 0 || l.ProductID == 0 || l.ID == 0 {
					t.Errorf("order %d line %+v", o.ID, l)
				}
			}
			switch {
			case o.Status == 0:
				canceled++
				if !strings.HasPrefix(string(raw["reason_cancellation"]), "{") || o.ReasonCancellation == nil ||
					o.ReasonCancellation.ID == 0 || o.ReasonCancellation.Name == "" {
					t.Errorf("order %d: reason_cancellation %s decoded as %+v", o.ID, raw["reason_cancellation"], o.ReasonCancellation)
				}
			case o.ReasonCancellation != nil:
				t.Errorf("order %d in status %d has a cancellation reason %+v", o.ID, o.Status, o.ReasonCancellation)
			}
			if string(raw["payment_mode_id"]) == "null" {
				nullPayment++
				if o.PaymentModeID != 0 {
					t.Errorf("order %d: null payment_mode_id decoded as %d", o.ID, o.PaymentModeID)
				}
			}
			if o.DeliveryMode == "pickup" {
				pickup++
				if o.Details.LockerID == "" {
					t.Errorf("order %d: pickup without a locker: %+v", o.ID, o.Details)
				}
			}
		}
		if canceled == 0 || nullPayment == 0 || pickup == 0 {
			t.Errorf("%s: quirks not exercised: %d canceled, %d null payment modes, %d pickups", name, canceled, nullPayment, pickup)
		}

		// order/read without a type reads type 3 only.
		def, err := c.ReadOrders(ctx, emag.OrderFilter{ItemsPerPage: 100})
		mustNil(t, "read default type", err)
		for _, o := range def {
			if o.Type != 3 {
				t.Fatalf("default order/read returned order %d of type %d", o.ID, o.Type)
			}
		}

		// A one-month created window counts what the scan saw, with dates in
		// the platform's zone on both sides.
		loc := c.Location()
		before := time.Now().In(loc).Truncate(time.Second)
		after := before.AddDate(0, -1, 0)
		want := 0
		for _, o := range orders {
			if !o.Date.Before(after) && !o.Date.After(before) {
				want++
			}
		}
		n, err := c.CountOrders(ctx, emag.OrderFilter{CreatedAfter: after, CreatedBefore: before})
		mustNil(t, "count window", err)
		if n.Items != want || want == 0 {
			t.Errorf("%s: count created in %s..%s = %d, scan saw %d", name, after, before, n.Items, want)
		}
	}
}

// TestE2EReferenceData reads categories, VAT, handling times, localities,
// courier accounts and addresses.
func TestE2EReferenceData(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, smallOpts())
	c := newClient(t, sb, "main")
	ctx := t.Context()

	cats, err := c.ReadCategories(ctx, emag.CategoryFilter{})
	mustNil(t, "read categories", err)
	n, err := c.CountCategories(ctx, emag.CategoryFilter{})
	mustNil(t, "count categories", err)
	if len(cats) == 0 || n.Items != len(cats) || n.ItemsPerPage != 100 {
		t.Fatalf("categories: %d read, count %+v", len(cats), n)
	}
	one, err := c.ReadCategories(ctx, emag.CategoryFilter{ID: int(cats[0].ID), Language: "ro"})
	mustNil(t, "read one category", err)
	if len(one) != 1 || one[0].ID != cats[0].ID || len(one[0].Characteristics) == 0 || len(one[0].FamilyTypes) == 0 ||
		one[0].Characteristics[0].Name == "" || len(one[0].Characteristics[0].Values) == 0 {
		t.Errorf("category %d by id: %+v", cats[0].ID, one)
	}

	vats, err := c.ReadVAT(ctx)
	mustNil(t, "read VAT", err)
	defaults := 0
	for _, v := range vats {
		if v.IsDefault {
			defaults++
			if v.VatRate.Cmp(dec("0.21")) != 0 {
				t.Errorf("default VAT rate %s, want 0.21 (sent as a string)", v.VatRate)
			}
		}
	}
	if len(vats) < 2 || defaults != 1 {
		t.Errorf("VAT: %+v", vats)
	}

	hts, err := c.ReadHandlingTimes(ctx)
	mustNil(t, "read handling times", err)
	if len(hts) == 0 || hts[len(hts)-1].ID == 0 {
		t.Errorf("handling times: %+v", hts)
	}

	locs, err := c.ReadLocalities(ctx, emag.LocalityFilter{Region2: "Ilfov"})
	mustNil(t, "read localities", err)
	ln, err := c.CountLocalities(ctx, emag.LocalityFilter{Region2: "Ilfov"})
	mustNil(t, "count localities", err)
	if len(locs) == 0 || ln.Items != len(locs) {
		t.Errorf("localities in Ilfov: %d read, count %+v", len(locs), ln)
	}
	for _, l := range locs {
		if l.Region2 != "Ilfov" || l.EmagID == 0 || l.CountryCode != "RO" || l.Zipcode == "" {
			t.Errorf("locality %+v", l)
		}
	}
	other, err := c.ReadLocalities(ctx, emag.LocalityFilter{CountryCode: "BG"})
	mustNil(t, "read BG localities", err)
	if len(other) != 0 {
		t.Errorf("BG localities on a RO account: %d", len(other))
	}

	couriers, err := c.ReadCourierAccounts(ctx)
	mustNil(t, "read courier accounts", err)
	if len(couriers) == 0 || couriers[0].AccountID == 0 || couriers[0].CourierName == "" || len(couriers[0].CourierAccountProperties) == 0 {
		t.Errorf("courier accounts: %+v", couriers)
	}

	addrs, err := c.ReadAddresses(ctx)
	mustNil(t, "read addresses", err)
	if len(addrs) == 0 {
		t.Fatal("no addresses")
	}
	for _, a := range addrs {
		if len(a.AddressID) < 10 || a.AddressTypeID == 0 || !bool(a.IsDefault) || a.LocalityID == 0 {
			t.Errorf("address %+v", a)
		}
	}
}

// validEAN13 completes 12 digits with the check digit.
func validEAN13(twelve string) string {
	sum := 0
	for i, r := range twelve {
		d := int(r - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return twelve + string(rune('0'+(10-sum%10)%10))
}

// TestE2EProductOfferSave creates a product with its offer, updates the
// offer, and reads both back; a documentation error saves anyway; a
// duplicate part number saves nothing.
func TestE2EProductOfferSave(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, smallOpts())
	c := newClient(t, sb, "main")
	ctx := t.Context()
	before := len(sb.ProductIDs("main"))

	const id = magflow.MaxSellerProductID
	ean := validEAN13("594999000001")
	mfr := []emag.GPSREntity{{Name: "Serioux SRL", Address: "Str. Fabricii 1, Bucuresti, RO", Email: "gpsr@serioux.invalid"}}
	create := emag.ProductOfferSave{
		ID: id, CategoryID: 3098, PartNumber: "MF-E2E-0001", Name: "Scaun gaming E2E, negru", Brand: "Serioux",
		Description: "<p>Scaun de test</p>", Images: []emag.Image{{DisplayType: 1, URL: "https://example.invalid/e2e.jpg"}},
		Characteristics: []emag.Characteristic{{ID: 5213, Value: "Negru"}}, EAN: []string{ean}, Warranty: ptr(24),
		Status: 1, SalePrice: ptr(dec("499.9900")), MinSalePrice: ptr(dec("400")), MaxSalePrice: ptr(dec("700")),
		VatID: 1, Stock: []emag.WarehouseValue{{WarehouseID: 1, Value: 7}}, HandlingTime: []emag.WarehouseValue{{WarehouseID: 1, Value: 1}},
		SupplyLeadTime: 30, Manufacturer: mfr, EURepresentative: mfr, SafetyInformation: "Nu lasati copiii nesupravegheati.",
		GreenTax: ptr(dec("0.5")),
	}
	_, err := c.SaveProductOffers(ctx, []emag.ProductOfferSave{create})
	mustNil(t, "create", err)

	got := readOne(t, c, id)
	if got.Name != create.Name || got.PartNumber != create.PartNumber || got.Brand != "Serioux" || got.CategoryID != 3098 ||
		got.SalePrice.Cmp(*create.SalePrice) != 0 || got.MinSalePrice.Cmp(dec("400")) != 0 || got.GeneralStock != 7 ||
		got.GreenTax.Cmp(dec("0.5")) != 0 || got.SafetyInformation != create.SafetyInformation || got.PartNumberKey == "" {
		t.Errorf("created product read back as %+v", got)
	}
	if got.SupplyLeadTime != 30 && got.OfferDetails.SupplyLeadTime != 30 {
		t.Errorf("supply lead time read back as %d / %d, want 30", got.SupplyLeadTime, got.OfferDetails.SupplyLeadTime)
	}
	if diff := cmp.Diff(mfr, got.Manufacturer.Entities); diff != "" {
		t.Errorf("manufacturer read back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{ean}, got.EAN); diff != "" {
		t.Errorf("EAN read back (-want +got):\n%s", diff)
	}
	if ids := sb.ProductIDs("main"); len(ids) != before+1 || !slices.Contains(ids, int64(id)) {
		t.Errorf("sandbox lists %d products, want %d with %d", len(ids), before+1, id)
	}

	// An offer-only update: the mandatory keys and nothing else.
	update := emag.ProductOfferSave{ID: id, Status: 1, SalePrice: ptr(dec("455.5")), VatID: 1,
		Stock: []emag.WarehouseValue{{WarehouseID: 1, Value: 3}, {WarehouseID: 2, Value: 4}}, HandlingTime: []emag.WarehouseValue{{WarehouseID: 1, Value: 2}}}
	_, err = c.SaveProductOffers(ctx, []emag.ProductOfferSave{update})
	mustNil(t, "update", err)
	got = readOne(t, c, id)
	if got.SalePrice.Cmp(dec("455.5")) != 0 || got.GeneralStock != 7 || len(got.Stock) != 2 || got.HandlingTime[0].Value != 2 || got.Name != create.Name {
		t.Errorf("updated product read back as price %s, stock %+v (general %d), handling %+v, name %q",
			got.SalePrice, got.Stock, got.GeneralStock, got.HandlingTime, got.Name)
	}

	// A documentation error: isError, yet the product is saved (DOC449 §2.4).
	noImages := create
	noImages.ID, noImages.PartNumber, noImages.EAN, noImages.Images = id-1, "MF-E2E-0002", []string{validEAN13("594999000002")}, nil
	_, err = c.SaveProductOffers(ctx, []emag.ProductOfferSave{noImages})
	e := wantKind(t, err, emag.KindAPI)
	if !e.MaybeApplied() || !strings.Contains(strings.Join(e.Messages, " "), "Photo Gallery") {
		t.Errorf("documentation error: maybe applied %v, messages %q", e.MaybeApplied(), e.Messages)
	}
	if got := readOne(t, c, id-1); got.ValidationValue() != 8 || len(got.ValidationStatus[0].ErrorMessages()) == 0 {
		t.Errorf("product saved with a documentation error reads validation %+v", got.ValidationStatus)
	}

	// A part number already used by another product saves nothing.
	dup := create
	dup.ID, dup.EAN = id-2, []string{validEAN13("594999000003")}
	_, err = c.SaveProductOffers(ctx, []emag.ProductOfferSave{dup})
	wantKind(t, err, emag.KindAPI)
	if rows, err := c.ReadProductOffers(ctx, emag.ProductOfferFilter{ID: id - 2}); err != nil || len(rows) != 0 {
		t.Errorf("duplicate part number: read back %d rows (err %v), want none", len(rows), err)
	}
}

// TestE2ELightOfferSave sends one good and one bad offer: each gets its own
// verdict, the call is KindPartial, only the good one changes.
func TestE2ELightOfferSave(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, smallOpts())
	c := newClient(t, sb, "main")
	ctx := t.Context()
	ids := sb.ProductIDs("main")
	good, bad := readOne(t, c, ids[0]), readOne(t, c, ids[1])

	res, err := c.SaveOffers(ctx, []emag.OfferUpdate{
		{ID: good.ID, SalePrice: ptr(good.MinSalePrice), Stock: []emag.WarehouseValue{{WarehouseID: 1, Value: 25}}},
		{ID: bad.ID, SalePrice: ptr(bad.MaxSalePrice.Add(dec("1")))},
	})
	e := wantKind(t, err, emag.KindPartial)
	if len(e.Items) != 1 || e.Items[0].ID != bad.ID || len(e.Items[0].Messages) == 0 {
		t.Errorf("partial items: %+v", e.Items)
	}
	if len(res.Items) != 2 || res.Items[good.ID].IsError || !res.Items[bad.ID].IsError {
		t.Errorf("per-item results: %+v", res.Items)
	}
	if !strings.Contains(strings.Join(res.Items[good.ID].Messages, " "), "updated successfully") {
		t.Errorf("good item messages: %q", res.Items[good.ID].Messages)
	}
	if got := readOne(t, c, good.ID); got.SalePrice.Cmp(good.MinSalePrice) != 0 || got.GeneralStock != 25 {
		t.Errorf("good offer read back: price %s, stock %d", got.SalePrice, got.GeneralStock)
	}
	if got := readOne(t, c, bad.ID); got.SalePrice.Cmp(bad.SalePrice) != 0 {
		t.Errorf("bad offer changed: price %s, was %s", got.SalePrice, bad.SalePrice)
	}

	// All good: no error.
	_, err = c.SaveOffers(ctx, []emag.OfferUpdate{{ID: good.ID, Status: ptr(0)}})
	mustNil(t, "deactivate", err)
	if got := readOne(t, c, good.ID); got.Status != 0 {
		t.Errorf("status read back %d, want 0", got.Status)
	}
}

// TestE2EOfferStock patches stock: 204 then visible, 404 for an unknown
// offer, 400 while the offer is in an active campaign.
func TestE2EOfferStock(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, smallOpts())
	c := newClient(t, sb, "main")
	ctx := t.Context()
	ids := sb.ProductIDs("main")

	mustNil(t, "patch stock", c.UpdateOfferStock(ctx, ids[0], 21))
	if got := readOne(t, c, ids[0]); got.GeneralStock != 21 || len(got.Stock) != 1 {
		t.Errorf("stock read back %+v (general %d), want 21", got.Stock, got.GeneralStock)
	}

	err := c.UpdateOfferStock(ctx, 16_000_000, 5)
	e := wantKind(t, err, emag.KindNotFound)
	if e.Status != 404 || !strings.Contains(strings.Join(e.Messages, " "), "does not exist") {
		t.Errorf("unknown offer: %v", e)
	}

	// Some offers sit in an active campaign: eMAG answers 400 with a
	// validation error on the stock field. Find one by trying.
	offers, _, _ := allOffers(t, c, emag.ProductOfferFilter{Status: ptr(1)})
	for _, o := range offers {
		err := c.UpdateOfferStock(ctx, o.ID, o.GeneralStock)
		if err == nil {
			continue
		}
		e := wantKind(t, err, emag.KindAPI)
		if e.Status != 400 || len(e.Items) != 1 || e.Items[0].Field != "stock" || !strings.Contains(e.Items[0].Messages[0], "campaign") {
			t.Errorf("campaign offer %d: %+v", o.ID, e)
		}
		if e.Attempts != 1 {
			t.Errorf("a 400 was retried: %d attempts", e.Attempts)
		}
		return
	}
	t.Fatal("no active offer is in a campaign: the 400 path was not exercised")
}

// TestE2EOrderLifecycle acknowledges a new order, moves it through the
// status matrix, attaches an invoice and a warranty, issues its AWB (which
// finalizes it) and downloads the label.
func TestE2EOrderLifecycle(t *testing.T) {
	t.Parallel()
	opts := smallOpts()
	opts.Accounts[0].Orders = 2500 // enough orders of the last day to find new ones
	sb := startSandbox(t, opts)
	c := newClient(t, sb, "main")
	ctx := t.Context()

	news, err := c.ReadOrders(ctx, emag.OrderFilter{Status: []int{1}})
	mustNil(t, "read new orders", err)
	if len(news) < 2 {
		t.Fatalf("%d new orders, want at least 2", len(news))
	}
	o := news[0]

	// Acknowledge: 1 -> 2, once.
	mustNil(t, "acknowledge", c.AcknowledgeOrder(ctx, o.ID))
	o = readOrder(t, c, o.ID)
	if o.Status != 2 {
		t.Fatalf("acknowledged order %d has status %d, want 2", o.ID, o.Status)
	}
	e := wantKind(t, c.AcknowledgeOrder(ctx, o.ID), emag.KindAPI)
	if e.Attempts != 1 || !strings.Contains(strings.Join(e.Messages, " "), "acknowledged") {
		t.Errorf("second acknowledge: %v", e)
	}
	wantKind(t, c.AcknowledgeOrder(ctx, 4_000_000_000), emag.KindAPI)

	// A new order cannot be saved into progress: only ACK does that.
	_, err = c.SaveOrders(ctx, []emag.OrderSave{{Base: news[1].Raw, Status: ptr(2)}})
	wantKind(t, err, emag.KindAPI)

	// 2 -> 3 with the order as read; then 3 -> 1 is refused.
	_, err = c.SaveOrders(ctx, []emag.OrderSave{{Base: o.Raw, Status: ptr(3)}})
	mustNil(t, "save prepared", err)
	o = readOrder(t, c, o.ID)
	if o.Status != 3 {
		t.Fatalf("order %d has status %d after save, want 3", o.ID, o.Status)
	}
	_, err = c.SaveOrders(ctx, []emag.OrderSave{{Base: o.Raw, Status: ptr(1)}})
	e = wantKind(t, err, emag.KindAPI)
	if !e.MaybeApplied() || readOrder(t, c, o.ID).Status != 3 {
		t.Errorf("refused transition: maybe applied %v, status now %d", e.MaybeApplied(), readOrder(t, c, o.ID).Status)
	}

	// Lines can be edited while prepared: keep every line, add a virtual one.
	lines := func(o emag.Order) []emag.OrderProductSave {
		var out []emag.OrderProductSave
		for _, l := range o.Products {
			out = append(out, emag.OrderProductSave{ID: l.ID, ProductID: l.ProductID, Name: l.Name, Status: l.Status, Quantity: l.Quantity, SalePrice: l.SalePrice})
		}
		return out
	}
	edit := append(lines(o), emag.OrderProductSave{ProductID: o.Products[0].ProductID, Name: "Reducere fidelitate", Status: 1, Quantity: 2, SalePrice: dec("10")})
	_, err = c.SaveOrders(ctx, []emag.OrderSave{{ID: o.ID, Status: ptr(3), Products: edit}})
	mustNil(t, "add a line", err)
	o = readOrder(t, c, o.ID)
	virtual := o.Products[len(o.Products)-1]
	if len(o.Products) != len(edit) || virtual.Name != "Reducere fidelitate" || virtual.Quantity != 2 || virtual.SalePrice.Cmp(dec("10")) != 0 || virtual.ID == 0 {
		t.Fatalf("lines after adding one: %+v", o.Products)
	}

	// Attachments: an invoice on the order, a warranty on a line (named by
	// its line id alone).
	_, err = c.SaveOrderAttachments(ctx, []emag.OrderAttachment{
		{OrderID: o.ID, OrderType: 3, Name: "Factura MF 0001", URL: "https://example.invalid/inv/0001.pdf", Type: 1},
		{OrderType: 3, OrderProductID: o.Products[0].ID, Name: "Garantie", URL: "https://example.invalid/w/1.pdf", Type: 3},
	})
	mustNil(t, "attachments", err)
	o = readOrder(t, c, o.ID)
	var types []int
	for _, a := range o.Attachments {
		types = append(types, a.Type)
		if a.OrderID != o.ID || a.URL == "" {
			t.Errorf("attachment %+v", a)
		}
	}
	if diff := cmp.Diff([]int{1, 3}, types); diff != "" {
		t.Errorf("attachment types (-want +got):\n%s", diff)
	}
	_, err = c.SaveOrderAttachments(ctx, []emag.OrderAttachment{{OrderID: o.ID, OrderType: 2, Name: "Factura", URL: "https://example.invalid/x.pdf", Type: 1}})
	wantKind(t, err, emag.KindAPI)

	// AWB from the saved pickup address: issuing it finalizes the order;
	// read it; download its labels.
	addrs, err := c.ReadAddresses(ctx)
	mustNil(t, "read addresses", err)
	pickup := slices.IndexFunc(addrs, func(a emag.Address) bool { return a.AddressTypeID == 2 })
	if pickup < 0 {
		t.Fatalf("no pickup address in %+v", addrs)
	}
	cu := o.Customer
	awb := emag.AWBSave{OrderID: o.ID,
		Sender:       emag.AWBParty{Name: "Magazin Sandbox SRL", Phone1: "0722000000", AddressID: string(addrs[pickup].AddressID)},
		Receiver:     emag.AWBParty{Name: cu.ShippingContact, Phone1: cu.ShippingPhone, LegalEntity: ptr(cu.LegalEntity), LocalityID: cu.ShippingLocalityID, Street: cu.ShippingStreet},
		ParcelNumber: 1, Weight: dec("1.5"), COD: dec("0"),
	}
	res, err := c.SaveAWB(ctx, awb)
	mustNil(t, "save AWB", err)
	if res.ReservationID == 0 {
		t.Fatalf("AWB reservation id missing: %s", res.Results)
	}
	if got := readOrder(t, c, o.ID); got.Status != 4 || got.FinalizationDate.IsZero() {
		t.Errorf("order after AWB: status %d, finalized %v; want 4", got.Status, got.FinalizationDate)
	}
	awbs, err := c.ReadAWB(ctx, emag.AWBFilter{ReservationID: res.ReservationID})
	mustNil(t, "read AWB", err)
	if len(awbs) != 1 || int64(awbs[0].OrderID) != o.ID || awbs[0].EmagID == 0 || len(awbs[0].AWB) == 0 ||
		awbs[0].AWB[0].AWBNumber == "" || !awbs[0].Status.Present || !awbs[0].Courier.Present || awbs[0].Courier.Value.CourierName == "" {
		t.Fatalf("AWB read back: %+v", awbs)
	}
	pdf, err := c.DownloadAWBLabel(ctx, int64(awbs[0].EmagID), emag.LabelA6)
	mustNil(t, "download PDF label", err)
	if !strings.HasPrefix(string(pdf), "%PDF") || !strings.Contains(string(pdf), string(awbs[0].AWB[0].AWBNumber)) {
		t.Errorf("PDF label: %.60q", pdf)
	}
	zpl, err := c.DownloadAWBLabel(ctx, int64(awbs[0].EmagID), emag.LabelZPL)
	mustNil(t, "download ZPL label", err)
	if !strings.HasPrefix(string(zpl), "^XA") || !strings.Contains(string(zpl), string(awbs[0].AWB[0].AWBNumber)) {
		t.Errorf("ZPL label: %q", zpl)
	}
	_, err = c.DownloadAWBLabel(ctx, 999_999_999, emag.LabelA4)
	wantKind(t, err, emag.KindAPI)

	// An AWB for an order that is still new is refused.
	awb.OrderID = news[1].ID
	_, err = c.SaveAWB(ctx, awb)
	wantKind(t, err, emag.KindAPI)

	// A finalized order changes its lines only with is_storno.
	o = readOrder(t, c, o.ID)
	storno := lines(o)
	storno[len(storno)-1].Quantity = 1
	_, err = c.SaveOrders(ctx, []emag.OrderSave{{ID: o.ID, Status: ptr(4), Products: storno}})
	wantKind(t, err, emag.KindAPI)
	_, err = c.SaveOrders(ctx, []emag.OrderSave{{ID: o.ID, Status: ptr(4), IsStorno: ptr(true), Products: storno}})
	mustNil(t, "partial storno", err)
	o = readOrder(t, c, o.ID)
	if l := o.Products[len(o.Products)-1]; !o.IsStorno || l.Quantity != 1 || l.StornoQty != 1 || o.Status != 4 {
		t.Errorf("after storno: is_storno %v, line %+v, status %d", o.IsStorno, l, o.Status)
	}

	// Finalized 4 -> 0 within 48 hours is allowed.
	_, err = c.SaveOrders(ctx, []emag.OrderSave{{Base: readOrder(t, c, o.ID).Raw, Status: ptr(0)}})
	mustNil(t, "cancel finalized", err)
	if got := readOrder(t, c, o.ID); got.Status != 0 {
		t.Errorf("status after cancel %d, want 0", got.Status)
	}
}

// TestE2ERMA reads, counts and saves returns.
func TestE2ERMA(t *testing.T) {
	t.Parallel()
	opts := smallOpts()
	opts.Accounts[0].Orders = 2500
	sb := startSandbox(t, opts)
	c := newClient(t, sb, "main")
	ctx := t.Context()

	var rmas []emag.RMA
	for page, err := range emag.Pages(ctx, func(ctx context.Context, p int) ([]emag.RMA, error) {
		return c.ReadRMAs(ctx, emag.RMAFilter{CurrentPage: p, ItemsPerPage: 50})
	}) {
		mustNil(t, fmt.Sprintf("rma page %d", page.Number), err)
		rmas = append(rmas, page.Items...)
	}
	n, err := c.CountRMAs(ctx, emag.RMAFilter{ItemsPerPage: 50})
	mustNil(t, "count RMAs", err)
	if len(rmas) < 2 || n.Items != len(rmas) || n.Pages != (len(rmas)+49)/50 {
		t.Fatalf("%d RMAs read, count %+v", len(rmas), n)
	}
	var target *emag.RMA
	for i, r := range rmas {
		if r.OrderID <= 1<<31 || r.EmagID == 0 || len(r.Products) == 0 || r.Products[0].ProductID == 0 || r.CustomerName == "" || r.Date.IsZero() {
			t.Errorf("RMA decoded incompletely: %+v", r)
		}
		if r.RequestStatus == 2 && target == nil {
			target = &rmas[i]
		}
	}
	if target == nil {
		t.Fatal("no RMA in status 2 (new)")
	}
	// An RMA's own date, sent back as a filter, selects it: dates are read
	// and written in the platform's zone.
	d := target.Date.Time
	if d.Location() != c.Location() {
		t.Errorf("RMA date %s is not in the client's zone %s", d, c.Location())
	}
	same, err := c.ReadRMAs(ctx, emag.RMAFilter{DateStart: d, DateEnd: d})
	mustNil(t, "read RMAs by date", err)
	if !slices.ContainsFunc(same, func(r emag.RMA) bool { return r.EmagID == target.EmagID }) {
		t.Errorf("RMA %d dated %s is not selected by its own date: %d others", target.EmagID, d, len(same))
	}
	byStatus, err := c.CountRMAs(ctx, emag.RMAFilter{RequestStatus: 2})
	mustNil(t, "count new RMAs", err)
	if byStatus.Items == 0 || byStatus.Items > len(rmas) {
		t.Errorf("count of new RMAs %+v", byStatus)
	}

	_, err = c.SaveRMAs(ctx, []emag.RMASave{{EmagID: int64(target.EmagID), CustomerName: string(target.CustomerName), RequestStatus: 3}})
	mustNil(t, "approve RMA", err)
	got, err := c.ReadRMAs(ctx, emag.RMAFilter{EmagID: int64(target.EmagID)})
	mustNil(t, "read RMA", err)
	if len(got) != 1 || got[0].RequestStatus != 3 {
		t.Fatalf("RMA read back: %+v", got)
	}
	// 3 -> 2 is not a transition eMAG allows; its message names the RMA.
	_, err = c.SaveRMAs(ctx, []emag.RMASave{{EmagID: int64(target.EmagID), CustomerName: string(target.CustomerName), RequestStatus: 2}})
	e := wantKind(t, err, emag.KindAPI)
	if !strings.Contains(strings.Join(e.Messages, " "), fmt.Sprintf("Rma id: %d", target.EmagID)) {
		t.Errorf("refused RMA save messages: %q", e.Messages)
	}
}

// TestE2EOtherSaves covers measurements, campaign proposals and the EAN
// search.
func TestE2EOtherSaves(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, smallOpts())
	c := newClient(t, sb, "main")
	ctx := t.Context()
	p := readOne(t, c, sb.ProductIDs("main")[3])

	_, err := c.SaveMeasurements(ctx, []emag.Measurement{{ID: p.ID, Length: dec("100"), Width: dec("122.5"), Height: dec("250"), Weight: dec("1254.5")}})
	mustNil(t, "measurements", err)
	_, err = c.SaveMeasurements(ctx, []emag.Measurement{{ID: 16_000_000, Length: dec("1"), Width: dec("1"), Height: dec("1"), Weight: dec("1")}})
	wantKind(t, err, emag.KindAPI)

	res, err := c.SaveCampaignProposals(ctx, []emag.CampaignProposal{{ID: p.ID, CampaignID: 1001, SalePrice: p.MinSalePrice, Stock: 10,
		MaxQtyPerOrder: ptr(2), VoucherDiscount: ptr(15), DateIntervals: []emag.CampaignInterval{{
			StartDate:       emag.CampaignDate{Date: "2025-11-20 00:00:00.000000", TimezoneType: 3, Timezone: "Europe/Bucharest"},
			EndDate:         emag.CampaignDate{Date: "2025-11-27 23:59:59.000000", TimezoneType: 3, Timezone: "Europe/Bucharest"},
			VoucherDiscount: 15, Index: 1}}}})
	mustNil(t, "campaign proposal", err)
	if !strings.Contains(string(res.Results), "Campaign proposals successfully saved") {
		t.Errorf("campaign results %s", res.Results)
	}
	_, err = c.SaveCampaignProposals(ctx, []emag.CampaignProposal{{ID: p.ID, CampaignID: 5, SalePrice: p.MinSalePrice, Stock: 1}})
	e := wantKind(t, err, emag.KindAPI)
	if !strings.Contains(strings.Join(e.Messages, " "), "Campaign not found for id: 5") {
		t.Errorf("unknown campaign: %q", e.Messages)
	}

	if len(p.EAN) == 0 {
		t.Fatalf("product %d has no EAN", p.ID)
	}
	unknown := validEAN13("400000000000")
	found, err := c.FindByEANs(ctx, []string{p.EAN[0], unknown})
	mustNil(t, "find by EANs", err)
	hits := found[p.EAN[0]]
	if len(found) != 2 || len(hits) != 1 || len(found[unknown]) != 0 {
		t.Fatalf("EAN search: %+v", found)
	}
	if h := hits[0]; h.PartNumberKey != p.PartNumberKey || h.EAN != p.EAN[0] || !h.VendorHasOffer || !h.AllowedToAddOffer ||
		h.ProductName == "" || h.Hotness == "" || h.DocCategoryID != p.CategoryID || len(h.Extra) > 0 {
		t.Errorf("EAN hit %+v for product %s/%d", h, p.PartNumberKey, p.CategoryID)
	}
	if st := bucketStats(sb, "main", "ean"); st.Requests != 1 {
		t.Errorf("EAN bucket served %d requests, want 1", st.Requests)
	}
}

// TestE2EFilters checks that every filter the client sends selects, on the
// sandbox, what the whole scan says it should.
func TestE2EFilters(t *testing.T) {
	t.Parallel()
	opts := smallOpts()
	opts.Accounts[0].Orders = 1500
	sb := startSandbox(t, opts)
	c := newClient(t, sb, "main")
	ctx := t.Context()

	offers, _, _ := allOffers(t, c, emag.ProductOfferFilter{})
	p := offers[len(offers)/2]
	for _, f := range []emag.ProductOfferFilter{{PartNumberKey: p.PartNumberKey}, {PartNumber: p.PartNumber}} {
		got, err := c.ReadProductOffers(ctx, f)
		mustNil(t, "read by part number", err)
		if len(got) != 1 || got[0].ID != p.ID {
			t.Errorf("filter %+v: %d rows, want product %d", f, len(got), p.ID)
		}
	}
	countWhere := func(keep func(emag.ProductOffer) bool) int {
		n := 0
		for _, o := range offers {
			if keep(o) {
				n++
			}
		}
		return n
	}
	for _, tc := range []struct {
		f    emag.ProductOfferFilter
		keep func(emag.ProductOffer) bool
	}{
		{emag.ProductOfferFilter{GeneralStock: ptr(5)}, func(o emag.ProductOffer) bool { return o.GeneralStock <= 5 }},
		{emag.ProductOfferFilter{EstimatedStock: ptr(0)}, func(o emag.ProductOffer) bool { return o.EstimatedStock == 0 }},
		{emag.ProductOfferFilter{ValidationStatus: ptr(9)}, func(o emag.ProductOffer) bool { return o.ValidationValue() == 9 }},
		{emag.ProductOfferFilter{OfferValidationStatus: ptr(2)}, func(o emag.ProductOffer) bool { return o.OfferValidationValue() == 2 }},
		{emag.ProductOfferFilter{Status: ptr(0)}, func(o emag.ProductOffer) bool { return o.Status == 0 }},
	} {
		n, err := c.CountProductOffers(ctx, tc.f)
		mustNil(t, "count", err)
		if want := countWhere(tc.keep); n.Items != want {
			t.Errorf("count %+v = %d, scan says %d", tc.f, n.Items, want)
		}
	}

	orders := allOrders(t, c)
	loc := c.Location()
	now := time.Now().In(loc).Truncate(time.Second)
	for _, tc := range []struct {
		name string
		f    emag.OrderFilter
		keep func(emag.Order) bool
	}{
		{"canceled or returned", emag.OrderFilter{Status: []int{0, 5}}, func(o emag.Order) bool { return o.Status == 0 || o.Status == 5 }},
		{"paid by card", emag.OrderFilter{PaymentModeID: []int{3}}, func(o emag.Order) bool { return o.PaymentModeID == 3 }},
		{"complete", emag.OrderFilter{IsComplete: ptr(1)}, func(o emag.Order) bool { return o.IsComplete == 1 }},
		{"seller fulfilled", emag.OrderFilter{Type: ptr(3)}, func(o emag.Order) bool { return o.Type == 3 }},
		{"modified in the last week", emag.OrderFilter{ModifiedAfter: now.AddDate(0, 0, -7), ModifiedBefore: now},
			func(o emag.Order) bool { return !o.Modified.Before(now.AddDate(0, 0, -7)) && !o.Modified.After(now) }},
	} {
		want := 0
		for _, o := range orders {
			if tc.keep(o) {
				want++
			}
		}
		n, err := c.CountOrders(ctx, tc.f)
		mustNil(t, "count orders "+tc.name, err)
		if n.Items != want || want == 0 {
			t.Errorf("orders %s: count %d, scan says %d", tc.name, n.Items, want)
		}
	}
	// order/read takes a lone modifiedAfter (the incremental sync's shape).
	since := now.AddDate(0, 0, -3)
	recent, err := c.ReadOrders(ctx, emag.OrderFilter{Type: ptr(3), ModifiedAfter: since})
	mustNil(t, "read modified after", err)
	want := 0
	for _, o := range orders {
		if o.Type == 3 && !o.Modified.Before(since) {
			want++
		}
	}
	if len(recent) != min(want, 100) || want == 0 {
		t.Errorf("orders modified since %s: %d read, scan says %d", since, len(recent), want)
	}

	// RMAs within a date window.
	rmas, err := c.ReadRMAs(ctx, emag.RMAFilter{})
	mustNil(t, "read RMAs", err)
	start, end := now.AddDate(0, 0, -30), now
	want = 0
	for _, r := range rmas {
		if !r.Date.Before(start) && !r.Date.After(end) {
			want++
		}
	}
	n, err := c.CountRMAs(ctx, emag.RMAFilter{DateStart: start, DateEnd: end})
	mustNil(t, "count RMAs in a window", err)
	if n.Items != want || len(rmas) >= 100 {
		t.Errorf("RMAs in the last 30 days: count %d, read %d of %d", n.Items, want, len(rmas))
	}

	locs, err := c.ReadLocalities(ctx, emag.LocalityFilter{Name: "Cluj"})
	mustNil(t, "read localities by name", err)
	if len(locs) != 1 || locs[0].Name != "Cluj-Napoca" {
		t.Fatalf("localities named Cluj: %+v", locs)
	}
	changed, err := time.ParseInLocation("2006-01-02 15:04:05", string(locs[0].Modified), loc)
	mustNil(t, "locality modified", err)
	for _, tc := range []struct {
		since time.Time
		all   bool
	}{{changed, true}, {changed.Add(time.Second), false}} {
		n, err := c.CountLocalities(ctx, emag.LocalityFilter{Modified: tc.since})
		mustNil(t, "count localities modified since", err)
		all, err := c.CountLocalities(ctx, emag.LocalityFilter{})
		mustNil(t, "count localities", err)
		if (n.Items == all.Items) != tc.all || (!tc.all && n.Items != 0) {
			t.Errorf("localities modified since %s: %d of %d", tc.since, n.Items, all.Items)
		}
	}
}

// TestE2EWrapData runs reads, counts and saves with the {"data": ...}
// body encoding: the sandbox answers them as it answers raw bodies.
func TestE2EWrapData(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, smallOpts())
	raw := newClient(t, sb, "main")
	wrapped := newClient(t, sb, "main", func(o *emag.Options) { o.WrapData = true })
	ctx := t.Context()

	f := emag.ProductOfferFilter{CurrentPage: 2, ItemsPerPage: 25}
	a, err := raw.ReadProductOffers(ctx, f)
	mustNil(t, "raw read", err)
	b, err := wrapped.ReadProductOffers(ctx, f)
	mustNil(t, "wrapped read", err)
	if len(a) != 25 || len(b) != 25 || a[0].ID != b[0].ID || a[24].ID != b[24].ID {
		t.Fatalf("page 2 of 25: raw %d rows, wrapped %d rows", len(a), len(b))
	}
	n, err := wrapped.CountOrders(ctx, emag.OrderFilter{Type: ptr(3)})
	mustNil(t, "wrapped count", err)
	m, err := raw.CountOrders(ctx, emag.OrderFilter{Type: ptr(3)})
	mustNil(t, "raw count", err)
	if n != m || n.Items == 0 {
		t.Errorf("wrapped count %+v, raw %+v", n, m)
	}
	p := a[3]
	_, err = wrapped.SaveOffers(ctx, []emag.OfferUpdate{{ID: p.ID, SalePrice: ptr(p.MinSalePrice)}})
	mustNil(t, "wrapped light save", err)
	if got := readOne(t, raw, p.ID); got.SalePrice.Cmp(p.MinSalePrice) != 0 {
		t.Errorf("after the wrapped light save: price %s, want %s", got.SalePrice, p.MinSalePrice)
	}
	_, err = wrapped.SaveProductOffers(ctx, []emag.ProductOfferSave{{ID: p.ID, Status: 1, SalePrice: ptr(p.MinSalePrice), VatID: p.VatID,
		Stock: []emag.WarehouseValue{{WarehouseID: 1, Value: 9}}, HandlingTime: p.HandlingTime}})
	mustNil(t, "wrapped save", err)
	if got := readOne(t, raw, p.ID); got.SalePrice.Cmp(p.MinSalePrice) != 0 || got.GeneralStock != 9 {
		t.Errorf("after wrapped saves: price %s, stock %d", got.SalePrice, got.GeneralStock)
	}
	mustNil(t, "wrapped stock patch", wrapped.UpdateOfferStock(ctx, p.ID, 4))
	if got := readOne(t, raw, p.ID); got.GeneralStock != 4 {
		t.Errorf("after the stock patch: %d", got.GeneralStock)
	}
}

// TestE2EErrors drives every failure the client classifies, each against a
// sandbox set up to produce it.
func TestE2EErrors(t *testing.T) {
	t.Parallel()
	read := func(c *emag.Client) error {
		_, err := c.ReadProductOffers(context.Background(), emag.ProductOfferFilter{CurrentPage: 1, ItemsPerPage: 10})
		return err
	}
	plan := func(rules ...sandbox.FaultRule) sandbox.Options {
		o := smallOpts()
		o.Faults.Plan = rules
		return o
	}
	fault := func(k sandbox.FaultKind, times int) sandbox.FaultRule {
		return sandbox.FaultRule{Account: "main", Route: "product_offer/read", Kind: k, Times: times}
	}
	cases := []struct {
		name      string
		opts      sandbox.Options
		mod       func(*emag.Options)
		call      func(*emag.Client) error
		kind      emag.Kind // "" means success
		attempts  int       // attempts the final answer took (hooks)
		faults    int64
		checkText func(t *testing.T, e *emag.Error)
	}{
		{name: "wrong password", opts: smallOpts(), mod: func(o *emag.Options) { o.Password = "not-the-password-123" },
			call: read, kind: emag.KindAuth, attempts: 1, checkText: func(t *testing.T, e *emag.Error) {
				if !strings.Contains(e.Remedy(), "username and password") || e.Status != 403 {
					t.Errorf("remedy %q, status %d", e.Remedy(), e.Status)
				}
				if strings.Contains(e.Error(), "not-the-password-123") {
					t.Errorf("the password leaked into the error: %v", e)
				}
			}},
		{name: "ip not whitelisted", opts: func() sandbox.Options {
			o := smallOpts()
			o.Accounts[0].AllowedIPs = []string{"203.0.113.7"}
			return o
		}(), call: read, kind: emag.KindIPNotWhitelisted, attempts: 1, checkText: func(t *testing.T, e *emag.Error) {
			if !strings.Contains(e.Remedy(), "127.0.0.1") || !strings.Contains(strings.Join(e.Messages, ""), "Invalid vendor ip") {
				t.Errorf("remedy %q, messages %q", e.Remedy(), e.Messages)
			}
		}},
		{name: "captcha page", opts: plan(fault(sandbox.FaultCaptcha, 0)), call: read, kind: emag.KindNonJSON, attempts: 1, faults: 1,
			checkText: func(t *testing.T, e *emag.Error) {
				if !strings.Contains(strings.Join(e.Messages, ""), "Captcha") {
					t.Errorf("messages %q", e.Messages)
				}
			}},
		{name: "502 then 504 then success", opts: plan(fault(sandbox.Fault502, 1), fault(sandbox.Fault504, 1)), call: read, attempts: 3, faults: 2},
		{name: "500 retried", opts: plan(fault(sandbox.Fault500, 2)), call: read, attempts: 3, faults: 2},
		{name: "truncated JSON retried", opts: plan(fault(sandbox.FaultTruncated, 1)), call: read, attempts: 2, faults: 1},
		{name: "connection reset retried", opts: plan(fault(sandbox.FaultReset, 1)), call: read, attempts: 2, faults: 1},
		{name: "slow answer served", opts: func() sandbox.Options {
			o := plan(fault(sandbox.FaultSlow, 1))
			o.Faults.SlowMin, o.Faults.SlowMax = 50*time.Millisecond, 80*time.Millisecond
			return o
		}(), call: read, attempts: 1, faults: 1},
		{name: "slow answer past the attempt timeout retried", opts: func() sandbox.Options {
			o := plan(fault(sandbox.FaultSlow, 1))
			o.Faults.SlowMin, o.Faults.SlowMax = 2*time.Second, 2*time.Second
			return o
		}(), mod: func(o *emag.Options) { o.AttemptTimeout = 200 * time.Millisecond }, call: read, attempts: 2, faults: 1},
		{name: "isError", opts: func() sandbox.Options {
			o := plan(fault(sandbox.FaultIsError, 0))
			o.Faults.IsErrorMessage = "Eroare interna, incercati mai tarziu"
			return o
		}(), call: read, kind: emag.KindAPI, attempts: 1, faults: 1, checkText: func(t *testing.T, e *emag.Error) {
			if diff := cmp.Diff([]string{"Eroare interna, incercati mai tarziu"}, e.Messages); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		}},
		{name: "502 on a save is not retried", opts: plan(sandbox.FaultRule{Route: "offer/save", Kind: sandbox.Fault502}),
			call: func(c *emag.Client) error {
				_, err := c.SaveOffers(context.Background(), []emag.OfferUpdate{{ID: 1, Status: ptr(1)}})
				return err
			}, kind: emag.KindUnavailable, attempts: 1, faults: 1, checkText: func(t *testing.T, e *emag.Error) {
				if !e.MaybeApplied() {
					t.Error("a 502 on a write must leave the outcome unknown")
				}
			}},
		{name: "unreachable host", opts: smallOpts(), mod: func(o *emag.Options) {
			o.BaseURL = "http://127.0.0.1:1/api-3"
			o.Retry.MaxAttempts = 2
		}, call: read, kind: emag.KindUnavailable, attempts: 2, checkText: func(t *testing.T, e *emag.Error) {
			if !strings.Contains(e.Remedy(), "unreachable") {
				t.Errorf("remedy %q", e.Remedy())
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sb := startSandbox(t, tc.opts)
			var attempts, retries atomic.Int64
			var alerts atomic.Int64
			c := newClient(t, sb, "main", func(o *emag.Options) {
				o.Hooks.Request = func(emag.RequestEvent) { attempts.Add(1) }
				o.Hooks.Retry = func(emag.RetryEvent) { retries.Add(1) }
				o.Hooks.Alert = func(emag.AlertEvent) { alerts.Add(1) }
				if tc.mod != nil {
					tc.mod(o)
				}
			})
			err := tc.call(c)
			if int(attempts.Load()) != tc.attempts || retries.Load() != int64(tc.attempts-1) {
				t.Errorf("%d attempts and %d retries, want %d attempts (err: %v)", attempts.Load(), retries.Load(), tc.attempts, err)
			}
			if got := bucketStats(sb, "main", "other").Faults; got != tc.faults {
				t.Errorf("sandbox injected %d faults, want %d", got, tc.faults)
			}
			if tc.kind == "" {
				mustNil(t, "call", err)
				return
			}
			e := wantKind(t, err, tc.kind)
			if e.Attempts != tc.attempts {
				t.Errorf("error counts %d attempts, want %d", e.Attempts, tc.attempts)
			}
			switch tc.kind {
			case emag.KindAuth, emag.KindIPNotWhitelisted, emag.KindNonJSON:
				if alerts.Load() != 1 {
					t.Errorf("%d alerts, want 1", alerts.Load())
				}
			}
			if tc.checkText != nil {
				tc.checkText(t, e)
			}
		})
	}
}

// TestE2ERateLimitedBeyondBudget: when eMAG asks for a longer wait than
// the retry budget allows, the client does not sleep through it; it returns
// KindRateLimited with the wait eMAG asked for.
func TestE2ERateLimitedBeyondBudget(t *testing.T) {
	t.Parallel()
	opts := smallOpts()
	opts.NoRateLimit, opts.RateScale = false, 0.001 // one request per minute in every bucket
	sb := startSandbox(t, opts)
	c := newClient(t, sb, "main", func(o *emag.Options) { o.Retry.MaxElapsed = 2 * time.Second })
	ctx := t.Context()
	_, err := c.CountProductOffers(ctx, emag.ProductOfferFilter{})
	mustNil(t, "first request", err)
	start := time.Now()
	_, err = c.CountProductOffers(ctx, emag.ProductOfferFilter{})
	e := wantKind(t, err, emag.KindRateLimited)
	if e.Status != 429 || e.RetryAfter < 50*time.Second || e.Attempts != 1 || time.Since(start) > time.Second {
		t.Errorf("429 beyond the budget: status %d, retry after %s, %d attempts, took %s", e.Status, e.RetryAfter, e.Attempts, time.Since(start))
	}
	if !emag.IsRetryable(err) || !strings.Contains(e.Remedy(), "rate") {
		t.Errorf("retryable %v, remedy %q", emag.IsRetryable(err), e.Remedy())
	}
	// The order bucket is separate: it still has its request.
	_, err = c.CountOrders(ctx, emag.OrderFilter{})
	mustNil(t, "order bucket", err)
	if st := bucketStats(sb, "main", "other"); st.RateLimited != 1 || st.Requests != 1 {
		t.Errorf("other bucket: %+v", st)
	}
}

// TestE2ENoSecretsInLogs runs successful and failing calls with debug
// logging on: neither the password nor its Basic token appears anywhere.
func TestE2ENoSecretsInLogs(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, smallOpts())
	info := accountInfo(t, sb, "main")
	var buf syncBuffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var alerts []string
	var mu sync.Mutex
	hooks := emag.Hooks{Alert: func(ev emag.AlertEvent) {
		mu.Lock()
		alerts = append(alerts, ev.Message+" "+ev.Remedy)
		mu.Unlock()
	}}
	good := newClient(t, sb, "main", func(o *emag.Options) { o.Logger, o.Hooks = logger, hooks })
	bad := newClient(t, sb, "main", func(o *emag.Options) { o.Logger, o.Hooks, o.Password = logger, hooks, "Wr0ng-"+info.Password })
	ctx := t.Context()
	_, err := good.ReadProductOffers(ctx, emag.ProductOfferFilter{ItemsPerPage: 5})
	mustNil(t, "good read", err)
	_, err = bad.ReadProductOffers(ctx, emag.ProductOfferFilter{ItemsPerPage: 5})
	e := wantKind(t, err, emag.KindAuth)
	mu.Lock()
	text := buf.String() + e.Error() + fmt.Sprint(e.Messages) + strings.Join(alerts, " ")
	mu.Unlock()
	if len(alerts) != 1 || !strings.Contains(buf.String(), "emag alert") {
		t.Errorf("alerts %q; log:\n%s", alerts, buf.String())
	}
	for _, secret := range []string{info.Password, base64.StdEncoding.EncodeToString([]byte(info.Username + ":" + info.Password)),
		base64.StdEncoding.EncodeToString([]byte(info.Username + ":Wr0ng-" + info.Password))} {
		if strings.Contains(text, secret) {
			t.Fatalf("a secret leaked into the logs or errors:\n%s", text)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestE2EOrderArrival drives the sandbox's clock: new orders arrive, the
// client finds them with a modifiedAfter read and acknowledges them.
func TestE2EOrderArrival(t *testing.T) {
	t.Parallel()
	clock := &manualClock{now: time.Now()}
	opts := smallOpts()
	opts.Clock, opts.OrderRate = clock, 2 // two new orders a minute per account
	opts.Accounts[0].FBEShare = 0.0001
	sb := startSandbox(t, opts)
	c := newClient(t, sb, "main")
	ctx := t.Context()
	before := len(sb.OrderIDs("main"))
	since := clock.Now().Add(-time.Second)

	clock.Advance(30 * time.Minute)
	got, err := c.ReadOrders(ctx, emag.OrderFilter{ModifiedAfter: since, Status: []int{1}})
	mustNil(t, "read new orders", err)
	ids := sb.OrderIDs("main")
	if len(ids)-before != 60 {
		t.Fatalf("%d orders arrived in 30 minutes, want 60", len(ids)-before)
	}
	if len(got) < 50 {
		t.Fatalf("client found %d new orders modified since %s, want about 60", len(got), since)
	}
	for _, o := range got {
		if !slices.Contains(ids[before:], o.ID) || o.Date.Before(since) || o.Status != 1 {
			t.Errorf("order %d (date %s, status %d) is not one of the arrivals", o.ID, o.Date, o.Status)
		}
		mustNil(t, "acknowledge", c.AcknowledgeOrder(ctx, o.ID))
	}
	left, err := c.CountOrders(ctx, emag.OrderFilter{Status: []int{1}, Type: ptr(3), ModifiedAfter: since, ModifiedBefore: clock.Now()})
	mustNil(t, "count new orders", err)
	if left.Items != 0 {
		t.Errorf("%d new orders left after acknowledging them all", left.Items)
	}
}

// manualClock is a sandbox clock the test moves.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestE2EValidationNeverSent checks that requests the client refuses never
// reach the sandbox.
func TestE2EValidationNeverSent(t *testing.T) {
	t.Parallel()
	sb := startSandbox(t, smallOpts())
	c := newClient(t, sb, "main")
	ctx := context.Background()
	many := make([]emag.OfferUpdate, magflow.MaxBulkEntities+1)
	for i := range many {
		many[i] = emag.OfferUpdate{ID: int64(i + 1), Status: ptr(1)}
	}
	calls := []struct {
		name  string
		field string
		call  func() error
	}{
		{"itemsPerPage 101", "itemsPerPage", func() error {
			_, err := c.ReadProductOffers(ctx, emag.ProductOfferFilter{ItemsPerPage: 101})
			return err
		}},
		{"orders itemsPerPage 101", "itemsPerPage", func() error {
			_, err := c.ReadOrders(ctx, emag.OrderFilter{ItemsPerPage: 101})
			return err
		}},
		{"51 entities", "entities", func() error { _, err := c.SaveOffers(ctx, many); return err }},
		{"id 16777216", "[0].id", func() error {
			_, err := c.SaveProductOffers(ctx, []emag.ProductOfferSave{{ID: magflow.MaxSellerProductID + 1, Status: 1, SalePrice: ptr(dec("1"))}})
			return err
		}},
		{"stock id 16777216", "id", func() error { return c.UpdateOfferStock(ctx, magflow.MaxSellerProductID+1, 1) }},
		{"window over a month", "createdBefore", func() error {
			now := time.Now()
			_, err := c.CountOrders(ctx, emag.OrderFilter{CreatedAfter: now.AddDate(0, -2, 0), CreatedBefore: now})
			return err
		}},
		{"attachment without order_type", "[0].order_type", func() error {
			_, err := c.SaveOrderAttachments(ctx, []emag.OrderAttachment{{OrderID: 3_100_000_001, Name: "Factura", URL: "https://example.invalid/f.pdf", Type: 1}})
			return err
		}},
		{"AWB sender without a phone", "sender.phone1", func() error {
			_, err := c.SaveAWB(ctx, emag.AWBSave{OrderID: 3_100_000_001, ParcelNumber: 1,
				Sender:   emag.AWBParty{Name: "Magazin", AddressID: "1000000000000000001"},
				Receiver: emag.AWBParty{Name: "Ion Popescu", Phone1: "0700000000", LocalityID: 8801, Street: "Str. X 1"}})
			return err
		}},
		{"101 EANs", "eans", func() error { _, err := c.FindByEANs(ctx, make([]string, 101)); return err }},
	}
	for _, tc := range calls {
		e := wantKind(t, tc.call(), emag.KindValidation)
		if e.Field != tc.field || e.Attempts != 0 || e.Fix == "" {
			t.Errorf("%s: field %q, attempts %d, fix %q", tc.name, e.Field, e.Attempts, e.Fix)
		}
	}
	if n := totalRequests(sb); n != 0 {
		t.Errorf("the sandbox saw %d requests, want 0", n)
	}
}

// TestE2ERateLimits hammers one account with the client's limiter against a
// sandbox enforcing eMAG's limits scaled 10x: no 429 arrives and the
// sandbox's busiest windows stay within the limits. Without the limiter the
// sandbox throttles and the client retries every 429 to success.
//
// It is deliberately not parallel: it runs alone, before the parallel
// tests, so that the other tests' CPU load does not delay some requests
// more than others between the limiter's grant and their arrival.
func TestE2ERateLimits(t *testing.T) {
	const scale = 10
	opts := func() sandbox.Options {
		return sandbox.Options{Seed: e2eSeed, RateScale: scale, Accounts: []sandbox.AccountOptions{{Name: "main", Products: 300, Orders: 400}}}
	}

	t.Run("with the client limiter", func(t *testing.T) {
		sb := startSandbox(t, opts())
		lim, err := ratelimit.NewLocal(ratelimit.Options{Limits: ratelimit.DefaultLimits().Scale(scale)})
		mustNil(t, "limiter", err)
		var throttled, ok atomic.Int64
		c := newClient(t, sb, "main", func(o *emag.Options) {
			o.Limiter = lim
			o.Hooks.Request = func(ev emag.RequestEvent) {
				if ev.Status == 429 {
					throttled.Add(1)
				}
			}
		})
		ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 20)
		for g := range 20 {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					var err error
					if g%2 == 0 {
						_, err = c.ReadProductOffers(ctx, emag.ProductOfferFilter{CurrentPage: 1 + (g+i)%30, ItemsPerPage: 10})
					} else {
						_, err = c.ReadOrders(ctx, emag.OrderFilter{CurrentPage: 1 + (g+i)%30, ItemsPerPage: 10})
					}
					if err != nil {
						if ctx.Err() == nil {
							errs <- err
						}
						return
					}
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("request failed: %v", err)
		}
		if throttled.Load() != 0 {
			t.Errorf("%d answers were 429", throttled.Load())
		}
		st := sb.Stats().Accounts["main"]
		for _, name := range []string{"orders", "other"} {
			b := st.Buckets[name]
			t.Logf("%s: %d requests, max %d/s (limit %d), max %d/min (limit %d), %d throttled",
				name, b.Requests, b.MaxPerSecond, b.LimitPerSecond, b.MaxPerMinute, b.LimitPerMinute, b.RateLimited)
			if b.RateLimited != 0 || b.MaxPerSecond > b.LimitPerSecond || b.MaxPerMinute > b.LimitPerMinute {
				t.Errorf("%s bucket exceeded its limits: %+v", name, b)
			}
			// The load must have pressed on the limits.
			if b.MaxPerSecond < b.LimitPerSecond/2 {
				t.Errorf("%s bucket peaked at %d requests per second, under half its limit %d: the test did not load it", name, b.MaxPerSecond, b.LimitPerSecond)
			}
		}
		if ok.Load() == 0 {
			t.Error("no request succeeded")
		}
	})

	t.Run("without a limiter 429s are retried", func(t *testing.T) {
		sb := startSandbox(t, opts())
		var throttled atomic.Int64
		c := newClient(t, sb, "main", func(o *emag.Options) {
			o.Retry = emag.RetryPolicy{MaxAttempts: 8, BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond, MaxElapsed: 15 * time.Second}
			o.Hooks.Retry = func(ev emag.RetryEvent) {
				if ev.ErrKind == emag.KindRateLimited {
					throttled.Add(1)
				}
			}
		})
		var wg sync.WaitGroup
		// 60 cheap requests from 20 goroutines: at 30 per second the
		// sandbox must refuse some.
		errs := make(chan error, 60)
		for g := range 20 {
			wg.Go(func() {
				for i := range 3 {
					if _, err := c.ReadProductOffers(context.Background(), emag.ProductOfferFilter{CurrentPage: 1 + (g*3+i)%100, ItemsPerPage: 1}); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Errorf("request failed despite retries: %v", err)
		}
		b := bucketStats(sb, "main", "other")
		if b.RateLimited == 0 || throttled.Load() != b.RateLimited {
			t.Errorf("sandbox sent %d 429s, client retried %d", b.RateLimited, throttled.Load())
		}
		if b.Requests != 60 {
			t.Errorf("sandbox served %d requests, want 60", b.Requests)
		}
		if b.MaxPerSecond > b.LimitPerSecond {
			t.Errorf("sandbox let %d requests through in one second (limit %d)", b.MaxPerSecond, b.LimitPerSecond)
		}
	})
}
