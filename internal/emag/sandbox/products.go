package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/magflow/magflow"
)

// productFilter is a parsed product_offer/read or /count filter.
type productFilter struct {
	ids                             []int64
	status                          []int64
	partNumber, pnk                 string
	generalStock, estimatedStock    int64
	hasGeneral, hasEstimated        bool
	offerValidation, validation, tr []int64
	empty                           bool
}

func parseProductFilter(p params) (productFilter, string) {
	var f productFilter
	var err error
	if f.ids, _, err = p.intList("id"); err != nil {
		return f, "Invalid id filter: " + err.Error()
	}
	if f.status, _, err = p.intList("status"); err != nil {
		return f, "Invalid status filter: " + err.Error()
	}
	f.partNumber = p.str("part_number")
	f.pnk = p.str("part_number_key")
	if f.generalStock, f.hasGeneral, err = p.intParam("general_stock"); err != nil {
		return f, "Invalid general_stock filter: " + err.Error()
	}
	if f.estimatedStock, f.hasEstimated, err = p.intParam("estimated_stock"); err != nil {
		return f, "Invalid estimated_stock filter: " + err.Error()
	}
	if f.offerValidation, _, err = p.intList("offer_validation_status"); err != nil {
		return f, "Invalid offer_validation_status filter: " + err.Error()
	}
	if f.validation, _, err = p.intList("validation_status"); err != nil {
		return f, "Invalid validation_status filter: " + err.Error()
	}
	if f.tr, _, err = p.intList("translation_validation_status"); err != nil {
		return f, "Invalid translation_validation_status filter: " + err.Error()
	}
	for _, id := range f.ids {
		if id < 1 || id > 4294967295 {
			return f, "Invalid id filter: must be between 1 and 4294967295"
		}
	}
	f.empty = f.ids == nil && f.status == nil && f.partNumber == "" && f.pnk == "" && !f.hasGeneral && !f.hasEstimated &&
		f.offerValidation == nil && f.validation == nil && f.tr == nil
	return f, ""
}

func (f *productFilter) match(p *product) bool {
	in := func(list []int64, v int) bool { return list == nil || slices.Contains(list, int64(v)) }
	return (f.ids == nil || slices.Contains(f.ids, p.ID)) && in(f.status, p.Status) &&
		(f.partNumber == "" || f.partNumber == p.PartNumber) && (f.pnk == "" || f.pnk == p.PNK) &&
		(!f.hasGeneral || int64(p.generalStock()) <= f.generalStock) &&
		(!f.hasEstimated || int64(p.estimatedStock()) <= f.estimatedStock) &&
		in(f.offerValidation, p.OfferValidation) && in(f.validation, p.Validation) && in(f.tr, p.Validation)
}

// selectProducts returns the matching products of one page and the total
// match count. Callers hold the read lock.
func (a *account) selectProducts(f *productFilter, page, per int64) ([]*product, int) {
	if f.empty {
		n := int64(len(a.products))
		lo := min((page-1)*per, n)
		return a.products[lo:min(lo+per, n)], len(a.products)
	}
	var out []*product
	total := 0
	lo := (page - 1) * per
	add := func(p *product) {
		if f.match(p) {
			if int64(total) >= lo && int64(total) < lo+per {
				out = append(out, p)
			}
			total++
		}
	}
	if len(f.ids) > 0 && len(f.ids) <= 100 {
		ids := slices.Clone(f.ids)
		slices.Sort(ids)
		for _, id := range slices.Compact(ids) {
			if p := a.byID[id]; p != nil {
				add(p)
			}
		}
		return out, total
	}
	for _, p := range a.products {
		add(p)
	}
	return out, total
}

// productQuery reads the paging and the filter of product_offer/read and
// /count, failing the call on a bad one.
func (c *call) productQuery() (f productFilter, page, per int64, ok bool) {
	p := c.params()
	page, per, msg := p.paging("products")
	if msg == "" {
		f, msg = parseProductFilter(p)
	}
	if msg != "" {
		c.fail(msg)
		return f, 0, 0, false
	}
	return f, page, per, true
}

func (c *call) productRead() {
	f, page, per, ok := c.productQuery()
	if !ok {
		return
	}
	a := c.a
	a.mu.RLock()
	rows, _ := a.selectProducts(&f, page, per)
	c.status = http.StatusOK
	c.out.WriteString(envelopeHead)
	c.out.WriteByte('[')
	for i, pr := range rows {
		if i > 0 {
			c.out.WriteByte(',')
		}
		c.out.Write(pr.json(len(f.ids) > 0))
	}
	c.out.WriteString("]}")
	a.mu.RUnlock()
	a.churn()
}

