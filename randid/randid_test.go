package randid

import (
	"crypto/rand"
	"encoding/binary"
	"math/big"
	"regexp"
	"slices"
	"testing"
	"time"
)

// bigEncode is the arbitrary-precision encoding New used before it did the division in
// two 64-bit words: the ids must come out the same.
func bigEncode(b [16]byte) string {
	n := new(big.Int).SetBytes(b[:])
	out := make([]byte, width)
	base, mod := big.NewInt(62), new(big.Int)
	for i := len(out) - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = alphabet[mod.Int64()]
	}
	return string(out)
}

func TestEncodeMatchesBigInt(t *testing.T) {
	cases := [][16]byte{{}, {15: 1}, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
	for range 10_000 {
		var b [16]byte
		rand.Read(b[:])
		cases = append(cases, b)
	}
	for _, b := range cases {
		got := make([]byte, width)
		encode(got, binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]))
		if want := bigEncode(b); string(got) != want {
			t.Fatalf("%x: %s, want %s", b, got, want)
		}
	}
}

var shape = regexp.MustCompile(`^prod_[0-9A-Za-z]{22}$`)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 10_000 {
		id := New("prod")
		if !shape.MatchString(id) || seen[id] {
			t.Fatalf("%q: malformed or repeated", id)
		}
		seen[id] = true
	}
}

// Ordered ids sort by their time, to the millisecond, and differ within one.
func TestOrdered(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var ids []string
	seen := map[string]bool{}
	for i := range 3000 {
		id := Ordered("prod", t0.Add(time.Duration(i/3)*time.Millisecond))
		if !shape.MatchString(id) || seen[id] {
			t.Fatalf("%q: malformed or repeated", id)
		}
		seen[id] = true
		ids = append(ids, id)
	}
	for i := 3; i < len(ids); i++ {
		if ids[i-3] >= ids[i] {
			t.Fatalf("%s (%d ms) does not sort before %s (%d ms)", ids[i-3], (i-3)/3, ids[i], i/3)
		}
	}
	if late := Ordered("prod", time.Date(8000, 1, 1, 0, 0, 0, 0, time.UTC)); !slices.IsSorted([]string{ids[len(ids)-1], late}) {
		t.Errorf("an id of the year 8000 sorts before one of 2026: %s", late)
	}
}

func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		New("prod")
	}
}

func BenchmarkBigEncode(b *testing.B) {
	var x [16]byte
	for b.Loop() {
		rand.Read(x[:])
		_ = "prod_" + bigEncode(x)
	}
}
