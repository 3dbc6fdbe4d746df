// Package slotbench benchmarks a per-key record (a rate-limit bucket, a last-used entry,
// a usage record) reached two ways, from every core at once: looked up by key each time,
// and through the slot the key cache keeps for each key.
package slotbench

import (
	"fmt"
	"sync/atomic"
	"testing"
)

// Run runs the sub-benchmarks "lookup" and "slots" over n keys. setup makes a fresh
// record holder for each and returns its two ways in: by key, and by the key's slot.
func Run[S any](b *testing.B, n int, setup func() (lookup func(key string), via func(slot *S, key string))) {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("key_%022d", i)
	}
	for _, name := range []string{"lookup", "slots"} {
		b.Run(name, func(b *testing.B) {
			lookup, via := setup()
			slots := make([]S, n)
			var next atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				// Each goroutine starts at a different key, stepping through all of them.
				i := int(next.Add(1)) * 7919
				for pb.Next() {
					if k := i % n; name == "slots" {
						via(&slots[k], keys[k])
					} else {
						lookup(keys[k])
					}
					i++
				}
			})
		})
	}
}
