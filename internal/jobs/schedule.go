package jobs

import (
	"hash/fnv"
	"time"
)

// roundGuard is how close to a whole minute a scheduled instant may not
// fall: eMAG asks integrators not to call at round clock times, when every
// naive cron fires.
const roundGuard = 3 * time.Second

// TickSchedule is a river.PeriodicSchedule of fixed slots: one every
// Interval, shifted by a phase derived from Key (so that accounts do not
// start together) and by a jitter of up to Jitter derived from Key and the
// slot's number (so that ticks are not evenly spaced), then moved out of the
// roundGuard of a whole minute. Every process computes the same instants,
// so a new River leader continues the old one's ticks.
type TickSchedule struct {
	Key      string
	Interval time.Duration
	Jitter   time.Duration
}

// Next returns the first tick strictly after current.
func (s TickSchedule) Next(current time.Time) time.Time {
	iv := max(s.Interval, time.Second)
	phase := time.Duration(hash64(s.Key) % uint64(iv))
	k := current.Add(-phase).UnixNano() / int64(iv)
	for i := k - 1; ; i++ {
		if t := s.tick(i, phase, iv); t.After(current) {
			return t
		}
	}
}

// tick returns the instant of slot i.
func (s TickSchedule) tick(i int64, phase, iv time.Duration) time.Time {
	t := time.Unix(0, i*int64(iv)).Add(phase)
	if j := min(s.Jitter, iv/2); j > 0 {
		t = t.Add(time.Duration(hash64(s.Key, uint64(i)) % uint64(j)))
	}
	return avoidRound(t)
}

// avoidRound moves t forward out of the roundGuard around a whole minute,
// by a constant step so that distinct instants stay distinct.
func avoidRound(t time.Time) time.Time {
	if IsRound(t) {
		return t.Add(2 * roundGuard)
	}
	return t
}

// IsRound reports whether t falls within the roundGuard of a whole minute.
func IsRound(t time.Time) bool {
	off := t.Sub(t.Truncate(time.Minute))
	return off < roundGuard || off > time.Minute-roundGuard
}

func hash64(key string, n ...uint64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(key))
	for _, v := range n {
		var b [8]byte
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	// fnv's low bits mix poorly for short inputs; fold the high ones in.
	x := h.Sum64()
	x ^= x >> 33
	x *= 0xff51afd7ed558ccd
	x ^= x >> 33
	return x
}