func (c *call) productCount() {
	f, _, per, ok := c.productQuery()
	if !ok {
		return
	}
	c.a.mu.RLock()
	var total int
	if f.empty {
		total = len(c.a.products)
	} else {
		_, total = c.a.selectProducts(&f, 1, 1)
	}
	c.a.mu.RUnlock()
	c.ok(countResult(total, int(per)))
}

// countResult is eMAG's count object: every value a string.
func countResult(total, per int) map[string]string {
	pages := (total + per - 1) / per
	return map[string]string{"noOfItems": strconv.Itoa(total), "noOfPages": strconv.Itoa(pages), "itemsPerPage": strconv.Itoa(per)}
}

var vatIDs = map[int64]string{1: "0.2100", 2: "0.1100", 3: "0.0000", 4: "0.0500", 5: "0.1900", 6: "0.0900"}

// getInt reads an integer key of a save entity.
func getInt(m map[string]any, k string) (int64, bool, error) { return params(m).intParam(k) }

func getDecimal(m map[string]any, k string) (magflow.Decimal, bool, error) {
	v, ok := m[k]
	if !ok || v == nil {
		return magflow.Decimal{}, false, nil
	}
	d, err := toDecimal(v)
	return d, true, err
}

// warehouseValues reads stock[] or handling_time[].
func warehouseValues(v any, maxValue int64, key string) ([]wv, string) {
	list, ok := v.([]any)
	if !ok {
		return nil, key + " must be a list of {warehouse_id, value}"
	}
	var out []wv
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, key + " must be a list of {warehouse_id, value}"
		}
		wh, has, err := getInt(m, "warehouse_id")
		if err != nil || (has && (wh < 1 || wh > 65535)) {
			return nil, key + ".warehouse_id must be a positive integer"
		}
		if !has {
			wh = 1
		}
		val, has, err := getInt(m, "value")
		if !has || err != nil {
			return nil, fmt.Sprintf("The %s field is mandatory. Its value must be a whole (integer) number. Decimals are not allowed. (ex: 5)", key)
		}
		if val < 0 || val > maxValue {
			return nil, fmt.Sprintf("%s value must be between 0 and %d", key, maxValue)
		}
		out = append(out, wv{WarehouseID: int(wh), Value: int(val)})
	}
	return out, ""
}

func gpsrList(v any, key string) ([]gpsrEntity, string) {
	list, ok := v.([]any)
	if !ok {
		return nil, key + " must be a list"
	}
	if len(list) > 10 {
		return nil, key + " accepts at most 10 sets"
	}
	var out []gpsrEntity
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, key + " must be a list of {name, address, email}"
		}
		g := gpsrEntity{Name: params(m).str("name"), Address: params(m).str("address"), Email: params(m).str("email")}
		switch {
		case g.Name == "" || len(g.Name) > 200:
			return nil, key + ".name is mandatory, at most 200 characters"
		case g.Address == "" || len(g.Address) > 500:
			return nil, key + ".address is mandatory, at most 500 characters"
		case g.Email == "" || len(g.Email) > 100 || !strings.Contains(g.Email, "@"):
			return nil, key + ".email is mandatory, a valid address of at most 100 characters"
		}
		out = append(out, g)
	}
	return out, ""
}

// stripPartNumber removes what eMAG strips from part numbers.
func stripPartNumber(s string) string {
	return partNumberStrip.Replace(s)
}

func (c *call) productSave() {
	items, ok := c.bulk("products")
	if !ok {
		return
	}
	var errs, warnings []string
	c.a.mu.Lock()
	for _, m := range items {
		e, w := c.a.saveProduct(m, c.now.In(c.s.zone))
		errs = append(errs, e...)
		warnings = append(warnings, w...)
	}
	c.a.mu.Unlock()
	if len(errs) > 0 {
		c.fail(append(errs, warnings...)...)
		return
	}
	c.ok([]any{}, warnings...)
}

var contentKeys = []string{"name", "brand", "description", "category_id", "part_number", "images", "characteristics", "family", "url", "ean", "attachments", "safety_information", "manufacturer", "eu_representative"}

