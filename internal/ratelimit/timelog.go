package ratelimit

import "time"

// timeLog is a FIFO of grant times (offsets from a Local's base) in a ring
// buffer that grows by doubling. A window keeps only the grants that can
// still constrain a future one, so its length never exceeds the window's N.
type timeLog struct {
	buf  []time.Duration // len is 0 or a power of two
	head int
	n    int
}

func (q *timeLog) len() int { return q.n }

// at returns the i-th oldest entry.
func (q *timeLog) at(i int) time.Duration { return q.buf[(q.head+i)&(len(q.buf)-1)] }

func (q *timeLog) push(t time.Duration) {
	if q.n == len(q.buf) {
		nb := make([]time.Duration, max(8, 2*len(q.buf)))
		for i := range q.n {
			nb[i] = q.at(i)
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = t
	q.n++
}

func (q *timeLog) popFront() {
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
}

// delay moves one entry equal to from (the latest such) to the later time
// to, keeping the log in order. It reports whether it found one.
func (q *timeLog) delay(from, to time.Duration) bool {
	i := q.n - 1
	for i >= 0 && q.at(i) != from {
		i--
	}
	if i < 0 {
		return false
	}
	for ; i+1 < q.n && q.at(i+1) < to; i++ {
		q.buf[(q.head+i)&(len(q.buf)-1)] = q.at(i + 1)
	}
	q.buf[(q.head+i)&(len(q.buf)-1)] = to
	return true
}
