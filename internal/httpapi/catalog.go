package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"

	"github.com/magflow/magflow"
	"github.com/magflow/magflow/internal/sqldb"
)

// ListParams are the pagination parameters of every list.
type ListParams struct {
	Limit  int `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items per page."`
	Offset int `query:"offset" minimum:"0" maximum:"100000000" default:"0" doc:"Items to skip."`
}

// ProductListInput are the filters of GET .../products/all.
type ProductListInput struct {
	View                  string     `query:"view" enum:"canonical,account" default:"canonical" doc:"canonical: one row per SKU across accounts (the first account in EMAG_ACCOUNTS order wins) with every account's listing; account: every account's products."`
	Account               string     `query:"account" maxLength:"32" doc:"Only this account's products (in the canonical view: SKUs whose source is this account)."`
	Status                Opt[int]   `query:"status" minimum:"0" maximum:"2" doc:"0 inactive, 1 active, 2 end of life."`
	ValidationStatus      Opt[int]   `query:"validation_status" minimum:"0" maximum:"100"`
	OfferValidationStatus Opt[int]   `query:"offer_validation_status" minimum:"0" maximum:"100"`
	MinStock              Opt[int]   `query:"min_stock" minimum:"0"`
	MaxStock              Opt[int]   `query:"max_stock" minimum:"0"`
	MinPrice              string     `query:"min_price" maxLength:"24" doc:"Lowest sale price, e.g. 10 or 99.90."`
	MaxPrice              string     `query:"max_price" maxLength:"24"`
	Brand                 string     `query:"brand" maxLength:"200"`
	CategoryID            Opt[int64] `query:"category_id" minimum:"1"`
	Search                string     `query:"search" maxLength:"200" doc:"Words of the name, brand or EANs (the last one as typed: a word beginning), or the beginning of the part number or part number key (PNK); case and diacritics ignored. A search matching more than 1,000 products is not counted in full (see total_capped)."`
	Gone                  string     `query:"gone" enum:"present,gone,any" default:"present" doc:"present: products eMAG still lists; gone: only removed ones; any: both."`
	Sort                  string     `query:"sort" enum:"id,-id,name,-name,part_number,-part_number,brand,-brand,price,-price,stock,-stock,updated_at,-updated_at,last_seen_at,-last_seen_at" default:"id" doc:"Sort key, - for descending; ties break by account and id, so pages are stable."`
	ListParams
}

// ProductListBody is the body of GET .../products/all.
type ProductListBody struct {
	Items []ProductItem `json:"items"`
	Page
	TotalCapped bool `json:"total_capped" doc:"true when a search matched more than 1,000 products and the store answered: they were not all counted, and total is a lower bound (at least that many match; next_offset still says whether another page follows). Pages served by the in-memory read model are always counted exactly."`
}

// ProductListOutput is one page of products (a ProductListBody), written
// by appendProductPage from each item's JSON: pages served by the read
// model are concatenations of items encoded once when it loaded.
type ProductListOutput struct {
	Body func(huma.Context)
}

// pageBufs recycles page buffers (about 85 KB for 100 items).
var pageBufs = sync.Pool{New: func() any { return new([]byte) }}

// writePage returns the body writer of a page.
func writePage(items [][]byte, page Page, capped bool) func(huma.Context) {
	return func(ctx huma.Context) {
		bp := pageBufs.Get().(*[]byte)
		b := appendProductPage((*bp)[:0], items, page, capped)
		ctx.SetHeader("Content-Type", "application/json")
		ctx.SetStatus(http.StatusOK)
		_, _ = ctx.BodyWriter().Write(b)
		if cap(b) <= 1<<20 {
			*bp = b
			pageBufs.Put(bp)
		}
	}
}

// ProductInput names one product.
type ProductInput struct {
	ID      int64  `path:"id" minimum:"1" doc:"The seller's product id."`
	Account string `query:"account" maxLength:"32" doc:"The account whose product it is; default: the first account in EMAG_ACCOUNTS order that has it."`
}

// ProductOutput is one product.
type ProductOutput struct {
	Body ProductDetail
}

// OfferListInput are the filters of GET .../offers/all.
type OfferListInput struct {
	Account  string   `query:"account" maxLength:"32"`
	Status   Opt[int] `query:"status" minimum:"0" maximum:"2"`
	MinStock Opt[int] `query:"min_stock" minimum:"0"`
	MaxStock Opt[int] `query:"max_stock" minimum:"0"`
	MinPrice string   `query:"min_price" maxLength:"24"`
	MaxPrice string   `query:"max_price" maxLength:"24"`
	Search   string   `query:"search" maxLength:"200" doc:"Part number prefix."`
	Gone     string   `query:"gone" enum:"present,gone,any" default:"present"`
	Sort     string   `query:"sort" enum:"id,-id,price,-price,stock,-stock,updated_at,-updated_at" default:"id"`
	ListParams
}

