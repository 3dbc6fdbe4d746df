package ratelimit

import (
	"context"
	"sync"
	"time"

	"keyport/queries"
)

// Shared is the GCRA of Limiter with the buckets in the database, so N replicas together
// let a key through Limit times a Period, not N×Limit. Each request is one statement
// (queries.TakeKeyRequest). A refusal is remembered in this process until the key may
// send again, so a key hammering past its limit costs no database work meanwhile.
//
// A request the database cannot count is let through: like Limiter, the limiter errs
// on the side of letting requests through.
type Shared struct {
	q        *queries.Queries
	limit    int
	interval int64
	burst    int64
	timeout  time.Duration

	mu      sync.Mutex
	refused map[string]int64 // key → its bucket's tat when it was refused (Unix ns)
}

// NewShared returns a limiter allowing limit requests per period per key, counting
// through q (on the database's writer).
func NewShared(q *queries.Queries, limit int, period time.Duration) *Shared {
	if limit <= 0 || period <= 0 {
		panic("ratelimit: limit and period must be positive")
	}
	interval := max(int64(period)/int64(limit), 1)
	return &Shared{q: q, limit: limit, interval: interval, burst: interval * int64(limit),
		timeout: time.Second, refused: make(map[string]int64)}
}

// Allow counts a request by key at now.
func (s *Shared) Allow(key string, now time.Time) Decision {
	t := now.UnixNano()
	s.mu.Lock()
	tat, ok := s.refused[key]
	if ok && tat+s.interval-s.burst > t {
		s.mu.Unlock()
		return decide(s.limit, s.interval, s.burst, tat, t, false)
	}
	delete(s.refused, key)
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	row, err := s.q.TakeKeyRequest(ctx, queries.TakeKeyRequestParams{KeyID: key, Now: t, Emission: s.interval, Burst: s.burst})
	if err != nil {
		return Decision{Allowed: true, Limit: s.limit, Remaining: s.limit - 1}
	}
	allowed := row.Allowed == 1
	if !allowed {
		s.mu.Lock()
		s.refused[key] = row.Tat
		s.mu.Unlock()
	}
	return decide(s.limit, s.interval, s.burst, row.Tat, t, allowed)
}

// AllowVia is Allow: the buckets are rows, which the slot cannot hold.
func (s *Shared) AllowVia(_ *Slot, key string, now time.Time) Decision { return s.Allow(key, now) }

// Sweep forgets remembered refusals that are over and deletes the buckets that are full
// again at now (every replica may run it; the rows are the same).
func (s *Shared) Sweep(now time.Time) int {
	t := now.UnixNano()
	s.mu.Lock()
	for k, tat := range s.refused {
		if tat+s.interval-s.burst <= t {
			delete(s.refused, k)
		}
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, _ := s.q.DeleteFullRateLimits(ctx, t) // a failed sweep leaves rows for the next one
	return int(n)
}
