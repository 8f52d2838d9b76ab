package emag

import (
	"bytes"
	"fmt"
	"testing"
)

// productOfferPage builds a 100-item product_offer/read body shaped like
// production rows (prices as strings, nested statuses, GPSR flags).
func productOfferPage(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"isError":false,"messages":[],"errors":[],"results":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"part_number_key":"D7XQ%05dBM","part_number":"ABC-%d","name":"Lampa birou LED, 10 W, negru, model %d","brand":"Acme","brand_name":"Acme",`+
			`"description":"<p>Lampa de birou cu LED, lumina calda si rece, brat flexibil, alimentare USB. Model %d.</p>","url":"https://example.invalid/p/%d",`+
			`"category_id":3514,"vendor_category_id":null,"sale_price":"%d.4500","recommended_price":null,"min_sale_price":"10.0000","max_sale_price":"900.0000","currency":"RON",`+
			`"vat_id":1,"warranty":24,"ean":["59412345%05d"],"status":1,"general_stock":%d,"estimated_stock":%d,"stock":[{"warehouse_id":1,"value":%d}],`+
			`"handling_time":[{"warehouse_id":1,"value":1}],"availability":[{"value":3}],"offer_details":{"id":%d,"warranty_type":1,"supply_lead_time":14,"emag_club":1},`+
			`"images":[{"url":"https://example.invalid/%d-1.jpg","display_type":1},{"url":"https://example.invalid/%d-2.jpg","display_type":2}],"attachments":[],`+
			`"characteristics":[{"id":5213,"value":"Negru"},{"id":6506,"value":"M","tag":"original"},{"id":7001,"value":"10 W"}],"family":null,`+
			`"validation_status":[{"value":9,"description":"Approved documentation","errors":null}],"translation_validation_status":[{"value":9,"description":"Approved documentation","errors":null}],`+
			`"offer_validation_status":{"value":1,"description":"Saleable","errors":null},"ownership":true,"number_of_offers":2,"buy_button_rank":1,`+
			`"best_offer_sale_price":"99.0000","best_offer_recommended_price":"99.0000","genius_eligibility":1,"genius_eligibility_type":1,"genius_computed":1,`+
			`"manufacturer":true,"eu_representative":false,"safety_information":"","auto_translated":0,"recyclewarranties":0,"reversible_vat_charging":false,"commission":null,"weight":"0.000000"}`,
			1000+i, i, i, i, i, i, 10+i, i, i%50, i%50, i%50, 42840000+i, i, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

func BenchmarkDecodeProductOfferPage(b *testing.B) {
	body := productOfferPage(100)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		env, err := decodeEnvelope(body)
		if err != nil {
			b.Fatal(err)
		}
		offers, err := decodeProductOffers(env.Results)
		if err != nil || len(offers) != 100 {
			b.Fatal(len(offers), err)
		}
	}
	b.ReportMetric(float64(b.N*100)/b.Elapsed().Seconds(), "offers/s")
}

func TestBenchmarkPageDecodes(t *testing.T) {
	t.Parallel()
	env, err := decodeEnvelope(productOfferPage(100))
	if err != nil {
		t.Fatal(err)
	}
	offers, err := decodeProductOffers(env.Results)
	if err != nil || len(offers) != 100 || offers[99].ID != 1099 || !offers[5].Saleable() || len(offers[0].Extra) != 0 {
		t.Fatalf("%d offers, %v", len(offers), err)
	}
}
