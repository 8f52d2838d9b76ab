package ratelimit

import (
	"testing"
	"time"
)

// BenchmarkLocalWait measures the cost of a Wait: uncontended (one caller,
// never throttled), contended (every CPU's callers on one account, never
// throttled: the lock), and queued (64 callers per CPU against a limit of
// 1000 per millisecond: waiters queue and the timer hands out grants; the
// ideal is 1000 ns/op, and the allocations are the waiters').
func BenchmarkLocalWait(b *testing.B) {
	huge := Limits{Other: {{N: 1 << 30, Per: time.Millisecond}}}
	b.Run("uncontended", func(b *testing.B) {
		l, err := NewLocal(Options{Limits: huge, Margin: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := l.Wait(b.Context(), Other); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("contended", func(b *testing.B) {
		l, err := NewLocal(Options{Limits: huge, Margin: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := l.Wait(b.Context(), Other); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("queued", func(b *testing.B) {
		l, err := NewLocal(Options{Limits: Limits{Other: {{N: 1000, Per: time.Millisecond}}}, Margin: -1})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetParallelism(64)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := l.Wait(b.Context(), Other); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
