package twoway_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/magflow/magflow/internal/emag"
	"github.com/magflow/magflow/internal/emag/sandbox"
	"github.com/magflow/magflow/internal/ratelimit"
	"github.com/magflow/magflow/internal/sqldb"
	"github.com/magflow/magflow/internal/sqldb/sqldbtest"
	"github.com/magflow/magflow/internal/syncer"
	"github.com/magflow/magflow/internal/twoway"
)

// BenchmarkCallbackLatency measures, at eMAG's real rate limits, the time
// from eMAG's first callback for a new order to its acknowledgement being
// applied (the order read, stored, acknowledged), while a catalogue scan
// of the same account runs: new orders arrive at 2 per second, the sandbox
// calls back every second until acknowledged. Run it with
//
//	go test ./internal/twoway -run '^$' -bench CallbackLatency -benchtime 1x
func BenchmarkCallbackLatency(b *testing.B) {
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			for b.Loop() {
				callbackLatency(b, d)
			}
		})
	}
}

func callbackLatency(b *testing.B, d sqldb.Dialect) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := sqldbtest.Open(b, d)

	var mu sync.Mutex
	first := map[int64]time.Time{}
	var svc *twoway.Service
	ready := make(chan struct{})
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-ready
		id, _ := strconv.ParseInt(r.URL.Query().Get("order_id"), 10, 64)
		mu.Lock()
		if _, ok := first[id]; !ok {
			first[id] = time.Now()
		}
		mu.Unlock()
		if _, err := svc.Callback(r.Context(), r.URL.Query().Get("token"), id); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	}))
	defer cb.Close()

	sb, err := sandbox.Start(ctx, sandbox.Options{Seed: 21, OrderRate: 120, CallbackURL: cb.URL + "?token=" + token, CallbackInterval: time.Second,
		Accounts: []sandbox.AccountOptions{{Name: "main", Products: 6000, Orders: -1, FBEShare: 0.01}}})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	a := sb.Accounts()[0]
	lim, err := ratelimit.NewLocal(ratelimit.Options{Limits: ratelimit.DefaultLimits()})
	if err != nil {
		b.Fatal(err)
	}
	client, err := emag.New(emag.Options{Account: "main", BaseURL: a.BaseURL, Username: a.Username, Password: a.Password, Limiter: lim})
	if err != nil {
		b.Fatal(err)
	}
	svc, err = twoway.New(twoway.Options{DB: db, Accounts: []twoway.Account{{Name: "main", Client: client, AutoAck: true, CallbackToken: token}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := svc.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer svc.Stop(context.Background())
	engine, err := syncer.New(syncer.Options{Store: db, Accounts: []syncer.Account{{Name: "main", Source: client, Stats: &syncer.RequestStats{}}}})
	if err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	close(ready)
	// Beside the orders, one stock change per second of an offer the scan
	// already stored: it waits in the scan's own bucket, at high priority.
	var writes []time.Duration
	var writesMu sync.Mutex
	scanDone := make(chan struct{})
	writers := sync.WaitGroup{}
	writers.Go(func() {
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for k := 0; ; k++ {
			select {
			case <-scanDone:
				return
			case <-tick.C:
			}
			list, _, err := db.ListOffers(ctx, sqldb.OfferFilter{Account: "main", Limit: 1, Offset: k})
			if err != nil || len(list) == 0 {
				continue
			}
			at := time.Now()
			ids, err := svc.EnqueueOfferChanges(ctx, []sqldb.OfferChange{{Account: "main", ProductID: list[0].ProductID, OfferFields: sqldb.OfferFields{Stock: ptr(list[0].GeneralStock + 1)}}})
			if err != nil {
				continue
			}
			writers.Go(func() {
				for {
					select {
					case <-scanDone:
						return
					case <-time.After(10 * time.Millisecond):
					}
					e, err := db.GetOutbox(ctx, ids[0])
					if err == nil && e.DoneAt != nil {
						writesMu.Lock()
						writes = append(writes, e.DoneAt.Sub(at))
						writesMu.Unlock()
						return
					}
				}
			})
		}
	})
	rep, err := engine.Sync(ctx, syncer.Request{Mode: syncer.ModeProducts, Trigger: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	scan := time.Since(start)
	close(scanDone)
	writers.Wait()
	mu.Lock()
	ids := make([]int64, 0, len(first))
	for id, t := range first {
		if t.Sub(start) < scan {
			ids = append(ids, id)
		}
	}
	mu.Unlock()
	// The acknowledgements of the orders called back during the scan.
	deadline := time.Now().Add(30 * time.Second)
	var lat []time.Duration
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for len(lat) < len(ids) && time.Now().Before(deadline) {
		<-tick.C
		lat = lat[:0]
		for _, id := range ids {
			l, _, err := db.ListOutbox(ctx, sqldb.OutboxFilter{Kind: sqldb.OutboxAck, TargetID: id, State: sqldb.OutboxApplied})
			if err != nil {
				b.Fatal(err)
			}
			if len(l) == 1 && l[0].DoneAt != nil {
				mu.Lock()
				lat = append(lat, l[0].DoneAt.Sub(first[id]))
				mu.Unlock()
			}
		}
	}
	if len(lat) < len(ids) || len(ids) == 0 {
		b.Fatalf("%d of %d orders acknowledged", len(lat), len(ids))
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(float64(pct(0.5).Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(pct(0.99).Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
	b.ReportMetric(float64(len(lat)), "orders")
	b.Logf("%s: %d orders acknowledged during a %v scan (%s): p50 %v, p99 %v, max %v", d, len(lat), scan.Round(time.Millisecond),
		rep.Status(), pct(0.5).Round(time.Millisecond), pct(0.99).Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
	slices.Sort(writes)
	if len(writes) > 0 {
		b.ReportMetric(float64(writes[len(writes)/2].Microseconds())/1000, "stock_p50_ms")
		b.ReportMetric(float64(writes[len(writes)-1].Microseconds())/1000, "stock_max_ms")
		b.Logf("%s: %d stock changes applied during the scan: p50 %v, max %v", d, len(writes),
			writes[len(writes)/2].Round(time.Millisecond), writes[len(writes)-1].Round(time.Millisecond))
	}
	if pct(0.99) > 2*time.Second {
		b.Errorf("p99 %v is above the 2 s target", pct(0.99))
	}
}

// BenchmarkBulkStockDrain drains 10,000 stock changes at eMAG's limits
// scaled by 10 (30 requests per second) and reports the time against the
// physical minimum: 200 requests of 50 offers at the account's rate.
//
//	go test ./internal/twoway -run '^$' -bench BulkStockDrain -benchtime 1x
func BenchmarkBulkStockDrain(b *testing.B) {
	const n, scale = 10000, 10
	for _, d := range sqldbtest.Engines {
		b.Run(string(d), func(b *testing.B) {
			for b.Loop() {
				e := setup(b, d, setupOptions{products: n, orders: -1, scale: scale})
				e.sync(b, syncer.ModeOffers)
				changes := make([]sqldb.OfferChange, 0, n)
				for _, o := range offers(b, e.db) {
					changes = append(changes, sqldb.OfferChange{Account: "main", ProductID: o.ProductID, OfferFields: sqldb.OfferFields{Stock: ptr(o.GeneralStock + 1)}})
				}
				s := e.service(b, twoway.Options{})
				start := time.Now()
				if _, err := s.EnqueueOfferChanges(context.Background(), changes); err != nil {
					b.Fatal(err)
				}
				enq := time.Since(start)
				drain(b, s, "main", sqldb.OutboxOffer)
				took := time.Since(start)
				minimum := time.Duration(n / 50 * int64(time.Second) / (3 * scale))
				b.ReportMetric(enq.Seconds(), "enqueue_s")
				b.ReportMetric(took.Seconds(), "total_s")
				b.ReportMetric(took.Seconds()/minimum.Seconds(), "x_minimum")
				st := e.sb.Stats().Accounts["main"].Buckets["other"]
				b.Logf("%s: %d changes enqueued in %v, sent in %v (minimum %v, %.2fx); peak %d/s (limit %d), 429s %d",
					d, n, enq.Round(time.Millisecond), took.Round(time.Millisecond), minimum, took.Seconds()/minimum.Seconds(), st.MaxPerSecond, st.LimitPerSecond, st.RateLimited)
			}
		})
	}
}
