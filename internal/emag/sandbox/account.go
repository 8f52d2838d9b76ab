package sandbox

import (
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// account is one simulated seller account and everything it holds. mu
// guards the catalogue, the orders and the other records; the buckets have
// their own locks so that rate limiting never waits for a save.
type account struct {
	s        *Sandbox
	index    int
	name     string
	username string
	password string
	allowed  []*net.IPNet
	opts     AccountOptions
	buckets  map[bucket]*bucketState

	mu        sync.RWMutex
	products  []*product // ascending by id: the read order
	byID      map[int64]*product
	byPN      map[string]*product
	byPNK     map[string]*product
	byEAN     map[string]*product
	nextID    int64
	orders    []*order // ascending by id
	orderByID map[int64]*order
	arrivals  int64 // orders that arrived while running
	awbs      []*awbRecord
	rmas      []*rma
	campaigns map[int64]bool

	readSeq   atomic.Int64
	faultSeq  atomic.Uint64
	churnSeq  atomic.Int64
	inserted  counter
	deleted   counter
	callbacks counter
}

func newAccount(s *Sandbox, index int, ao AccountOptions) *account {
	a := &account{
		s: s, index: index, name: ao.Name, username: ao.Username, password: ao.Password, opts: ao,
		buckets: map[bucket]*bucketState{},
		byID:    map[int64]*product{}, byPN: map[string]*product{}, byPNK: map[string]*product{}, byEAN: map[string]*product{},
		orderByID: map[int64]*order{}, campaigns: map[int64]bool{},
	}
	for _, b := range allBuckets {
		a.buckets[b] = newBucketState(s.limits[b], !s.opts.NoRateLimit)
	}
	for _, ip := range ao.AllowedIPs {
		if _, n, err := net.ParseCIDR(ip); err == nil {
			a.allowed = append(a.allowed, n)
			continue
		}
		if addr := net.ParseIP(ip); addr != nil {
			bits := 32
			if addr.To4() == nil {
				bits = 128
			}
			a.allowed = append(a.allowed, &net.IPNet{IP: addr, Mask: net.CIDRMask(bits, bits)})
		}
	}
	return a
}

func (a *account) ipAllowed(ip string) bool {
	if len(a.opts.AllowedIPs) == 0 {
		return true
	}
	addr := net.ParseIP(ip)
	if addr == nil {
		return false
	}
	for _, n := range a.allowed {
		if n.Contains(addr) {
			return true
		}
	}
	return false
}

// insertProduct adds p in id order and indexes it. Callers hold mu.
func (a *account) insertProduct(p *product) {
	i := sort.Search(len(a.products), func(i int) bool { return a.products[i].ID >= p.ID })
	a.products = append(a.products, nil)
	copy(a.products[i+1:], a.products[i:])
	a.products[i] = p
	a.byID[p.ID] = p
	a.indexProduct(p)
	if p.entry != nil {
		p.entry.offers.Add(1)
	}
}

func (a *account) indexProduct(p *product) {
	a.byPN[p.PartNumber] = p
	if p.PNK != "" {
		a.byPNK[p.PNK] = p
	}
	for _, e := range p.EAN {
		a.byEAN[e] = p
	}
}

func (a *account) unindex(p *product) {
	if a.byPN[p.PartNumber] == p {
		delete(a.byPN, p.PartNumber)
	}
	if a.byPNK[p.PNK] == p {
		delete(a.byPNK, p.PNK)
	}
	for _, e := range p.EAN {
		if a.byEAN[e] == p {
			delete(a.byEAN, e)
		}
	}
}

// deleteAt removes the product at position i. Callers hold mu.
func (a *account) deleteAt(i int) {
	p := a.products[i]
	a.products = append(a.products[:i], a.products[i+1:]...)
	delete(a.byID, p.ID)
	a.unindex(p)
	if p.entry != nil {
		p.entry.offers.Add(-1)
	}
}

// churn applies the configured inserts and deletes after a catalogue read.
func (a *account) churn() {
	c := *a.s.churnOpts.Load()
	if c.Inserts == 0 && c.Deletes == 0 {
		return
	}
	n := a.churnSeq.Add(1)
	if n%int64(c.Every) != 0 {
		return
	}
	r := newRand(uint64(a.s.opts.Seed), uint64(a.index), uint64(n), 0xc4)
	a.mu.Lock()
	defer a.mu.Unlock()
	for range c.Deletes {
		if len(a.products) == 0 {
			break
		}
		a.deleteAt(r.IntN(len(a.products)))
		a.deleted.Add(1)
	}
	for range c.Inserts {
		// A free id in a random gap, so the insert lands mid-catalogue.
		var id int64
		for range 8 {
			if len(a.products) < 2 {
				break
			}
			j := 1 + r.IntN(len(a.products)-1)
			lo, hi := a.products[j-1].ID, a.products[j].ID
			if hi-lo > 1 {
				id = lo + 1 + r.Int64N(hi-lo-1)
				break
			}
		}
		if id == 0 {
			a.nextID++
			id = a.nextID
		}
		e := a.s.catalog.newEntryLocked(a.s.opts.Seed, uint64(0xc0+a.index)<<40|uint64(n)<<8|uint64(r.IntN(256)))
		if _, dup := a.byPN[e.partNumber]; dup {
			continue
		}
		a.insertProduct(newProduct(a.s.opts.Seed, a.index, e, id))
		a.inserted.Add(1)
	}
}

// now is the sandbox clock in eMAG's wall-clock zone.
func (a *account) now() time.Time { return a.s.clock.Now().In(a.s.zone) }