// saveProduct validates and applies one product_offer/save entity. It
// returns blocking errors (nothing saved for this entity, except for
// documentation errors, which eMAG reports as errors while saving) and
// warnings. Callers hold the write lock.
func (a *account) saveProduct(m map[string]any, now time.Time) (errs, warnings []string) {
	id, has, err := getInt(m, "id")
	if !has || err != nil || id < 1 || id > magflow.MaxSellerProductID {
		return []string{fmt.Sprintf("Invalid product id %v: the id is mandatory, an integer between 1 and %d", m["id"], magflow.MaxSellerProductID)}, nil
	}
	bad := func(format string, args ...any) ([]string, []string) {
		return []string{fmt.Sprintf("Product id %d: ", id) + fmt.Sprintf(format, args...)}, nil
	}
	existing := a.byID[id]
	status, has, err := getInt(m, "status")
	if !has || err != nil || status < 0 || status > 2 {
		return bad("status is mandatory: 0 inactive, 1 active or 2 end of life")
	}
	if status == 2 && existing == nil {
		return bad("status 2 (end of life) is only allowed on update")
	}
	sale, has, err := getDecimal(m, "sale_price")
	if !has || err != nil || sale.Units() <= 0 {
		return bad("sale_price is mandatory, greater than 0, with at most 4 decimals")
	}
	vat, has, err := getInt(m, "vat_id")
	if !has || err != nil {
		return bad("vat_id is mandatory")
	}
	if _, ok := vatIDs[vat]; !ok {
		return bad("vat_id %d does not exist", vat)
	}
	sv, ok := m["stock"]
	if !ok {
		return bad("stock is mandatory")
	}
	stock, msg := warehouseValues(sv, 65535, "stock")
	if msg != "" {
		return bad("%s", msg)
	}
	var handling []wv
	if hv, ok := m["handling_time"]; ok {
		if handling, msg = warehouseValues(hv, 255, "handling_time"); msg != "" {
			return bad("%s", msg)
		}
	} else if existing != nil {
		return bad("handling_time is mandatory when updating an offer")
	}
	minP, hasMin, err1 := getDecimal(m, "min_sale_price")
	maxP, hasMax, err2 := getDecimal(m, "max_sale_price")
	if err1 != nil || err2 != nil {
		return bad("min_sale_price and max_sale_price must be numbers with at most 4 decimals")
	}
	if existing == nil && (!hasMin || !hasMax) {
		return bad("min_sale_price and max_sale_price are mandatory on the first save of an offer")
	}
	if existing != nil {
		if !hasMin {
			minP = existing.MinSalePrice
		}
		if !hasMax {
			maxP = existing.MaxSalePrice
		}
	}
	if maxP.Cmp(minP) <= 0 {
		return bad("max_sale_price must be greater than min_sale_price")
	}
	if sale.Cmp(minP) < 0 || sale.Cmp(maxP) > 0 {
		return bad("sale_price %s must be between min_sale_price %s and max_sale_price %s", sale, minP, maxP)
	}
	var rec *magflow.Decimal
	if r, has, err := getDecimal(m, "recommended_price"); err != nil {
		return bad("recommended_price must be a number with at most 4 decimals")
	} else if has {
		if r.Cmp(sale) <= 0 {
			return bad("recommended_price must be greater than sale_price")
		}
		rec = &r
	}
	slt, hasSLT, err := getInt(m, "supply_lead_time")
	if err != nil || (hasSLT && !slices.Contains(supplyLeadTimes, int(slt))) {
		return bad("supply_lead_time must be one of 2, 3, 5, 7, 14, 30, 60, 90, 120")
	}
	warranty, hasWarranty, err := getInt(m, "warranty")
	if err != nil || warranty < 0 || warranty > 255 {
		return bad("warranty must be between 0 and 255 months")
	}
	green, hasGreen, err := getDecimal(m, "green_tax")
	if err != nil || green.Units() < 0 {
		return bad("green_tax must be a number of at least 0 with at most 4 decimals")
	}
	club, hasClub, err := getInt(m, "emag_club")
	if err != nil || club < 0 || club > 1 {
		return bad("emag_club must be 0 or 1")
	}
	if sd := params(m).str("start_date"); sd != "" {
		d, err := time.ParseInLocation("2006-01-02", sd, now.Location())
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location())
		if err != nil || d.Before(today.AddDate(0, 0, 1)) || d.After(today.AddDate(0, 0, 60)) {
			return bad("start_date must be a date between tomorrow and 60 days from now (YYYY-MM-DD)")
		}
	}
	var mfr, eur []gpsrEntity
	if v, ok := m["manufacturer"]; ok {
		if mfr, msg = gpsrList(v, "manufacturer"); msg != "" {
			return bad("%s", msg)
		}
	}
	if v, ok := m["eu_representative"]; ok {
		if eur, msg = gpsrList(v, "eu_representative"); msg != "" {
			return bad("%s", msg)
		}
	}
	if existing != nil && existing.inCampaign && existing.Status == 1 && (sale != existing.SalePrice || !slices.Equal(stock, existing.Stock)) {
		return bad("The offer is included in the active campaign BF, thus the offer has NOT been changed.")
	}

	// Documentation: new product, attach to an existing one, or update.
	pnk := params(m).str("part_number_key")
	eans, msg := eanList(m)
	if msg != "" {
		return bad("%s", msg)
	}
	p := existing
	var docErrors []string
	if p == nil {
		name := params(m).str("name")
		if name == "" || len(name) > 255 {
			return bad("name is mandatory, between 1 and 255 characters")
		}
		var e *entry
		switch {
		case pnk != "":
			if len(eans) > 0 {
				return bad("send either part_number_key or ean when attaching an offer, not both")
			}
			a.s.catalog.mu.RLock()
			e = a.s.catalog.byPNK[pnk]
			a.s.catalog.mu.RUnlock()
			if e == nil {
				return bad("part_number_key %s does not exist", pnk)
			}
		case len(eans) == 1 && m["category_id"] == nil:
			a.s.catalog.mu.RLock()
			e = a.s.catalog.byEAN[eans[0]]
			a.s.catalog.mu.RUnlock()
			if e == nil {
				return bad("category_id is mandatory for a new product")
			}
		}
		if e != nil {
			if other := a.byPNK[e.pnk]; other != nil {
				return bad("you already have an offer (id %d) on the product %s", other.ID, e.pnk)
			}
			p = newProduct(a.s.opts.Seed, a.index, e, id)
			p.Name = name
		} else {
			cat, has, err := getInt(m, "category_id")
			if !has || err != nil || cat < 1 || cat > 65535 {
				return bad("category_id is mandatory, between 1 and 65535")
			}
			def := categoryByID(int(cat))
			if def == nil {
				return bad("category_id %d does not exist or is not allowed for your account", cat)
			}
			pn := stripPartNumber(params(m).str("part_number"))
			if pn == "" || len(pn) > 25 {
				return bad("part_number is mandatory, between 1 and 25 characters")
			}
			brand := params(m).str("brand")
			if brand == "" || len(brand) > 255 {
				return bad("brand is mandatory, between 1 and 255 characters")
			}
			if def.eanRequired && len(eans) == 0 {
				return bad("ean is mandatory in category %d", cat)
			}
			p = &product{ID: id, PartNumber: pn, Name: name, Brand: brand, CategoryID: int(cat), Currency: "RON",
				Warranty: def.warranty, Validation: 1, OfferValidation: 1, Ownership: true, SupplyLeadTime: 14, EmagClub: 1,
				OfferID: 40_000_000 + int64(mix(uint64(a.s.opts.Seed), uint64(a.index), uint64(id))%9_000_000)}
			p.PNK = newPNKFor(a.s.catalog, a.s.opts.Seed, a.index, id)
		}
	}
	if pn, ok := m["part_number"]; ok && existing != nil {
		s, _ := pn.(string)
		s = stripPartNumber(s)
		if s == "" || len(s) > 25 {
			return bad("part_number must be between 1 and 25 characters")
		}
		if s != p.PartNumber && !p.Ownership {
			warnings = append(warnings, fmt.Sprintf("Product id %d: you are not the owner of this documentation, content changes were ignored", id))
		}
	}
	newPN := p.PartNumber
	if s := stripPartNumber(params(m).str("part_number")); s != "" && (existing == nil || p.Ownership) {
		newPN = s
	}
	if other := a.byPN[newPN]; other != nil && other.ID != id {
		return bad("part_number %s is already used by your product %d", newPN, other.ID)
	}
	for _, e := range eans {
		if other := a.byEAN[e]; other != nil && other.ID != id {
			return bad("EAN %s is already used by your product %d", e, other.ID)
		}
	}
	images := p.Images
	if v, ok := m["images"]; ok {
		if images, msg = imageList(v); msg != "" {
			return bad("%s", msg)
		}
	}
	chars := p.Characteristics
	if v, ok := m["characteristics"]; ok {
		if chars, msg = charList(v); msg != "" {
			return bad("%s", msg)
		}
	}
	var fam *family
	famSet := false
	if v, ok := m["family"].(map[string]any); ok {
		famSet = true
		fid, _, _ := getInt(v, "id")
		ftype, _, _ := getInt(v, "family_type_id")
		if fid != 0 {
			fam = &family{ID: int(fid), Name: params(v).str("name"), FamilyTypeID: int(ftype)}
			if fam.Name == "" {
				warnings = append(warnings, fmt.Sprintf("Product id %d: Mktp Family: family name is empty,", id))
			}
			if len(chars) == 0 {
				warnings = append(warnings, "Please provide product characteristic values for the given family type")
			}
		}
	}

	// Everything is valid: apply.
	if existing != nil {
		a.unindex(p)
	}
	owner := existing == nil || p.Ownership
	contentChanged := false
	if owner {
		if v := params(m).str("name"); v != "" && v != p.Name {
			p.Name, contentChanged = v, true
		}
		if v := params(m).str("brand"); v != "" && v != p.Brand {
			p.Brand, contentChanged = v, true
		}
		if v := params(m).str("description"); v != "" && v != p.Description {
			p.Description, contentChanged = v, true
		}
		if v := params(m).str("url"); v != "" {
			p.URL = v
		}
		if newPN != p.PartNumber {
			p.PartNumber, contentChanged = newPN, true
		}
		if len(eans) > 0 && !slices.Equal(eans, p.EAN) {
			p.EAN = eans
		}
		if _, ok := m["images"]; ok {
			p.Images = images
			if len(images) == 0 {
				docErrors = append(docErrors, fmt.Sprintf("Product id %d: photo_gallery array is empty", id))
			}
		}
		if _, ok := m["characteristics"]; ok {
			p.Characteristics, contentChanged = chars, true
		}
		if famSet {
			p.Family = fam
		}
		if mfr != nil {
			p.Manufacturer = mfr
		}
		if eur != nil {
			p.EURepresentative = eur
		}
		if v, ok := m["safety_information"].(string); ok {
			p.SafetyInfo = v
		}
	} else {
		for _, k := range contentKeys {
			if _, ok := m[k]; ok && k != "name" && k != "part_number" {
				warnings = append(warnings, fmt.Sprintf("Product id %d: you are not the owner of this documentation, content changes were ignored", id))
				break
			}
		}
	}
	if existing == nil && len(p.Images) == 0 {
		docErrors = append(docErrors, fmt.Sprintf("Product id %d: user_message: Photo Gallery Validation - No valid images have been found.", id))
	}
	p.Status = int(status)
	p.SalePrice, p.MinSalePrice, p.MaxSalePrice = sale, minP, maxP
	if rec != nil {
		p.RecommendedPrice = rec
	}
	p.VatID = int(vat)
	p.Stock = stock
	if handling != nil {
		p.HandlingTime = handling
	}
	if hasSLT {
		p.SupplyLeadTime = int(slt)
	}
	if hasWarranty {
		p.Warranty = int(warranty)
	}
	if hasGreen {
		p.GreenTax = green
	}
	if hasClub {
		p.EmagClub = int(club)
	}
	if len(docErrors) > 0 {
		p.Validation = 8
		p.ValidationErrors = map[string]any{"errors": docErrors}
	} else if existing != nil && contentChanged && p.Validation == 9 {
		p.Validation = 11
	}
	p.OfferValidation = 1
	p.touch()
	if existing == nil {
		a.insertProduct(p)
	} else {
		a.indexProduct(p)
	}
	return docErrors, warnings
}

