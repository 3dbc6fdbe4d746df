package usage

import (
	"fmt"
	"keyport/internal/slotbench"
	"runtime"
	"testing"
	"time"
)

func TestCountDoesNotAllocate(t *testing.T) {
	c := New(nil, nil)
	now := time.Now()
	c.Count("key_a", Valid, now)
	if n := testing.AllocsPerRun(1000, func() { c.Count("key_a", RateLimited, now) }); n != 0 {
		t.Fatalf("Count allocates %v times per call, want 0", n)
	}
}

// BenchmarkCount is Count from every core at once, over 1,000 keys: looked up each time,
// and through each key's slot as the key cache holds them.
func BenchmarkCount(b *testing.B) {
	now := time.Now()
	slotbench.Run(b, 1000, func() (func(string), func(*Slot, string)) {
		c := New(nil, nil)
		return func(k string) { c.Count(k, Valid, now) }, func(s *Slot, k string) { c.CountVia(s, k, Valid, now) }
	})
}

// A million keys verified with nothing flushing (the database refusing every write) cost
// at most MaxPending buckets of memory: the rest are dropped and counted as dropped.
func TestMemoryBoundedAtAMillionKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("a million keys")
	}
	const keys = 1_000_000
	ids := make([]string, keys)
	for i := range ids {
		ids[i] = fmt.Sprintf("key_%022d", i)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	c := New(nil, nil)
	now := time.Now()
	for _, id := range ids {
		c.Count(id, Valid, now)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if got, want := c.Pending(), DefaultMaxPending; got != want {
		t.Errorf("Pending = %d, want %d", got, want)
	}
	if got, want := c.Dropped(), int64(keys-DefaultMaxPending); got != want {
		t.Errorf("Dropped = %d, want %d", got, want)
	}
	// About 135 bytes a bucket: the key's record and its map entry (the key id's bytes are
	// the caller's); docs/USAGE.md says ~130.
	perBucket := float64(after.HeapAlloc-before.HeapAlloc) / float64(c.Pending())
	t.Logf("%d buckets: %.1f MB, %.0f bytes each", c.Pending(), float64(after.HeapAlloc-before.HeapAlloc)/1e6, perBucket)
	if perBucket > 160 {
		t.Errorf("%.0f bytes a pending bucket, want at most 160", perBucket)
	}
	runtime.KeepAlive(c)
	runtime.KeepAlive(ids)
}
