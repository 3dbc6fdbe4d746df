package keyauth

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestFingerprintsHas checks the search out from where a fingerprint should sit against
// a binary search of the whole filter: on even filters as the hashes give, and on
// skewed ones, with duplicates and both ends of uint32, where the guess is far off.
func TestFingerprintsHas(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	filters := []fingerprints{{}, {0}, {math.MaxUint32}, {0, 0, math.MaxUint32, math.MaxUint32}}
	for _, n := range []int{1, 2, 3, 17, 1000, 100_000} {
		even, low, high, dup := make(fingerprints, n), make(fingerprints, n), make(fingerprints, n), make(fingerprints, n)
		for i := range n {
			even[i] = r.Uint32()
			low[i] = r.Uint32N(1000)
			high[i] = math.MaxUint32 - r.Uint32N(1000)
			dup[i] = r.Uint32N(8) << 29
		}
		filters = append(filters, even, low, high, dup)
	}
	for _, f := range filters {
		slices.Sort(f)
		probes := []uint32{0, 1, math.MaxUint32, math.MaxUint32 - 1}
		for range 2000 {
			probes = append(probes, r.Uint32(), r.Uint32N(1100), math.MaxUint32-r.Uint32N(1100))
		}
		for _, v := range f {
			probes = append(probes, v, v-1, v+1)
		}
		for _, p := range probes {
			_, want := slices.BinarySearch(f, p)
			if got := f.has(p); got != want {
				t.Fatalf("filter of %d: has(%d) = %v, want %v", len(f), p, got, want)
			}
		}
	}
}

// BenchmarkFilterHas looks up fingerprints that are mostly not there, as for sprayed
// unknown keys, in filters of 1k and 1M keys.
func BenchmarkFilterHas(b *testing.B) {
	for _, n := range []int{1000, 1_000_000} {
		f := make(fingerprints, n)
		for i := range f {
			f[i] = rand.Uint32()
		}
		slices.Sort(f)
		probes := make([]uint32, 1<<16)
		for i := range probes {
			probes[i] = rand.Uint32()
		}
		name := map[int]string{1000: "1k", 1_000_000: "1M"}[n]
		b.Run(name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				f.has(probes[i%len(probes)])
				i++
			}
		})
	}
}