func categoryByID(id int) *categoryDef {
	for i := range categories {
		if categories[i].id == id {
			return &categories[i]
		}
	}
	return nil
}

func newPNKFor(c *catalog, seed int64, acct int, id int64) string {
	r := newRand(uint64(seed), uint64(acct), uint64(id), 0x9a7)
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		b := []byte("D000000BM")
		for i := 1; i < 7; i++ {
			b[i] = alnum[r.IntN(len(alnum))]
		}
		if c.byPNK[string(b)] == nil {
			return string(b)
		}
	}
}

func eanList(m map[string]any) ([]string, string) {
	v, ok := m["ean"]
	if !ok || v == nil {
		return nil, ""
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []string
	for _, e := range list {
		s := ""
		switch x := e.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		}
		if !validEAN(s) {
			return nil, fmt.Sprintf("EAN %v is invalid: it must have between 6 and 14 digits", e)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, ""
}

func imageList(v any) ([]image, string) {
	list, ok := v.([]any)
	if !ok {
		return nil, "photo_gallery should be an array"
	}
	var out []image
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, "photo_gallery should be an array"
		}
		u := params(m).str("url")
		if u == "" {
			return nil, "photo_gallery image does not have url specified."
		}
		if len(u) > 1024 {
			return nil, "image url must have at most 1024 characters"
		}
		dt, _, err := getInt(m, "display_type")
		if err != nil || dt < 0 || dt > 2 {
			return nil, "image display_type must be 0, 1 or 2"
		}
		out = append(out, image{URL: u, DisplayType: int(dt)})
	}
	return out, ""
}

