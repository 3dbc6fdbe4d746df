package ratelimit

import (
	"hash/maphash"
	"keyport/internal/slotbench"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func TestBurstThenRefuse(t *testing.T) {
	l := New(600, time.Minute, 0)
	for i := 1; i <= 600; i++ {
		d := l.Allow("k", t0)
		if !d.Allowed {
			t.Fatalf("request %d refused, want allowed", i)
		}
		if got, want := d.Remaining, 600-i; got != want {
			t.Fatalf("request %d: Remaining = %d, want %d", i, got, want)
		}
		if got, want := d.Reset, time.Duration(i)*100*time.Millisecond; got != want {
			t.Fatalf("request %d: Reset = %v, want %v", i, got, want)
		}
	}
	d := l.Allow("k", t0)
	if d.Allowed {
		t.Fatal("request 601 allowed, want refused")
	}
	if got, want := d.Remaining, 0; got != want {
		t.Errorf("refused: Remaining = %d, want %d", got, want)
	}
	if got, want := d.RetryAfter, 100*time.Millisecond; got != want {
		t.Errorf("refused: RetryAfter = %v, want %v", got, want)
	}
	if got, want := d.Reset, time.Minute; got != want {
		t.Errorf("refused: Reset = %v, want %v", got, want)
	}
	// A refused request must not use capacity: still exactly one interval to wait.
	if d := l.Allow("k", t0.Add(99*time.Millisecond)); d.Allowed || d.RetryAfter != time.Millisecond {
		t.Errorf("99 ms later: %+v, want refused with RetryAfter 1ms", d)
	}
	if d := l.Allow("k", t0.Add(100*time.Millisecond)); !d.Allowed || d.Remaining != 0 {
		t.Errorf("100 ms later: %+v, want allowed with Remaining 0", d)
	}
}

func TestRecovery(t *testing.T) {
	tests := []struct {
		wait          time.Duration
		wantRemaining int // after one more request
	}{
		{wait: 0, wantRemaining: -1},
		{wait: 6 * time.Second, wantRemaining: 0},                   // 1 per 6 s comes back
		{wait: 18 * time.Second, wantRemaining: 2},                  // 3 back, one used
		{wait: time.Minute, wantRemaining: 9},                       // full again
		{wait: 10 * time.Minute, wantRemaining: 9},                  // never more than the burst
		{wait: 59*time.Second + time.Millisecond, wantRemaining: 8}, // not quite full
	}
	for _, tt := range tests {
		t.Run(tt.wait.String(), func(t *testing.T) {
			l := New(10, time.Minute, 0)
			for range 10 {
				l.Allow("k", t0)
			}
			d := l.Allow("k", t0.Add(tt.wait))
			if tt.wantRemaining < 0 {
				if d.Allowed {
					t.Fatalf("allowed with the bucket empty: %+v", d)
				}
				return
			}
			if !d.Allowed {
				t.Fatalf("refused after %v: %+v", tt.wait, d)
			}
			if got, want := d.Remaining, tt.wantRemaining; got != want {
				t.Errorf("Remaining = %d, want %d", got, want)
			}
		})
	}
}

func TestKeysAreIndependent(t *testing.T) {
	l := New(2, time.Minute, 0)
	l.Allow("a", t0)
	l.Allow("a", t0)
	if d := l.Allow("a", t0); d.Allowed {
		t.Fatal("a: third request allowed")
	}
	if d := l.Allow("b", t0); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("b: %+v, want allowed with 1 remaining", d)
	}
}

func TestUnevenInterval(t *testing.T) {
	// 7 a minute does not divide a minute into whole nanoseconds; the burst must still
	// be exactly 7.
	l := New(7, time.Minute, 0)
	for i := range 7 {
		if d := l.Allow("k", t0); !d.Allowed {
			t.Fatalf("request %d refused", i+1)
		}
	}
	if d := l.Allow("k", t0); d.Allowed {
		t.Fatal("request 8 allowed")
	}
}

func TestSweepDropsOnlyIdleKeys(t *testing.T) {
	l := New(60, time.Minute, 0)
	l.Allow("old", t0)
	l.Allow("new", t0.Add(30*time.Second))
	if got, want := l.Sweep(t0.Add(time.Second)), 1; got != want {
		t.Fatalf("Sweep dropped %d, want %d (the bucket of old is full after 1 s)", got, want)
	}
	if got, want := l.Len(), 1; got != want {
		t.Fatalf("Len = %d, want %d", got, want)
	}
	if got, want := l.Sweep(t0.Add(31*time.Second)), 1; got != want {
		t.Fatalf("second Sweep dropped %d, want %d", got, want)
	}
}

// A million distinct keys within one period must not grow the limiter past its cap, and
// the keys it keeps must still be limited.
func TestMemoryBoundedWithAMillionKeys(t *testing.T) {
	const maxEntries = 1 << 14
	l := New(600, time.Minute, maxEntries)
	l.Allow("hot", t0)
	l.Allow("hot", t0)
	for i := range 1_000_000 {
		l.Allow(strconv.Itoa(i), t0.Add(time.Duration(i)*time.Microsecond))
		if i%100_000 == 0 {
			if n := l.Len(); n > maxEntries {
				t.Fatalf("after %d keys: Len = %d, want ≤ %d", i, n, maxEntries)
			}
		}
	}
	if n := l.Len(); n > maxEntries {
		t.Fatalf("Len = %d, want ≤ %d", n, maxEntries)
	}
	// Once the period has passed every entry is idle and a sweep empties the limiter.
	l.Sweep(t0.Add(2 * time.Minute))
	if got := l.Len(); got != 0 {
		t.Fatalf("after the period, Len = %d, want 0", got)
	}
}

