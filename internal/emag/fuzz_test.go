package emag

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzDecodeEnvelope feeds arbitrary bodies through the envelope decoder and
// every results decoder: none may panic, and a product offer's Raw must stay
// a verbatim excerpt of the body.
func FuzzDecodeEnvelope(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "emag", "*"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"isError":false,"results":{"0":{"id":"1"}}}`))
	f.Add([]byte(`{"isError":"1","messages":{"a":"b"},"results":[[]]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := decodeEnvelope(body)
		if err != nil {
			return
		}
		_ = env.fieldErrors()
		_, _ = decodeCount(env.Results)
		offers, err := decodeProductOffers(env.Results)
		if err == nil {
			for _, o := range offers {
				_ = o.Saleable()
				for _, v := range o.ValidationStatus {
					_ = v.ErrorMessages()
				}
			}
		}
		_, _ = decoder{time.UTC}.orders(env.Results)
		_, _ = decodeOfferSaveResults(env.Results)
		_, _ = decodeList[RMA](env.Results)
		_, _ = decodeList[Category](env.Results)
		_, _ = zplContent(env.Results)
	})
}