func charList(v any) ([]charVal, string) {
	list, ok := v.([]any)
	if !ok {
		return nil, "characteristics must be a list of {id, value}"
	}
	var out []charVal
	for _, e := range list {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, "characteristics must be a list of {id, value}"
		}
		id, has, err := getInt(m, "id")
		if !has || err != nil || id < 1 || id > 65535 {
			return nil, "characteristic id must be between 1 and 65535"
		}
		val := params(m).str("value")
		if val == "" {
			return nil, fmt.Sprintf("value of characteristic with id %d is empty", id)
		}
		if len(val) > 255 {
			return nil, fmt.Sprintf("value of characteristic with id %d is longer than 255 characters", id)
		}
		out = append(out, charVal{ID: int(id), Value: val, Tag: params(m).str("tag")})
	}
	return out, ""
}

// lightOfferSave is offer/save: updates of existing offers only, with a
// result per offer id and a top-level isError that stays false.
func (c *call) lightOfferSave() {
	items, ok := c.bulk("offers")
	if !ok {
		return
	}
	c.a.mu.Lock()
	c.status = http.StatusOK
	c.out.WriteString(envelopeHead)
	c.out.WriteByte('{')
	seen := map[string]bool{}
	first := true
	for i, m := range items {
		key := fmt.Sprint(m["id"])
		if key == "<nil>" {
			key = strconv.Itoa(i)
		}
		isErr, msg := c.a.lightSave(m)
		if seen[key] {
			continue
		}
		seen[key] = true
		if !first {
			c.out.WriteByte(',')
		}
		first = false
		k, _ := marshal(key)
		ms, _ := marshal([]string{msg})
		fmt.Fprintf(c.out, `%s:{"isError":%t,"messages":%s}`, k, isErr, ms)
	}
	c.out.WriteString("}}")
	c.a.mu.Unlock()
}

