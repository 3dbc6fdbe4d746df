package team

import (
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"time"
)

// InvitationPrefix starts every invitation token.
const InvitationPrefix = "kpi_"

// InvitationTTL is how long an invitation link stays valid.
const InvitationTTL = 7 * 24 * time.Hour

const (
	base62     = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	tokenChars = 43 // 43 × log2(62) ≈ 256 bits
	tokenLen   = len(InvitationPrefix) + tokenChars
)

// ErrInvalidToken is a string that is not an invitation token.
var ErrInvalidToken = errors.New("not an invitation token")

// NewInvitationToken returns a new token, kpi_ and 43 base62 characters from
// crypto/rand, and the hash that is all the database keeps of it.
func NewInvitationToken() (token string, hash [32]byte, err error) {
	token, err = newToken(rand.Reader)
	if err != nil {
		return "", hash, err
	}
	return token, sha256.Sum256([]byte(token)), nil
}

// newToken draws each character uniformly: bytes of 248 and above are dropped, so that
// b % 62 favours no character.
func newToken(r io.Reader) (string, error) {
	out := make([]byte, 0, tokenLen)
	out = append(out, InvitationPrefix...)
	var buf [64]byte
	for len(out) < tokenLen {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", err
		}
		for _, b := range buf {
			if b < 248 && len(out) < tokenLen {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out), nil
}

// HashInvitationToken returns the stored hash of token, or ErrInvalidToken when token
// does not have the format, so a made-up path costs no database lookup.
func HashInvitationToken(token string) ([32]byte, error) {
	if len(token) != tokenLen || token[:len(InvitationPrefix)] != InvitationPrefix {
		return [32]byte{}, ErrInvalidToken
	}
	for i := len(InvitationPrefix); i < tokenLen; i++ {
		c := token[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return [32]byte{}, ErrInvalidToken
		}
	}
	return sha256.Sum256([]byte(token)), nil
}
