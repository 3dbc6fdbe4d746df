// Package ratelimit limits requests per API key with GCRA (the generic cell rate
// algorithm), a token bucket kept as a single timestamp per key.
//
// A key may make Limit requests per Period. Each request uses one unit of Period/Limit
// (the emission interval); unused capacity comes back continuously, so a key that waits
// Period/Limit may send one more request, and a key idle for a whole Period has its full
// burst of Limit again.
//
// Memory is bounded: a key whose bucket is full again carries no information and is
// dropped by Sweep, and each shard holds at most MaxEntries/shards keys; when a shard is
// full a new key evicts an idle entry or, failing that, an arbitrary one (that key then
// starts over with a full bucket: the limiter errs on the side of letting requests
// through, never of refusing a key that is within its limit).
package ratelimit

import (
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// shards spreads keys over independent locks so that concurrent requests with different
// keys rarely wait for each other.
const shards = 64

// DefaultMaxEntries bounds the limiter's memory: about 80 bytes an entry with its key id
// (BenchmarkMemory), so about 10 MiB at the cap. It only matters when more distinct keys
// than this are used within one Period.
const DefaultMaxEntries = 1 << 17

// evictScan is how many entries a full shard looks at for an idle one before evicting an
// arbitrary entry; a bounded scan keeps the cost of a new key constant.
const evictScan = 16

// Decision is the outcome of one request, with what the RateLimit-* headers report.
type Decision struct {
	Allowed bool
	// Limit is the burst size: requests allowed per Period.
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// Reset is how long until the bucket is full again (Remaining back at Limit) if no
	// more requests are made.
	Reset time.Duration
	// RetryAfter is how long until the next request would be allowed; 0 when Allowed.
	RetryAfter time.Duration
}

// Limiter is a per-key rate limiter, safe for concurrent use.
type Limiter struct {
	limit    int
	interval int64 // emission interval in ns: Period/Limit
	burst    int64 // limit × interval in ns: how far ahead of now a key may run
	maxShard int
	seed     maphash.Seed
	shards   [shards]shard
}

type shard struct {
	mu sync.Mutex
	// buckets are the keys seen, each updated without the lock (bucket.take).
	buckets map[string]*bucket
	_       [48]byte // pad to 64 bytes so neighbouring shards' locks do not share a cache line
}

// bucket is one key's bucket: its theoretical arrival time (Unix ns), when it is full
// again. Requests change it by compare-and-swap, so a request that holds the bucket (by a
// Slot) needs neither the key's lookup nor its shard's lock, and the limit stays exact.
// Once removed from its shard (Sweep, evict) it holds gone, and a request that finds it so
// looks the key up again.
type bucket struct {
	tat atomic.Int64
}

// gone marks a bucket removed from its shard.
const gone = math.MinInt64

// Slot remembers one key's bucket between requests, for AllowVia. The zero Slot is empty.
type Slot struct {
	b atomic.Pointer[bucket]
}

// New returns a limiter allowing limit requests per period per key, keeping at most
// maxEntries keys (DefaultMaxEntries if maxEntries ≤ 0). limit must be positive.
func New(limit int, period time.Duration, maxEntries int) *Limiter {
	if limit <= 0 || period <= 0 {
		panic("ratelimit: limit and period must be positive")
	}
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	interval := max(int64(period)/int64(limit), 1)
	l := &Limiter{
		limit:    limit,
		interval: interval,
		burst:    interval * int64(limit),
		maxShard: max(maxEntries/shards, 1),
		seed:     maphash.MakeSeed(),
	}
	for i := range l.shards {
		l.shards[i].buckets = make(map[string]*bucket)
	}
	return l
}

// Allow records a request by key at now and reports whether it is within the limit. A
// refused request uses no capacity.
func (l *Limiter) Allow(key string, now time.Time) Decision {
	return l.AllowVia(nil, key, now)
}

// AllowVia is Allow through slot, where the key's bucket is remembered for its next
// request (a nil slot remembers nothing). slot must only ever be used with key.
func (l *Limiter) AllowVia(slot *Slot, key string, now time.Time) Decision {
	t := now.UnixNano()
	var b *bucket
	if slot != nil {
		b = slot.b.Load()
	}
	for {
		if b != nil {
			if d, ok := l.take(b, t); ok {
				return d
			}
		}
		b = l.lookup(key, t)
		if slot != nil {
			slot.b.Store(b)
		}
	}
}

// lookup is key's bucket, made if the key has none.
func (l *Limiter) lookup(key string, t int64) *bucket {
	sh := &l.shards[maphash.String(l.seed, key)%shards]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	b := sh.buckets[key]
	if b == nil {
		if len(sh.buckets) >= l.maxShard {
			sh.evict(t)
		}
		b = new(bucket)
		sh.buckets[key] = b
	}
	return b
}

// take decides a request at t against b; ok is false if b was removed from its shard.
func (l *Limiter) take(b *bucket, t int64) (d Decision, ok bool) {
	for {
		tat := b.tat.Load()
		if tat == gone {
			return Decision{}, false
		}
		next := max(tat, t) + l.interval
		if next-t > l.burst {
			return decide(l.limit, l.interval, l.burst, tat, t, false), true
		}
		if b.tat.CompareAndSwap(tat, next) {
			return decide(l.limit, l.interval, l.burst, next, t, true), true
		}
	}
}

// decide reports a request at t (Unix ns) against a bucket whose theoretical arrival time
// is now tat (after the request if it was allowed).
func decide(limit int, interval, burst, tat, t int64, allowed bool) Decision {
	tat = max(tat, t)
	d := Decision{Allowed: allowed, Limit: limit, Reset: time.Duration(tat - t)}
	// Capacity left is the part of the burst window not yet spoken for, in whole requests.
	d.Remaining = int((burst - (tat - t)) / interval)
	if !allowed {
		d.RetryAfter = time.Duration(tat + interval - t - burst)
	}
	return d
}

// Store is where per-key buckets live: a Limiter in this process, or Shared in the
// database that all replicas use.
type Store interface {
	// AllowVia records a request by key at now and reports whether it is within the
	// limit (Limiter.Allow); a Store may use the key's Slot to find its bucket again
	// without looking it up (a nil slot remembers nothing).
	AllowVia(slot *Slot, key string, now time.Time) Decision
	// Sweep forgets buckets that are full again at now; call it about once a Period.
	Sweep(now time.Time) int
}

// evict makes room for one entry: an idle one among the first few looked at, else the
// first (map iteration starts at a random place, so this is an arbitrary entry). Called
// with sh.mu held.
func (sh *shard) evict(now int64) {
	var victim string
	n := 0
	for k, b := range sh.buckets {
		if tat := b.tat.Load(); tat <= now && b.tat.CompareAndSwap(tat, gone) {
			delete(sh.buckets, k)
			return
		}
		if n == 0 {
			victim = k
		}
		if n++; n == evictScan {
			break
		}
	}
	sh.buckets[victim].tat.Store(gone)
	delete(sh.buckets, victim)
}

// Sweep drops every key whose bucket is full again at now; such a key behaves exactly as
// one never seen. Call it periodically (about once a Period) to keep memory proportional
// to the keys used recently.
func (l *Limiter) Sweep(now time.Time) (dropped int) {
	t := now.UnixNano()
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		for k, b := range sh.buckets {
			// A request that took from the bucket since keeps it.
			if tat := b.tat.Load(); tat <= t && b.tat.CompareAndSwap(tat, gone) {
				delete(sh.buckets, k)
				dropped++
			}
		}
		sh.mu.Unlock()
	}
	return dropped
}

// Len is the number of keys currently tracked.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		sh := &l.shards[i]
		sh.mu.Lock()
		n += len(sh.buckets)
		sh.mu.Unlock()
	}
	return n
}
