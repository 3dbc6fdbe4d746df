// Package randid makes opaque, unguessable identifiers such as "key_3J8fQ2…".
package randid

import (
	"crypto/rand"
	"math/big"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// New returns prefix + "_" + 22 base62 characters (128 random bits).
func New(prefix string) string {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	n := new(big.Int).SetBytes(b[:])
	out := make([]byte, 22)
	base := big.NewInt(62)
	mod := new(big.Int)
	for i := len(out) - 1; i >= 0; i-- {
		n.DivMod(n, base, mod)
		out[i] = alphabet[mod.Int64()]
	}
	return prefix + "_" + string(out)
}
