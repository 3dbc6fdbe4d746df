package lastused

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

func TestNoteDoesNotAllocate(t *testing.T) {
	r := New(nil, nil)
	now := time.Now()
	r.Note("key_a", now)
	if n := testing.AllocsPerRun(1000, func() { r.Note("key_a", now) }); n != 0 {
		t.Fatalf("Note allocates %v times per call, want 0", n)
	}
}

func BenchmarkNote(b *testing.B) {
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key_%022d", i)
	}
	r := New(nil, nil)
	now := time.Now()
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int(next.Add(1)) * 7919
		for pb.Next() {
			r.Note(keys[i%len(keys)], now)
			i++
		}
	})
}
