package emag

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestProductOfferPagesStopAtFirstEmptyPage(t *testing.T) {
	t.Parallel()
	quirks := fixture(t, "product_offer_read_quirks.json")
	c, f := newFake(t, map[string]http.HandlerFunc{
		"/api-3/product_offer/count": jsonAnswer(200, fixture(t, "count_strings.json")),
		"/api-3/product_offer/read": func(w http.ResponseWriter, r *http.Request) {
			if page := pageOf(r); page <= 2 {
				jsonAnswer(200, quirks)(w, r)
				return
			}
			jsonAnswer(200, fixture(t, "empty_page.json"))(w, r)
		},
	})
	var pages []int
	total := 0
	for p, err := range c.ProductOfferPages(bg, ProductOfferFilter{}, 0) {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p.Number)
		total += len(p.Items)
		if p.Total.Items != 797 || p.Total.Pages != 8 {
			t.Errorf("total = %+v", p.Total)
		}
	}
	if diff := cmp.Diff([]int{1, 2}, pages); diff != "" || total != 6 {
		t.Errorf("pages (-want +got):\n%s total %d", diff, total)
	}
	if n := len(f.requests()); n != 4 { // count + pages 1, 2 and the empty 3
		t.Errorf("%d requests", n)
	}
	// MaxPages caps; Start resumes.
	pages = nil
	for p, err := range c.ProductOfferPages(bg, ProductOfferFilter{CurrentPage: 2}, 1) {
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p.Number)
	}
	if !cmp.Equal([]int{2}, pages) {
		t.Errorf("resumed pages = %v", pages)
	}
}

func TestPagesYieldsErrorWithPageNumber(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	var got []int
	for p, err := range Pages(bg, func(ctx context.Context, page int) ([]int, error) {
		if page == 3 {
			return nil, boom
		}
		return []int{page}, nil
	}) {
		got = append(got, p.Number)
		if err != nil {
			if !errors.Is(err, boom) || p.Number != 3 {
				t.Errorf("err %v at page %d", err, p.Number)
			}
		}
	}
	if !cmp.Equal([]int{1, 2, 3}, got) {
		t.Errorf("pages = %v", got)
	}
}

func TestFindByEANsBothSpellings(t *testing.T) {
	t.Parallel()
	c, f := newFake(t, map[string]http.HandlerFunc{"/api-3/documentation/find_by_eans": jsonAnswer(200, fixture(t, "find_by_eans.json"))})
	got, err := c.FindByEANs(bg, []string{"5941234567890", "4000000000000", "5900000000001"})
	if err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.Method != http.MethodGet || r.Query != "eans%5B%5D=5941234567890&eans%5B%5D=4000000000000&eans%5B%5D=5900000000001" {
		t.Errorf("request = %s %s", r.Method, r.Query)
	}
	if len(got["4000000000000"]) != 0 || got["4000000000000"] == nil {
		t.Errorf("unknown EAN = %#v", got["4000000000000"])
	}
	a, b := got["5941234567890"][0], got["5900000000001"][0]
	if !a.AllowedToAddOffer || a.PartNumberKey != "DLR95JBBM" || a.DocCategoryID != 578 || a.Hotness != "COLD" {
		t.Errorf("allowed_to_add_offer spelling: %+v", a)
	}
	if !b.AllowedToAddOffer || b.EAN != "5900000000001" || b.SiteURL != "" || b.Hotness != "" {
		t.Errorf("allow_to_add_offer spelling: %+v", b)
	}
	if _, err := c.FindByEANs(bg, make([]string, 101)); !errors.Is(err, ErrValidation) {
		t.Errorf("101 EANs: %v", err)
	}
}

func TestDownloadAWBLabelAtHostRoot(t *testing.T) {
	t.Parallel()
	zpl := base64.StdEncoding.EncodeToString([]byte("^XA^FO50,50^FDMagFlow^FS^XZ"))
	c, f := newFake(t, map[string]http.HandlerFunc{
		"/awb/read_pdf": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/pdf")
			w.Write([]byte("%PDF-1.4\n%label\n"))
		},
		"/awb/read_zpl": jsonAnswer(200, ok(`{"deliveries":{"0":{"awbs":{"content":["`+zpl+`"]}}}}`)),
	})
	pdf, err := c.DownloadAWBLabel(bg, 555, "a6")
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF") {
		t.Fatalf("pdf = %q, %v", pdf, err)
	}
	z, err := c.DownloadAWBLabel(bg, 555, LabelZPL)
	if err != nil || string(z) != "^XA^FO50,50^FDMagFlow^FS^XZ" {
		t.Fatalf("zpl = %q, %v", z, err)
	}
	reqs := f.requests()
	if reqs[0].Path != "/awb/read_pdf" || reqs[0].Query != "awb_format=A6&emag_id=555" || reqs[1].Path != "/awb/read_zpl" {
		t.Errorf("requests = %+v", reqs)
	}
	if _, err := c.DownloadAWBLabel(bg, 555, "A3"); !errors.Is(err, ErrValidation) {
		t.Errorf("A3: %v", err)
	}
}

// pageOf reads currentPage from a JSON request body.
func pageOf(r *http.Request) int {
	var body struct {
		CurrentPage int `json:"currentPage"`
	}
	_ = json.NewDecoder(r.Body).Decode(&body)
	return body.CurrentPage
}
