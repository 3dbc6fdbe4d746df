// Package randid makes opaque, unguessable identifiers such as "key_3J8fQ2…".
package randid

import (
	"crypto/rand"
	"encoding/binary"
	"math/bits"
	"time"
)

const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// width is the number of base62 characters after the prefix: 62^22 > 2^128.
const width = 22

// New returns prefix + "_" + 22 base62 characters (128 random bits).
func New(prefix string) string {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms (Go 1.24+).
	out := make([]byte, len(prefix)+1+width)
	copy(out, prefix)
	out[len(prefix)] = '_'
	encode(out[len(prefix)+1:], binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]))
	return string(out)
}

// timeWidth is how many of an ordered id's characters hold the time: 62^8 ms is about
// 6,900 years.
const timeWidth = 8

// Ordered returns an id shaped like New's whose first 8 characters are the time t in
// milliseconds, so ids made later sort later and a table's unique index on them grows at
// its right edge instead of at a random leaf for every row (the cost of a random id in a
// large table). The other 14 characters hold 83 random bits. It tells nothing the row
// does not already show (its creation time) and nothing about other rows.
func Ordered(prefix string, t time.Time) string {
	var buf [64]byte
	return string(AppendOrdered(buf[:0], prefix, t))
}

// AppendOrdered appends an id Ordered would return to dst.
func AppendOrdered(dst []byte, prefix string, t time.Time) []byte {
	var b [16]byte
	rand.Read(b[:])
	dst = append(append(dst, prefix...), '_')
	n := len(dst)
	dst = append(dst, make([]byte, width)...)
	id := dst[n:]
	encode(id[:timeWidth], 0, uint64(max(t.UnixMilli(), 0)))
	encode(id[timeWidth:], binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:]))
	return dst
}

// chunk is 62^10, the most base62 digits a uint64 holds: encode divides the 128-bit
// number by it (two hardware divisions), then splits each remainder into ten digits with
// divisions by the constant 62, which compile to multiplications.
const chunk = 62 * 62 * 62 * 62 * 62 * 62 * 62 * 62 * 62 * 62

// encode writes the 128-bit number hi:lo in base62 into dst, most significant digit
// first, keeping the last len(dst) digits.
func encode(dst []byte, hi, lo uint64) {
	for i := len(dst); i > 0; {
		var rem uint64
		hi, rem = bits.Div64(0, hi, chunk)
		lo, rem = bits.Div64(rem, lo, chunk)
		for range 10 {
			if i == 0 {
				return
			}
			i--
			dst[i] = alphabet[rem%62]
			rem /= 62
		}
	}
}