// OfferListOutput is one page of offers.
type OfferListOutput struct {
	Body struct {
		Items []Offer `json:"items"`
		Page
	}
}

func (s *Server) checkAccount(field, name string) error {
	if name == "" || slices.Contains(s.engine.AccountNames(), name) {
		return nil
	}
	return invalid(field, fmt.Sprintf("unknown account %q: use one of %s", name, strings.Join(s.engine.AccountNames(), ", ")))
}

func parsePrice(field, v string) (*magflow.Decimal, error) {
	if v == "" {
		return nil, nil
	}
	d, err := magflow.ParseDecimal(v)
	if err != nil || d.Units() < 0 {
		return nil, invalid(field, fmt.Sprintf("%q is not a price: use a non-negative decimal such as 99.90", v))
	}
	return &d, nil
}

func goneOf(v string) sqldb.GoneFilter {
	switch v {
	case "gone":
		return sqldb.GoneOnly
	case "any":
		return sqldb.GoneAny
	}
	return sqldb.GonePresent
}

// listBounds checks the account and the stock and price bounds the
// product and offer lists share, and parses the prices.
func (s *Server) listBounds(account string, minS, maxS Opt[int], minPrice, maxPrice string) (minP, maxP *magflow.Decimal, err error) {
	if err := s.checkAccount("query.account", account); err != nil {
		return nil, nil, err
	}
	if minP, err = parsePrice("query.min_price", minPrice); err != nil {
		return nil, nil, err
	}
	if maxP, err = parsePrice("query.max_price", maxPrice); err != nil {
		return nil, nil, err
	}
	if minS.Set && maxS.Set && minS.Value > maxS.Value {
		return nil, nil, invalid("query.min_stock", "min_stock is above max_stock: swap them")
	}
	if minP != nil && maxP != nil && minP.Cmp(*maxP) > 0 {
		return nil, nil, invalid("query.min_price", "min_price is above max_price: swap them")
	}
	return minP, maxP, nil
}

// sortKey is the store's sort key for a list's sort parameter: "id" is
// the store's default order.
func sortKey(sort string) string {
	if sort == "id" {
		return ""
	}
	return sort
}

