package sandbox

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/magflow/magflow"
)

// mix is a SplitMix64-style hash of a few words: the root of every
// deterministic choice.
func mix(ws ...uint64) uint64 {
	h := uint64(0x243f6a8885a308d3)
	for _, w := range ws {
		h ^= w + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
		h ^= h >> 30
		h *= 0xbf58476d1ce4e5b9
		h ^= h >> 27
		h *= 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

func hashString(s string) uint64 {
	h := uint64(1469598103934665603)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

func newRand(ws ...uint64) *rand.Rand {
	return rand.New(rand.NewPCG(mix(ws...), mix(append(ws, 1)...)))
}

// categoryDef is a product family the generator draws names from.
type categoryDef struct {
	id          int
	name        string
	noun        string
	brands      []string
	models      []string
	variants    []string
	minPrice    int // RON, without VAT
	maxPrice    int
	warranty    int
	greenTax    string // RO "timbru verde", VAT included
	eanRequired bool
}

var categories = []categoryDef{
	{2842, "Telefoane mobile", "Telefon mobil", []string{"Samsung", "Xiaomi", "Motorola", "Apple", "Nokia"}, []string{"Galaxy A15", "Redmi Note 13", "Moto G54", "iPhone 15", "G42", "Galaxy S24"}, []string{"128 GB, 4 GB RAM, 4G", "256 GB, 8 GB RAM, 5G", "64 GB, 4 GB RAM, 4G", "512 GB, 12 GB RAM, 5G"}, 400, 6000, 24, "0.1200", true},
	{1315, "Laptopuri", "Laptop", []string{"Lenovo", "ASUS", "HP", "Acer", "Dell"}, []string{"IdeaPad Slim 3", "VivoBook 15", "Pavilion 15", "Aspire 5", "Inspiron 3520"}, []string{"15.6\", Intel Core i5, 16 GB, 512 GB SSD", "14\", AMD Ryzen 7, 16 GB, 1 TB SSD", "15.6\", Intel Core i3, 8 GB, 256 GB SSD"}, 1500, 9000, 24, "0.8000", true},
	{2237, "Espressoare", "Espressor automat", []string{"De'Longhi", "Philips", "Krups", "Sage"}, []string{"Magnifica S", "Seria 2200", "Evidence", "Barista Express"}, []string{"1450 W, 15 bar, 1.8 l", "1500 W, 19 bar, 1.7 l", "1600 W, 15 bar, 2 l"}, 900, 5000, 24, "0.4000", true},
	{1893, "Aspiratoare verticale", "Aspirator vertical fără fir", []string{"Dyson", "Rowenta", "Philips", "Samsung"}, []string{"V8", "X-Force Flex 9.60", "SpeedPro Max", "Jet 60"}, []string{"150 W, autonomie 40 min", "185 W, autonomie 60 min", "210 W, autonomie 45 min"}, 500, 3500, 24, "0.4000", true},
	{2056, "Televizoare", "Televizor LED Smart", []string{"Samsung", "LG", "Sony", "Philips", "TCL"}, []string{"Crystal UHD", "NanoCell", "Bravia X75", "Ambilight 7608", "P635"}, []string{"108 cm, 4K Ultra HD", "139 cm, 4K Ultra HD", "164 cm, 4K Ultra HD, HDR10+"}, 1200, 8000, 24, "2.4000", true},
	{2701, "Combine frigorifice", "Combină frigorifică", []string{"Arctic", "Beko", "Samsung", "Whirlpool"}, []string{"AK60366E40NFW", "RCNA366I30XB", "RB34T600", "W7X 82I"}, []string{"340 l, No Frost, clasa E", "366 l, Total No Frost, clasa D", "300 l, Less Frost, clasa F"}, 1400, 5000, 24, "4.0000", true},
	{3514, "Căști audio", "Căști wireless", []string{"JBL", "Sony", "Sennheiser", "Apple"}, []string{"Tune 520BT", "WH-CH720N", "Momentum 4", "AirPods Pro"}, []string{"Bluetooth 5.3, autonomie 57 h", "ANC, Bluetooth 5.2", "True Wireless, carcasă de încărcare"}, 100, 1500, 24, "0.0400", true},
	{4419, "Jucării de construcție", "Set de construcție", []string{"LEGO", "Clementoni", "Noriel"}, []string{"City Stația de pompieri", "Technic Mașină de curse", "Friends Casa din copac", "Duplo Ferma"}, []string{"540 piese, 6+ ani", "1100 piese, 9+ ani", "85 piese, 2+ ani"}, 60, 1200, 12, "0.0000", true},
	{3098, "Scaune gaming", "Scaun gaming", []string{"Serioux", "Arozzi", "DXRacer", "Genesis"}, []string{"Aspis", "Vernazza", "Formula", "Nitro 890"}, []string{"piele ecologică, reglabil", "material textil, suport lombar", "cotiere 4D, înclinare 180°"}, 450, 2500, 24, "0.0000", false},
	{1741, "Uscătoare de păr", "Uscător de păr", []string{"Rowenta", "Philips", "Braun", "Remington"}, []string{"Powerline", "BHD308", "Satin Hair 7", "Pro-Air"}, []string{"2200 W, ionizare", "1600 W, difuzor", "2100 W, 3 trepte de temperatură"}, 70, 900, 24, "0.0400", true},
	{5012, "Biciclete", "Bicicletă MTB", []string{"DHS", "Carpat", "Byox", "Rock Machine"}, []string{"Terrana 2627", "Hunter", "Spark", "Manhattan 90"}, []string{"roți 26 inch, 21 viteze", "roți 29 inch, frâne pe disc", "roți 27.5 inch, cadru aluminiu"}, 700, 4000, 24, "0.0000", false},
	{2919, "Lămpi de birou", "Lampă birou LED", []string{"Philips", "Xiaomi", "Emos", "Ikea"}, []string{"Hue Ambiance", "Mi Desk Lamp 1S", "Carl", "Forsa"}, []string{"10 W, lumină reglabilă", "6 W, USB", "12 W, 3000-6500 K"}, 40, 600, 24, "0.0400", true},
	{6120, "Anvelope", "Anvelopă de vară", []string{"Michelin", "Continental", "Bridgestone", "Pirelli"}, []string{"Primacy 4", "PremiumContact 6", "Turanza T005", "Cinturato P7"}, []string{"205/55 R16 91V", "225/45 R17 94W", "195/65 R15 91H"}, 250, 900, 0, "0.0000", true},
	{7305, "Detergenți rufe", "Detergent lichid", []string{"Ariel", "Persil", "Dero", "Bonux"}, []string{"Color", "Universal Gel", "Sensitive", "Mountain Spring"}, []string{"4 l, 80 spălări", "2.75 l, 55 spălări", "5.5 l, 100 spălări"}, 30, 150, 0, "0.0000", false},
}

var colors = []string{"Negru", "Alb", "Argintiu", "Albastru", "Roșu", "Gri", "Verde", "Auriu"}

var validationDescriptions = map[int]string{
	0: "Draft", 1: "Awaiting MKTP validation", 2: "Awaiting Brand validation", 3: "Awaiting EAN validation",
	4: "Awaiting Documentation Validation", 5: "Rejected Brand", 6: "Rejected EAN", 8: "Rejected Documentation",
	9: "Approved documentation", 10: "Blocked", 11: "Documentation update validation pending", 12: "Update rejected",
}

// entry is the documentation half of a product: the eMAG catalogue record
// that every account offering the same part number shares.
type entry struct {
	key             uint64
	pnk             string
	partNumber      string
	name            string
	brand           string
	description     string
	category        *categoryDef
	ean             []string
	images          []image
	characteristics []charVal
	family          *family
	basePrice       int64 // units (×10^4), without VAT
	offers          atomic.Int32
}

type wv struct {
	WarehouseID int `json:"warehouse_id"`
	Value       int `json:"value"`
}

type image struct {
	URL         string `json:"url"`
	DisplayType int    `json:"display_type"`
}

type charVal struct {
	ID    int    `json:"id"`
	Value string `json:"value"`
	Tag   string `json:"tag,omitempty"`
}

type family struct {
	ID           int    `json:"id"`
	Name         string `json:"name"`
	FamilyTypeID int    `json:"family_type_id"`
}

type gpsrEntity struct {
	Name    string `json:"name"`
	Address string `json:"address"`
	Email   string `json:"email"`
}

// catalog holds every documentation entry eMAG knows, for EAN search.
type catalog struct {
	mu      sync.RWMutex // guards additions after generation (churn)
	byEAN   map[string]*entry
	byPNK   map[string]*entry
	entries []*entry
}

// newEntryLocked is newEntry for use while the sandbox serves.
func (c *catalog) newEntryLocked(seed int64, key uint64) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.newEntry(seed, key)
}

func (c *catalog) add(e *entry) {
	c.entries = append(c.entries, e)
	c.byPNK[e.pnk] = e
	for _, ean := range e.ean {
		c.byEAN[ean] = e
	}
}

const alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

func (c *catalog) newEntry(seed int64, key uint64) *entry {
	r := newRand(uint64(seed), key, 0xe17)
	cat := &categories[r.IntN(len(categories))]
	brand := cat.brands[r.IntN(len(cat.brands))]
	model := cat.models[r.IntN(len(cat.models))]
	variant := cat.variants[r.IntN(len(cat.variants))]
	color := colors[r.IntN(len(colors))]
	e := &entry{key: key, category: cat, brand: brand}
	e.name = fmt.Sprintf("%s %s %s, %s, %s", cat.noun, brand, model, variant, color)
	for {
		var b strings.Builder
		b.WriteByte('D')
		for range 6 {
			b.WriteByte(alnum[r.IntN(len(alnum))])
		}
		b.WriteString("BM")
		if _, dup := c.byPNK[b.String()]; !dup {
			e.pnk = b.String()
			break
		}
	}
	prefix := strings.ToUpper(brandLetters.Replace(brand))
	prefix = prefix[:min(3, len(prefix))]
	e.partNumber = prefix + "-" + strings.ToUpper(strconv.FormatUint(key%(1<<40), 36)) + string(alnum[r.IntN(24)]) + string(alnum[r.IntN(24)])
	neans := 1
	if r.IntN(10) == 0 {
		neans = 2
	}
	for range neans {
		for {
			ean := newEAN(r)
			if _, dup := c.byEAN[ean]; !dup && !contains(e.ean, ean) {
				e.ean = append(e.ean, ean)
				break
			}
		}
	}
	e.description = fmt.Sprintf("<p>%s de la %s. %s, culoare %s.</p><ul><li>Garanție %d luni</li><li>Livrare rapidă</li></ul>",
		cat.noun, brand, variant, strings.ToLower(color), cat.warranty)
	nimg := 1 + r.IntN(4)
	for i := range nimg {
		dt := 2
		if i == 0 {
			dt = 1
		} else if r.IntN(5) == 0 {
			dt = 0
		}
		e.images = append(e.images, image{URL: fmt.Sprintf("https://sandbox-images.emag.invalid/%s/%d.jpg", e.pnk, i+1), DisplayType: dt})
	}
	e.characteristics = []charVal{{ID: 5213, Value: color}, {ID: 6779, Value: brand}}
	if r.IntN(3) == 0 {
		e.characteristics = append(e.characteristics, charVal{ID: 6506, Value: "M", Tag: "original"}, charVal{ID: 6506, Value: "M", Tag: "converted"})
	}
	if r.IntN(10) < 3 {
		e.family = &family{ID: 100 + r.IntN(900), Name: cat.noun + " " + brand + " " + model, FamilyTypeID: 200 + r.IntN(50)}
	}
	lo, hi := int64(cat.minPrice), int64(cat.maxPrice)
	e.basePrice = (lo + r.Int64N(hi-lo+1)) * 10000
	e.basePrice += r.Int64N(10000) // some cents, 4 decimals as eMAG stores net prices
	c.add(e)
	return e
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// newEAN returns a Romanian (594) EAN-13 with a valid check digit.
func newEAN(r *rand.Rand) string {
	d := make([]byte, 13)
	copy(d, "594")
	for i := 3; i < 12; i++ {
		d[i] = byte('0' + r.IntN(10))
	}
	d[12] = eanCheckDigit(string(d[:12]))
	return string(d)
}

// eanCheckDigit computes the GS1 check digit of the first 12 (or 7) digits.
func eanCheckDigit(s string) byte {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		n := int(s[i] - '0')
		if (len(s)-1-i)%2 == 0 {
			n *= 3
		}
		sum += n
	}
	return byte('0' + (10-sum%10)%10)
}

// validEAN reports whether s is 6-14 digits (what eMAG accepts on save).
func validEAN(s string) bool {
	if len(s) < 6 || len(s) > 14 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// product is one account's product+offer row.
type product struct {
	entry            *entry
	ID               int64
	PartNumber       string
	PNK              string
	Name             string
	Brand            string
	Description      string
	CategoryID       int
	URL              string
	EAN              []string
	Images           []image
	Characteristics  []charVal
	Family           *family
	SalePrice        magflow.Decimal
	MinSalePrice     magflow.Decimal
	MaxSalePrice     magflow.Decimal
	RecommendedPrice *magflow.Decimal
	Currency         string
	VatID            int
	Warranty         int
	Status           int
	Stock            []wv
	HandlingTime     []wv
	reserved         int
	OfferID          int64
	SupplyLeadTime   int
	EmagClub         int
	Validation       int
	ValidationErrors any
	OfferValidation  int
	Ownership        bool
	BuyButtonRank    *int
	Genius           int
	GeniusType       int
	Manufacturer     []gpsrEntity
	EURepresentative []gpsrEntity
	SafetyInfo       string
	GreenTax         magflow.Decimal
	inCampaign       bool
	Measurements     map[string]string

	cache atomic.Pointer[[]byte]
}

func (p *product) generalStock() int {
	n := 0
	for _, s := range p.Stock {
		n += s.Value
	}
	return n
}

func (p *product) estimatedStock() int { return max(0, p.generalStock()-p.reserved) }

// touch drops the pre-rendered JSON after a change.
func (p *product) touch() { p.cache.Store(nil) }

var supplyLeadTimes = []int{2, 3, 5, 7, 14, 30, 60, 90, 120}

// newProduct makes account-specific offer data around a catalogue entry.
func newProduct(seed int64, acct int, e *entry, id int64) *product {
	r := newRand(uint64(seed), uint64(acct), uint64(id), 0x0ff)
	p := &product{
		entry: e, ID: id, PartNumber: e.partNumber, PNK: e.pnk, Name: e.name, Brand: e.brand,
		Description: e.description, CategoryID: e.category.id, EAN: append([]string(nil), e.ean...),
		Images: e.images, Characteristics: e.characteristics, Family: e.family,
		URL:      fmt.Sprintf("https://www.emag.ro/%s/pd/%s/", slug(e.name), e.pnk),
		Currency: "RON", VatID: 1, Warranty: e.category.warranty, Status: 1,
		OfferID:  40_000_000 + int64(mix(uint64(seed), uint64(acct), uint64(id))%9_000_000),
		EmagClub: 1, SupplyLeadTime: 14,
	}
	// Prices differ per account: ±15 % around the catalogue price.
	price := e.basePrice * int64(85+r.IntN(31)) / 100
	p.SalePrice = magflow.NewDecimal(price)
	p.MinSalePrice = magflow.NewDecimal(price * 7 / 10 / 100 * 100)
	p.MaxSalePrice = magflow.NewDecimal(price * 2 / 100 * 100)
	if r.IntN(10) < 6 {
		rec := magflow.NewDecimal(price * int64(110+r.IntN(30)) / 100 / 100 * 100)
		p.RecommendedPrice = &rec
	}
	nwh := 1
	if r.IntN(4) == 0 {
		nwh = 2
	}
	for w := 1; w <= nwh; w++ {
		v := r.IntN(60)
		if r.IntN(6) == 0 {
			v = 0
		}
		p.Stock = append(p.Stock, wv{WarehouseID: w, Value: v})
		p.HandlingTime = append(p.HandlingTime, wv{WarehouseID: w, Value: r.IntN(3)})
	}
	switch x := r.IntN(100); {
	case x < 85:
		p.Validation = 9
	case x < 88:
		p.Validation = 1
	case x < 90:
		p.Validation = 4
	case x < 93:
		p.Validation = 8
		p.ValidationErrors = map[string]any{"errors": []string{
			fmt.Sprintf("value of characteristic with id %d is empty", 6779),
			"user_message: Photo Gallery Validation - No valid images have been found."}}
	case x < 95:
		p.Validation = 11
	case x < 97:
		p.Validation = 3
	case x < 98:
		p.Validation = 0
	default:
		p.Validation = 5
	}
	if p.Validation == 5 || p.Validation == 8 {
		p.Status = 0
	} else if r.IntN(20) == 0 {
		p.Status = 0
	} else if r.IntN(50) == 0 {
		p.Status = 2
	}
	p.OfferValidation = 1
	if r.IntN(25) == 0 {
		p.OfferValidation = 2
	}
	p.Ownership = r.IntN(5) != 0
	if r.IntN(3) != 0 {
		rank := 1 + r.IntN(3)
		p.BuyButtonRank = &rank
	}
	p.Genius = r.IntN(2)
	if p.Genius == 1 {
		p.GeniusType = 1 + r.IntN(3)
	}
	p.SupplyLeadTime = supplyLeadTimes[r.IntN(len(supplyLeadTimes))]
	if r.IntN(10) < 7 {
		p.Manufacturer = []gpsrEntity{{Name: e.brand + " SRL", Address: "Str. Industriilor 12, București, RO", Email: "gpsr@" + slug(e.brand) + ".invalid"}}
		p.SafetyInfo = "A se citi instrucțiunile de utilizare înainte de folosire. A nu se lăsa la îndemâna copiilor."
	}
	if r.IntN(10) < 4 {
		p.EURepresentative = []gpsrEntity{{Name: e.brand + " Europe GmbH", Address: "Hauptstraße 1, Berlin, DE", Email: "eu@" + slug(e.brand) + ".invalid"}}
	}
	p.GreenTax = magflow.MustDecimal(e.category.greenTax)
	p.inCampaign = r.IntN(100) == 0
	return p
}

func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case strings.ContainsRune("ăâ", r):
			b.WriteByte('a')
		case r == 'î':
			b.WriteByte('i')
		case strings.ContainsRune("șş", r):
			b.WriteByte('s')
		case strings.ContainsRune("țţ", r):
			b.WriteByte('t')
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimSuffix(b.String(), "-")
}

// generate builds every account's catalogue and orders from the seed.
func (s *Sandbox) generate() {
	c := &catalog{byEAN: map[string]*entry{}, byPNK: map[string]*entry{}}
	s.catalog = c
	shared := 0
	for _, a := range s.accounts {
		shared = max(shared, int(float64(a.opts.Products)*s.opts.Overlap))
	}
	if len(s.accounts) < 2 {
		shared = 0
	}
	pool := make([]*entry, shared)
	for i := range pool {
		pool[i] = c.newEntry(s.opts.Seed, uint64(i))
	}
	for ai, a := range s.accounts {
		r := newRand(uint64(s.opts.Seed), uint64(ai), 0x1d5)
		n := a.opts.Products
		nShared := min(shared, int(float64(n)*s.opts.Overlap))
		// Shared entries sit at random positions, not all first.
		picks := r.Perm(n)
		id := int64(1000)
		for i := range n {
			id += 1 + r.Int64N(7)
			var e *entry
			if picks[i] < nShared {
				e = pool[picks[i]]
			} else {
				e = c.newEntry(s.opts.Seed, uint64(ai+1)<<32|uint64(i))
			}
			a.insertProduct(newProduct(s.opts.Seed, ai, e, id))
		}
		a.nextID = id
	}
	// eMAG products no account sells yet, for the EAN search.
	for i := range 500 {
		c.newEntry(s.opts.Seed, uint64(0xff)<<32|uint64(i))
	}
	for ai, a := range s.accounts {
		a.generateOrders(ai)
		a.generateRMAs()
	}
}

// brandLetters drops what a part number prefix leaves out of a brand.
var brandLetters = strings.NewReplacer("'", "", " ", "", "-", "")
