package team

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"regexp"
	"strings"
	"testing"
)

var tokenRE = regexp.MustCompile(`^kpi_[0-9A-Za-z]{43}$`)

func TestNewInvitationToken(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		tok, hash, err := NewInvitationToken()
		if err != nil {
			t.Fatal(err)
		}
		if !tokenRE.MatchString(tok) {
			t.Fatalf("token %q does not match %s", tok, tokenRE)
		}
		if seen[tok] {
			t.Fatalf("token %q drawn twice", tok)
		}
		seen[tok] = true
		if hash != sha256.Sum256([]byte(tok)) {
			t.Fatal("the hash is not the token's SHA-256")
		}
		if got, err := HashInvitationToken(tok); err != nil || got != hash {
			t.Fatalf("HashInvitationToken(new token) = %x, %v", got, err)
		}
		for _, c := range tok[4:] {
			counts[c]++
		}
	}
	// 86,000 characters over 62: about 1387 each. Every character appears, and none is
	// far off (a b%62 bias without rejection would put 0-3 at about 1.25×).
	if len(counts) != 62 {
		t.Fatalf("%d distinct characters, want 62", len(counts))
	}
	for c, n := range counts {
		if n < 1150 || n > 1650 {
			t.Errorf("character %q drawn %d times, want about 1387", c, n)
		}
	}
}

func TestNewTokenReadError(t *testing.T) {
	if _, err := newToken(bytes.NewReader(make([]byte, 10))); err == nil {
		t.Error("a short random source gave a token")
	}
}

func TestHashInvitationTokenRejects(t *testing.T) {
	good := "kpi_" + strings.Repeat("a", 43)
	if _, err := HashInvitationToken(good); err != nil {
		t.Fatalf("%q: %v", good, err)
	}
	for _, s := range []string{
		"", "kpi_", good[:len(good)-1], good + "a", "kpx_" + strings.Repeat("a", 43),
		"kp_" + strings.Repeat("a", 44), "kpi_" + strings.Repeat("a", 42) + "-",
		"kpi_" + strings.Repeat("a", 42) + "é"[:1],
	} {
		if _, err := HashInvitationToken(s); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("HashInvitationToken(%q) error = %v, want ErrInvalidToken", s, err)
		}
	}
}
