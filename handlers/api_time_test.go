package handlers

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// TestAPITime checks apiTime against time's Format of the same layout, around the years
// where it hands over to Format.
func TestAPITime(t *testing.T) {
	ms := []int64{
		0, 1, -1, 999, -999, 1000, 1764554584005, 951782400000, // 2000-02-29
		253402300799999, 253402300800000, // the last millisecond of 9999, the first of 10000
		-62135596800000, -62167219200000, -62167219200001, // 0001-01-01, 0000-01-01, just before
		math.MaxInt64, math.MinInt64, math.MaxInt64 / 1000, math.MinInt64 / 1000,
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		ms = append(ms, r.Int64N(253402300800000+62167219200000)-62167219200000, r.Int64())
	}
	for _, m := range ms {
		if got, want := apiTime(m), time.UnixMilli(m).UTC().Format(apiTimeLayout); got != want {
			t.Fatalf("apiTime(%d) = %s, want %s", m, got, want)
		}
	}
}

func FuzzAPITime(f *testing.F) {
	f.Add(int64(1764554584005))
	f.Add(int64(-62167219200001))
	f.Fuzz(func(t *testing.T, m int64) {
		if got, want := apiTime(m), time.UnixMilli(m).UTC().Format(apiTimeLayout); got != want {
			t.Fatalf("apiTime(%d) = %s, want %s", m, got, want)
		}
	})
}

func BenchmarkAPITime(b *testing.B) {
	b.Run("apiTime", func(b *testing.B) {
		for b.Loop() {
			_ = apiTime(1764554584005)
		}
	})
	b.Run("Format", func(b *testing.B) {
		for b.Loop() {
			_ = time.UnixMilli(1764554584005).UTC().Format(apiTimeLayout)
		}
	})
}
