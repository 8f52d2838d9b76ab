package magflow

import "strings"

// Platform is one of the marketplaces that speak the eMAG Marketplace API.
// Each has its own base URL, currency, credentials and IP allow-list.
type Platform struct {
	Code     string // emag.ro, emag.bg, emag.hu, fashiondays.ro, fashiondays.bg
	BaseURL  string // MARKETPLACE_API_URL, ending in /api-3
	Currency string
	Locale   string
	TimeZone string // the wall-clock zone of the API's date filters
}

// Platforms lists every supported platform, keyed by Code.
var Platforms = map[string]Platform{
	"emag.ro":        {Code: "emag.ro", BaseURL: "https://marketplace-api.emag.ro/api-3", Currency: "RON", Locale: "ro_RO", TimeZone: "Europe/Bucharest"},
	"emag.bg":        {Code: "emag.bg", BaseURL: "https://marketplace-api.emag.bg/api-3", Currency: "BGN", Locale: "bg_BG", TimeZone: "Europe/Sofia"},
	"emag.hu":        {Code: "emag.hu", BaseURL: "https://marketplace-api.emag.hu/api-3", Currency: "HUF", Locale: "hu_HU", TimeZone: "Europe/Budapest"},
	"fashiondays.ro": {Code: "fashiondays.ro", BaseURL: "https://marketplace-ro-api.fashiondays.com/api-3", Currency: "RON", Locale: "ro_RO", TimeZone: "Europe/Bucharest"},
	"fashiondays.bg": {Code: "fashiondays.bg", BaseURL: "https://marketplace-bg-api.fashiondays.com/api-3", Currency: "BGN", Locale: "bg_BG", TimeZone: "Europe/Sofia"},
}

// IsOfficialHost reports whether rawURL points at one of eMAG's own API hosts,
// where eMAG's published rate limits are binding. A sandbox or proxy is not.
func IsOfficialHost(rawURL string) bool {
	for _, p := range Platforms {
		host := strings.TrimPrefix(p.BaseURL, "https://")
		host, _, _ = strings.Cut(host, "/")
		if strings.Contains(rawURL, "://"+host) {
			return true
		}
	}
	return false
}

// eMAG's published limits (API v4.4.7+): order routes 12 requests per second
// and 720 per minute; every other route together 3 per second and 180 per
// minute; the EAN search 5 per second, 200 per minute, 5,000 per day.
const (
	OrdersRPS       = 12
	OrdersPerMinute = 720
	OtherRPS        = 3
	OtherPerMinute  = 180
	EANRPS          = 5
	EANPerMinute    = 200
	EANPerDay       = 5000
	// MaxItemsPerPage is the largest page eMAG serves.
	MaxItemsPerPage = 100
	// MaxBulkEntities is the most entities one save request may carry.
	MaxBulkEntities = 50
	// MaxSellerProductID is the largest seller product id eMAG accepts on save (24 bits).
	MaxSellerProductID = 16777215
)

// Account is one eMAG seller account as MagFlow knows it: a name the seller
// chose (main, fbe, ...) and its platform. Credentials live in the
// configuration, never in the domain.
type Account struct {
	Name     string
	Platform Platform
}
