package usage

import (
	"fmt"
	"sync/atomic"
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

// BenchmarkCount is Count from every core at once, over 1,000 keys.
func BenchmarkCount(b *testing.B) {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key_%022d", i)
	}
	c := New(nil, nil)
	now := time.Now()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			c.Count(keys[i%len(keys)], Valid, now)
			i++
		}
	})
}