func TestAllowDoesNotAllocate(t *testing.T) {
	l := New(1_000_000, time.Minute, 0)
	l.Allow("key_0123456789", t0)
	if n := testing.AllocsPerRun(1000, func() { l.Allow("key_0123456789", t0) }); n != 0 {
		t.Fatalf("Allow allocates %v times per call, want 0", n)
	}
	var slot Slot
	l.AllowVia(&slot, "key_0123456789", t0)
	if n := testing.AllocsPerRun(1000, func() { l.AllowVia(&slot, "key_0123456789", t0) }); n != 0 {
		t.Fatalf("AllowVia allocates %v times per call, want 0", n)
	}
}

// Requests through slots (each request's own, as after a key cache invalidation, or one
// shared) and without, all at once on one key: exactly the limit gets through.
func TestAllowViaIsExactUnderConcurrency(t *testing.T) {
	const limit = 1000
	l := New(limit, time.Minute, 0)
	var shared Slot
	var allowed atomic.Int64
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			var own Slot
			for range 500 {
				var d Decision
				switch g % 3 {
				case 0:
					d = l.AllowVia(&shared, "k", t0)
				case 1:
					d = l.AllowVia(&own, "k", t0)
				default:
					d = l.Allow("k", t0)
				}
				if d.Allowed {
					allowed.Add(1)
				}
			}
		}()
	}
	for range 8 {
		<-done
	}
	if got := allowed.Load(); got != limit {
		t.Fatalf("%d requests allowed, want exactly %d", got, limit)
	}
}

// A slot whose bucket was swept or evicted must not count into the removed bucket: the
// key's requests through it and without it share one bucket again.
func TestAllowViaAfterTheBucketIsRemoved(t *testing.T) {
	l := New(2, time.Minute, 0)
	var slot Slot
	if d := l.AllowVia(&slot, "k", t0); !d.Allowed {
		t.Fatal("first request refused")
	}
	t1 := t0.Add(time.Minute)
	if got := l.Sweep(t1); got != 1 {
		t.Fatalf("Sweep dropped %d, want 1", got)
	}
	if d := l.AllowVia(&slot, "k", t1); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("after the sweep: %+v, want allowed with 1 remaining", d)
	}
	if d := l.Allow("k", t1); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("without the slot: %+v, want allowed with 0 remaining", d)
	}
	if d := l.AllowVia(&slot, "k", t1); d.Allowed {
		t.Fatalf("third request in the period allowed: %+v", d)
	}
	if got := l.Len(); got != 1 {
		t.Fatalf("Len = %d, want 1", got)
	}

	// Evicted while busy (a shard of one entry, a second key): the slot's key starts over,
	// as an evicted key does, in the bucket the shard now holds for it.
	l = New(2, time.Minute, 1)
	slot = Slot{}
	l.AllowVia(&slot, "k", t0)
	l.AllowVia(&slot, "k", t0)
	for i := 0; l.shards[maphashOf(l, "k")].buckets["k"] != nil; i++ {
		l.Allow("other"+strconv.Itoa(i), t0) // some other key lands in k's shard
	}
	if d := l.AllowVia(&slot, "k", t0); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("after eviction: %+v, want allowed with 1 remaining", d)
	}
	if d := l.Allow("k", t0); !d.Allowed || d.Remaining != 0 {
		t.Fatalf("after eviction, without the slot: %+v, want allowed with 0 remaining", d)
	}
}

func maphashOf(l *Limiter, key string) uint64 { return maphash.String(l.seed, key) % shards }

func BenchmarkAllow(b *testing.B) {
	b.Run("one-key", func(b *testing.B) {
		l := New(600, time.Minute, 0)
		now := t0
		b.ReportAllocs()
		for b.Loop() {
			now = now.Add(100 * time.Millisecond)
			l.Allow("key_3J8fQ2aaaaaaaaaaaaaaaa", now)
		}
	})
	// Each key with its slot, as the key cache holds them, or looked up each time.
	b.Run("10k-keys-parallel", func(b *testing.B) {
		slotbench.Run(b, 10_000, func() (func(string), func(*Slot, string)) {
			l := New(600, time.Minute, 0)
			return func(k string) { l.Allow(k, t0) }, func(s *Slot, k string) { l.AllowVia(s, k, t0) }
		})
	})
}

// BenchmarkMemory reports the heap held per tracked key when the limiter is full.
func BenchmarkMemory(b *testing.B) {
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		l := New(600, time.Minute, DefaultMaxEntries)
		for i := range 1_000_000 {
			l.Allow("key_"+strconv.Itoa(10_000_000_000_000+i), t0)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(l.Len()), "entries")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "MiB-held")
		runtime.KeepAlive(l)
	}
}