func (a *account) lightSave(m map[string]any) (bool, string) {
	id, has, err := getInt(m, "id")
	if !has || err != nil || id < 1 {
		return true, "The id field is mandatory"
	}
	p := a.byID[id]
	if p == nil {
		return true, fmt.Sprintf("Offer %d does not exist", id)
	}
	sale, minP, maxP, rec := p.SalePrice, p.MinSalePrice, p.MaxSalePrice, p.RecommendedPrice
	var errD error
	set := func(k string, dst *magflow.Decimal) {
		if d, has, err := getDecimal(m, k); err != nil {
			errD = err
		} else if has {
			*dst = d
		}
	}
	set("sale_price", &sale)
	set("min_sale_price", &minP)
	set("max_sale_price", &maxP)
	if d, has, err := getDecimal(m, "recommended_price"); err != nil {
		errD = err
	} else if has {
		rec = &d
	}
	if errD != nil {
		return true, "Prices must be numbers with at most 4 decimals"
	}
	if sale.Units() <= 0 {
		return true, "The sale price must be greater than 0"
	}
	if maxP.Cmp(minP) <= 0 {
		return true, "The maximum sale price must be greater than the minimum sale price"
	}
	if sale.Cmp(minP) < 0 || sale.Cmp(maxP) > 0 {
		return true, fmt.Sprintf("The sale price %s must be between %s and %s", sale, minP, maxP)
	}
	if rec != nil && rec.Cmp(sale) <= 0 {
		return true, "The recommended price must be greater than the sale price"
	}
	stock := p.Stock
	if v, ok := m["stock"]; ok {
		list, ok := v.([]any)
		if !ok {
			return true, "The stock field is mandatory. Its value must be a whole (integer) number. Decimals are not allowed. (ex: 5)"
		}
		stock = nil
		for _, e := range list {
			em, _ := e.(map[string]any)
			val, has, err := getInt(em, "value")
			if !has || err != nil {
				return true, "The stock field is mandatory. Its value must be a whole (integer) number. Decimals are not allowed. (ex: 5)"
			}
			if val < 0 {
				return true, "Stock should be 0 or more"
			}
			if val > 65535 {
				return true, "Stock should be at most 65535"
			}
			wh, hasWH, _ := getInt(em, "warehouse_id")
			if !hasWH {
				wh = 1
			}
			stock = append(stock, wv{WarehouseID: int(wh), Value: int(val)})
		}
	}
	handling := p.HandlingTime
	if v, ok := m["handling_time"]; ok {
		h, msg := warehouseValues(v, 255, "handling_time")
		if msg != "" {
			return true, msg
		}
		handling = h
	}
	status := int64(p.Status)
	if s, has, err := getInt(m, "status"); err != nil || (has && (s < 0 || s > 2)) {
		return true, "The status must be 0, 1 or 2"
	} else if has {
		status = s
	}
	vat := int64(p.VatID)
	if v, has, err := getInt(m, "vat_id"); err != nil {
		return true, "The vat_id must be an integer"
	} else if has {
		if _, ok := vatIDs[v]; !ok {
			return true, fmt.Sprintf("vat_id %d does not exist", v)
		}
		vat = v
	}
	if p.inCampaign && p.Status == 1 && (sale != p.SalePrice || !slices.Equal(stock, p.Stock)) {
		return true, "The offer is included in the active campaign BF, thus the offer has NOT been changed."
	}
	p.SalePrice, p.MinSalePrice, p.MaxSalePrice, p.RecommendedPrice = sale, minP, maxP, rec
	p.Stock, p.HandlingTime, p.Status, p.VatID = stock, handling, int(status), int(vat)
	p.touch()
	return false, fmt.Sprintf("Offer %d updated successfully", id)
}

