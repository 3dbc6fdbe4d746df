package input

import (
	"regexp"
	"strings"
	"testing"
)

// scopePattern is the pattern isCustomScope checks by hand.
var scopePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_.:-]{0,63}$`)

// TestIsCustomScope compares isCustomScope with the regexp on every string of one and
// two bytes, on lengths around the limit, and on odd strings.
func TestIsCustomScope(t *testing.T) {
	strs := []string{"", "products:read", "a\n", "a\x00", "é", "aé", "A", "-a", "a-", "_", "a b"}
	for a := range 256 {
		strs = append(strs, string([]byte{byte(a)}))
		for b := range 256 {
			strs = append(strs, string([]byte{byte(a), byte(b)}))
		}
	}
	for _, n := range []int{62, 63, 64, 65, 66, 200} {
		for _, c := range []string{"a", "0", "-", ":", "A", "\n"} {
			strs = append(strs, "x"+strings.Repeat(c, n-1), strings.Repeat(c, n), strings.Repeat("a", n-1)+c)
		}
	}
	for _, s := range strs {
		if got, want := isCustomScope(s), scopePattern.MatchString(s); got != want {
			t.Errorf("isCustomScope(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzIsCustomScope(f *testing.F) {
	f.Add("products:read")
	f.Add("a\n")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := isCustomScope(s), scopePattern.MatchString(s); got != want {
			t.Fatalf("isCustomScope(%q) = %v, want %v", s, got, want)
		}
	})
}

func BenchmarkIsCustomScope(b *testing.B) {
	b.Run("hand", func(b *testing.B) {
		for b.Loop() {
			isCustomScope("products:read")
		}
	})
	b.Run("regexp", func(b *testing.B) {
		for b.Loop() {
			scopePattern.MatchString("products:read")
		}
	})
}