func (s *Server) registerCatalog() {
	huma.Register(s.api, huma.Operation{
		OperationID: "listProducts", Method: http.MethodGet, Path: "/api/v1/emag/enhanced/products/all", Tags: []string{"Catalogue"},
		Summary: "List products", Security: bearerAuth, Errors: []int{400, 401, 429},
		Description: "Products with filters, search and stable sorting; canonical (one row per SKU) by default, per account with view=account.",
		Responses: map[string]*huma.Response{"200": {Description: "OK", Content: map[string]*huma.MediaType{
			"application/json": {Schema: s.api.OpenAPI().Components.Schemas.Schema(reflect.TypeFor[ProductListBody](), true, "ProductListBody")}}}},
	}, func(ctx context.Context, in *ProductListInput) (*ProductListOutput, error) {
		minP, maxP, err := s.listBounds(in.Account, in.MinStock, in.MaxStock, in.MinPrice, in.MaxPrice)
		if err != nil {
			return nil, err
		}
		f := sqldb.ProductFilter{
			Canonical: in.View != "account", Account: in.Account, Status: in.Status.Ptr(), ValidationStatus: in.ValidationStatus.Ptr(),
			OfferValidationStatus: in.OfferValidationStatus.Ptr(), MinStock: in.MinStock.Ptr(), MaxStock: in.MaxStock.Ptr(),
			MinPrice: minP, MaxPrice: maxP, Brand: in.Brand, CategoryID: in.CategoryID.Value, Search: in.Search,
			Gone: goneOf(in.Gone), Sort: sortKey(in.Sort), Limit: in.Limit, Offset: in.Offset,
		}
		out := &ProductListOutput{}
		if s.model != nil {
			if page, ok := s.model.List(ctx, f); ok {
				out.Body = writePage(page.Items, pageOf(page.Total, in.Limit, in.Offset, len(page.Items)), false)
				return out, nil
			}
		}
		page, err := s.db.ListProducts(ctx, f)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		items := make([][]byte, len(page.Items))
		for i := range page.Items {
			items[i] = appendProductItem(nil, &page.Items[i])
		}
		out.Body = writePage(items, pageOf(page.Total, in.Limit, in.Offset, len(page.Items)), page.TotalCapped)
		return out, nil
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "getProduct", Method: http.MethodGet, Path: "/api/v1/emag/enhanced/products/{id}", Tags: []string{"Catalogue"},
		Summary: "Get one product", Security: bearerAuth, Errors: []int{400, 401, 404, 429},
		Description: "One product with its raw eMAG payload and every account's offer for its SKU (part number).",
	}, func(ctx context.Context, in *ProductInput) (*ProductOutput, error) {
		if err := s.checkAccount("query.account", in.Account); err != nil {
			return nil, err
		}
		accounts := s.engine.AccountNames()
		if in.Account != "" {
			accounts = []string{in.Account}
		}
		var lastErr error
		for _, a := range accounts {
			d, err := s.db.GetProduct(ctx, a, in.ID)
			if err == nil {
				out := &ProductOutput{Body: ProductDetail{Product: productOf(d.Product), Images: d.Product.Images,
					Characteristics: d.Product.Characteristics, Raw: d.Product.Raw, Offers: []Offer{}}}
				for _, o := range d.Offers {
					out.Body.Offers = append(out.Body.Offers, offerOf(o))
				}
				return out, nil
			}
			if magflow.ErrorCode(err) != magflow.ENotFound {
				return nil, problemOf(err, s.log)
			}
			lastErr = err
		}
		if len(accounts) > 1 {
			lastErr = magflow.Errorf(magflow.ENotFound, "product %d not found in any account (%s)", in.ID, strings.Join(accounts, ", "))
		}
		return nil, problemOf(lastErr, s.log)
	})

	huma.Register(s.api, huma.Operation{
		OperationID: "listOffers", Method: http.MethodGet, Path: "/api/v1/emag/enhanced/offers/all", Tags: []string{"Catalogue"},
		Summary: "List offers", Security: bearerAuth, Errors: []int{400, 401, 429},
		Description: "Every account's offers (price, stock, status) with filters and stable sorting.",
	}, func(ctx context.Context, in *OfferListInput) (*OfferListOutput, error) {
		minP, maxP, err := s.listBounds(in.Account, in.MinStock, in.MaxStock, in.MinPrice, in.MaxPrice)
		if err != nil {
			return nil, err
		}
		f := sqldb.OfferFilter{Account: in.Account, Status: in.Status.Ptr(), MinStock: in.MinStock.Ptr(), MaxStock: in.MaxStock.Ptr(),
			MinPrice: minP, MaxPrice: maxP, Search: in.Search, Gone: goneOf(in.Gone), Sort: sortKey(in.Sort), Limit: in.Limit, Offset: in.Offset}
		offers, total, err := s.db.ListOffers(ctx, f)
		if err != nil {
			return nil, problemOf(err, s.log)
		}
		out := &OfferListOutput{}
		out.Body.Items = make([]Offer, len(offers))
		for i, o := range offers {
			out.Body.Items[i] = offerOf(o)
		}
		out.Body.Page = pageOf(total, in.Limit, in.Offset, len(offers))
		return out, nil
	})
}

// productItemOf is the wire form of a store item.
func productItemOf(it *sqldb.ProductItem) ProductItem {
	pi := ProductItem{Product: productOf(it.Product)}
	if it.HasOffer {
		o := offerOf(it.Offer)
		pi.Offer = &o
	}
	for _, l := range it.Listings {
		pi.Listings = append(pi.Listings, Listing{Account: l.Account, ProductID: l.ProductID, SalePrice: l.SalePrice.String(),
			Currency: l.Currency, GeneralStock: l.GeneralStock, Status: l.Status})
	}
	return pi
}

// encodeProductItem appends the JSON of one product list item to dst,
// exactly as huma's JSON format writes it inside a body (see encode.go);
// the read model encodes every item with it once per load.
func encodeProductItem(dst []byte, it *sqldb.ProductItem) ([]byte, error) {
	return appendProductItem(dst, it), nil
}

// appendProductPage appends the ProductListBody of items (each one's JSON)
// and page to b, byte for byte what huma would write for the struct (a
// trailing newline included).
func appendProductPage(b []byte, items [][]byte, page Page, capped bool) []byte {
	n := 128
	for _, it := range items {
		n += len(it) + 1
	}
	b = slices.Grow(b, n)
	b = append(b, `{"items":[`...)
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	b = append(b, `],"total":`...)
	b = strconv.AppendInt(b, int64(page.Total), 10)
	b = append(b, `,"limit":`...)
	b = strconv.AppendInt(b, int64(page.Limit), 10)
	b = append(b, `,"offset":`...)
	b = strconv.AppendInt(b, int64(page.Offset), 10)
	if page.Next != nil {
		b = append(b, `,"next_offset":`...)
		b = strconv.AppendInt(b, int64(*page.Next), 10)
	}
	b = append(b, `,"total_capped":`...)
	b = strconv.AppendBool(b, capped)
	return append(b, "}\n"...)
}