// offerStock is PATCH offer_stock/{id}: real HTTP statuses, no envelope.
func (c *call) offerStock() {
	id, err := parseID(c.pathID)
	if err != nil {
		c.plain(http.StatusNotFound, msgInvalidURL)
		return
	}
	raw, _ := c.body.([]byte)
	if !strings.Contains(c.r.Header.Get("Content-Type"), "json") {
		c.plain(http.StatusBadRequest, `{"message":"Invalid content"}`)
		return
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		c.plain(http.StatusBadRequest, `{"message":"Invalid content"}`)
		return
	}
	validation := func(msg string) {
		type fieldError struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		}
		b, _ := marshal(struct {
			Message string       `json:"message"`
			Errors  []fieldError `json:"errors"`
		}{"Validation errors in your request", []fieldError{{msg, "stock"}}})
		c.plain(http.StatusBadRequest, string(b))
	}
	sraw, ok := body["stock"]
	if !ok {
		validation("The stock field is mandatory. Its value must be a whole (integer) number. Decimals are not allowed. (ex: 5)")
		return
	}
	var n json.Number
	if err := json.Unmarshal(sraw, &n); err != nil {
		validation("The stock field is mandatory. Its value must be a whole (integer) number. Decimals are not allowed. (ex: 5)")
		return
	}
	stock, err := n.Int64()
	if err != nil {
		validation("The stock field is mandatory. Its value must be a whole (integer) number. Decimals are not allowed. (ex: 5)")
		return
	}
	if stock < 0 {
		validation("Stock should be 0 or more")
		return
	}
	if stock > 65535 {
		validation("Stock should be at most 65535")
		return
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	p := c.a.byID[id]
	if p == nil {
		c.plain(http.StatusNotFound, `{"message":"This offer does not exist"}`)
		return
	}
	if p.inCampaign && p.Status == 1 {
		validation("The offer is included in the active campaign BF, thus the stock has NOT been changed.")
		return
	}
	// A stock-only update carries no warehouse: it becomes the only one.
	p.Stock = []wv{{WarehouseID: 1, Value: int(stock)}}
	if len(p.HandlingTime) > 1 {
		p.HandlingTime = p.HandlingTime[:1]
	}
	p.touch()
	c.status = http.StatusNoContent
}

