// Package apikey implements keyport's API key format.
//
// A key is [Prefix] followed by 43 base62 characters that encode 32 bytes
// from crypto/rand (big-endian, left-padded with '0') and 6 base62
// characters that encode the CRC-32 (IEEE) of those 43 characters
// (left-padded with '0'). The base62 alphabet is 0-9A-Za-z, so every key
// matches ^kp_[0-9A-Za-z]{49}$ and is [Length] bytes long.
//
// The checksum lets [Parse] reject mistyped or truncated keys without a
// database lookup. Only [Hash] of a key and its [Hint] are meant to be
// stored.
package apikey

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
)

// Prefix starts every API key.
const Prefix = "kp_"

// Length is the length in bytes of every API key, prefix included.
const Length = 52

// Errors returned by [Parse].
var (
	// ErrMissing means the key is the empty string.
	ErrMissing = errors.New("apikey: missing")
	// ErrMalformed means the key has the wrong length or prefix, or a
	// character outside the base62 alphabet.
	ErrMalformed = errors.New("apikey: malformed")
	// ErrChecksum means the key is well-formed but its checksum does not
	// match its body.
	ErrChecksum = errors.New("apikey: bad checksum")
)

const (
	alphabet    = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	randomBytes = 32
	bodyLen     = 43
	sumLen      = 6
	bodyStart   = len(Prefix)
	sumStart    = bodyStart + bodyLen
	hintChars   = 4
	hintSep     = "…"

	// chunkBase is the largest power of 62 that fits in a uint64, so the
	// 256-bit value needs only five long divisions instead of 43.
	chunkBase   = 62 * 62 * 62 * 62 * 62 * 62 * 62 * 62 * 62 * 62
	chunkDigits = 10

	invalid = 0xFF
)

// Fails to compile if Length disagrees with the layout above.
var _ [Length - (len(Prefix) + bodyLen + sumLen)]struct{}
var _ [(len(Prefix) + bodyLen + sumLen) - Length]struct{}

// digitValue maps a byte to its base62 value, or to invalid.
var digitValue = func() (t [256]byte) {
	for i := range t {
		t[i] = invalid
	}
	for i := range len(alphabet) {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

// Generate returns a new random key read from crypto/rand.
func Generate() (string, error) {
	return generate(rand.Reader)
}

// generate builds a key from the first 32 bytes read from r.
func generate(r io.Reader) (string, error) {
	var raw [randomBytes]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", fmt.Errorf("apikey: reading random bytes: %w", err)
	}

	var key [Length]byte
	copy(key[:], Prefix)
	encodeBody(key[bodyStart:sumStart], &raw)
	encodeDigits(key[sumStart:], uint64(checksum(key[bodyStart:sumStart])))
	return string(key[:]), nil
}

// encodeBody writes raw, read as a big-endian unsigned integer, into dst
// as len(dst) base62 digits, left-padded with '0'.
func encodeBody(dst []byte, raw *[randomBytes]byte) {
	var limbs [randomBytes / 8]uint64
	for i := range limbs {
		limbs[i] = binary.BigEndian.Uint64(raw[8*i:])
	}
	for end := len(dst); end > 0; end -= chunkDigits {
		var rem uint64
		for i := range limbs {
			limbs[i], rem = bits.Div64(rem, limbs[i], chunkBase)
		}
		encodeDigits(dst[max(end-chunkDigits, 0):end], rem)
	}
}

// encodeDigits writes v into dst as len(dst) base62 digits, left-padded
// with '0'. Digits of v beyond len(dst) are dropped.
func encodeDigits(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = alphabet[v%62]
		v /= 62
	}
}

// Parse reports whether key is a well-formed API key with a matching
// checksum. It returns nil, [ErrMissing], [ErrMalformed] or [ErrChecksum],
// and never allocates.
func Parse(key string) error {
	if key == "" {
		return ErrMissing
	}
	if len(key) != Length || key[:bodyStart] != Prefix {
		return ErrMalformed
	}

	for i := bodyStart; i < Length; i++ {
		if digitValue[key[i]] == invalid {
			return ErrMalformed
		}
	}

	crc := checksum(key[bodyStart:sumStart])

	// Six base62 digits map one-to-one onto [0, 62^6), so decoding the
	// stored checksum and comparing numbers is equivalent to re-encoding
	// crc and comparing text.
	var sum uint64
	for i := sumStart; i < Length; i++ {
		sum = sum*62 + uint64(digitValue[key[i]])
	}
	if sum != uint64(crc) {
		return ErrChecksum
	}
	return nil
}

// crcTable holds the slicing-by-8 tables for CRC-32 (IEEE): crcTable[0]
// is crc32.IEEETable and crcTable[k][b] is crcTable[0][b] advanced over k
// zero bytes.
var crcTable = func() (t [8][256]uint32) {
	t[0] = *crc32.IEEETable
	for b := range 256 {
		crc := t[0][b]
		for k := 1; k < 8; k++ {
			crc = t[0][byte(crc)] ^ crc>>8
			t[k][b] = crc
		}
	}
	return t
}()

// checksum returns the CRC-32 (IEEE) of body, the same value as
// crc32.ChecksumIEEE. It is computed here because hash/crc32 dispatches
// through a function variable, so any buffer passed to it escapes and
// Parse would allocate on every request. Slicing-by-8 is what hash/crc32
// itself uses for inputs this short.
func checksum[T string | []byte](body T) uint32 {
	t := &crcTable
	crc := ^uint32(0)
	for len(body) >= 8 {
		crc ^= uint32(body[0]) | uint32(body[1])<<8 | uint32(body[2])<<16 | uint32(body[3])<<24
		crc = t[0][body[7]] ^ t[1][body[6]] ^ t[2][body[5]] ^ t[3][body[4]] ^
			t[4][crc>>24] ^ t[5][byte(crc>>16)] ^ t[6][byte(crc>>8)] ^ t[7][byte(crc)]
		body = body[8:]
	}
	for i := 0; i < len(body); i++ {
		crc = t[0][byte(crc)^body[i]] ^ crc>>8
	}
	return ^crc
}

// Hash returns the SHA-256 of the whole key string, prefix and checksum
// included. It is the only form of the key that should be stored.
func Hash(key string) [32]byte {
	if len(key) == Length {
		// A fixed-size stack copy avoids the heap allocation that a
		// []byte(key) conversion of more than 32 bytes would cost.
		var buf [Length]byte
		copy(buf[:], key)
		return sha256.Sum256(buf[:])
	}
	return sha256.Sum256([]byte(key))
}

// Hint returns the display hint for key: [Prefix], the first four
// characters after it, "…" (U+2026) and the last four characters of the
// key, e.g. "kp_AbCd…wxYz". Callers pass only keys that passed [Parse];
// for a key of any other length Hint returns Prefix + "…" rather than
// risk showing more of it.
func Hint(key string) string {
	if len(key) != Length {
		return Prefix + hintSep
	}
	return key[:bodyStart+hintChars] + hintSep + key[Length-hintChars:]
}