func (c *call) measurementsSave() {
	items, ok := c.bulk("measurements")
	if !ok {
		return
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	var errs []string
	for _, m := range items {
		id, has, err := getInt(m, "id")
		if !has || err != nil || c.a.byID[id] == nil {
			errs = append(errs, fmt.Sprintf("Product %v does not exist", m["id"]))
			continue
		}
		vals := map[string]string{}
		for _, k := range []string{"length", "width", "height", "weight"} {
			d, has, err := getDecimal(m, k)
			if !has || err != nil || d.Units() < 0 || d.Cmp(magflow.DecimalFromInt(999999)) > 0 || d.Units()%100 != 0 {
				errs = append(errs, fmt.Sprintf("Product %d: %s is mandatory, between 0 and 999999 with at most 2 decimals", id, k))
				vals = nil
				break
			}
			vals[k] = d.String()
		}
		if vals != nil {
			c.a.byID[id].Measurements = vals
		}
	}
	if len(errs) > 0 {
		c.fail(errs...)
		return
	}
	c.ok([]any{})
}

func (c *call) campaignProposalsSave() {
	items, ok := c.bulk("campaign proposals")
	if !ok {
		return
	}
	c.a.mu.Lock()
	defer c.a.mu.Unlock()
	var errs []string
	for _, m := range items {
		id, _, _ := getInt(m, "id")
		camp, has, err := getInt(m, "campaign_id")
		switch {
		case c.a.byID[id] == nil:
			errs = append(errs, fmt.Sprintf("Offer not found for id: %v", m["id"]))
		case !has || err != nil || camp < 1001 || camp > 1010:
			errs = append(errs, fmt.Sprintf("Campaign not found for id: %v", m["campaign_id"]))
		default:
			if st, has, err := getInt(m, "stock"); err != nil || (has && (st < 0 || st > 255)) {
				errs = append(errs, fmt.Sprintf("Offer %d: stock must be between 0 and 255", id))
				continue
			}
			if vd, has, err := getInt(m, "voucher_discount"); err != nil || (has && (vd < 10 || vd > 100)) {
				errs = append(errs, fmt.Sprintf("Offer %d: voucher_discount must be between 10 and 100", id))
				continue
			}
			if _, has, err := getDecimal(m, "sale_price"); !has || err != nil {
				errs = append(errs, fmt.Sprintf("Offer %d: sale_price is mandatory", id))
				continue
			}
			c.a.campaigns[id] = true
		}
	}
	if len(errs) > 0 {
		c.fail(errs...)
		return
	}
	c.ok([]string{"Campaign proposals successfully saved"})
}

// findByEANs is the EAN search: results keyed by EAN, in request order.
func (c *call) findByEANs() {
	p := c.params()
	var eans []string
	switch v := p["eans"].(type) {
	case []any:
		for _, e := range v {
			if s, ok := e.(string); ok {
				eans = append(eans, s)
			} else if n, ok := e.(json.Number); ok {
				eans = append(eans, n.String())
			}
		}
	case string:
		eans = strings.Split(v, ",")
	}
	if len(eans) == 0 {
		c.fail("The eans parameter is mandatory")
		return
	}
	var msgs []string
	if len(eans) > 100 {
		msgs = append(msgs, fmt.Sprintf("Only the first 100 EANs were processed; %d were ignored", len(eans)-100))
		eans = eans[:100]
	}
	c.a.mu.RLock()
	c.s.catalog.mu.RLock()
	c.status = http.StatusOK
	m, _ := marshal(nonNil(msgs))
	fmt.Fprintf(c.out, `{"isError":false,"messages":%s,"errors":[],"results":{`, m)
	seen := map[string]bool{}
	first := true
	for _, ean := range eans {
		ean = strings.TrimSpace(ean)
		if seen[ean] {
			continue
		}
		seen[ean] = true
		if !first {
			c.out.WriteByte(',')
		}
		first = false
		k, _ := marshal(ean)
		products := []any{}
		if e := c.s.catalog.byEAN[ean]; e != nil {
			hot := []string{"COLD", "SUPER COLD", "WARM", "HOT"}[mix(e.key)%4]
			mine := c.a.byPNK[e.pnk] != nil
			products = append(products, map[string]any{
				"ean": ean, "part_number_key": e.pnk, "product_name": e.name, "brand_name": e.brand,
				"doc_category_id": e.category.id, "category_name": e.category.name,
				"site_url": "http://emag.ro/product_details/pd/" + e.pnk, "allowed_to_add_offer": true,
				"vendor_has_offer": mine, "hotness": hot, "product_image": e.images[0].URL + "?width=150&height=150",
			})
		}
		v, _ := marshal(map[string]any{"products": products})
		c.out.Write(k)
		c.out.WriteByte(':')
		c.out.Write(v)
	}
	c.out.WriteString("}}")
	c.s.catalog.mu.RUnlock()
	c.a.mu.RUnlock()
}

func (c *call) smartDeals() {
	id, has, err := c.params().intParam("productId")
	if !has || err != nil {
		c.fail("The productId parameter is mandatory")
		return
	}
	c.a.mu.RLock()
	p := c.a.byID[id]
	var price magflow.Decimal
	eligible := p != nil && mix(uint64(c.s.opts.Seed), uint64(id))%2 == 0
	if eligible {
		price = magflow.NewDecimal(p.SalePrice.Units() * 90 / 100 / 100 * 100)
	}
	c.a.mu.RUnlock()
	if !eligible {
		c.okRaw([]byte("null"))
		return
	}
	s := strings.TrimRight(strings.TrimRight(price.String(), "0"), ".")
	c.okRaw([]byte(`{"smart_deals_price":` + s + `}`))
}

// partNumberStrip removes the characters eMAG strips from part numbers.
var partNumberStrip = strings.NewReplacer(" ", "", ",", "", ";", "")
