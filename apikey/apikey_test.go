package apikey

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/crc32"
	"io"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"unicode"
	"unicode/utf8"
)

var keyRE = regexp.MustCompile(`^kp_[0-9A-Za-z]{49}$`)

// goldenKey is generate over the bytes 0x00, 0x01, ..., 0x1f, checked
// against an independent implementation outside Go.
const goldenKey = "kp_003aUlTJC7tjlCTQj2uNU3MFagCXG9LRKRcwGkBIDlf1Yo7hP"

func countingBytes() []byte {
	b := make([]byte, 32)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

// swapCase converts between math/big's base62 alphabet (0-9a-zA-Z) and
// keyport's (0-9A-Za-z).
func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case unicode.IsUpper(r):
			return unicode.ToLower(r)
		case unicode.IsLower(r):
			return unicode.ToUpper(r)
		}
		return r
	}, s)
}

// bigBase62 encodes n in keyport's base62, left-padded with '0' to width.
func bigBase62(n *big.Int, width int) string {
	s := swapCase(n.Text(62))
	if len(s) < width {
		s = strings.Repeat("0", width-len(s)) + s
	}
	return s
}

// bigFromBase62 decodes keyport's base62.
func bigFromBase62(t *testing.T, s string) *big.Int {
	t.Helper()
	n, ok := new(big.Int).SetString(swapCase(s), 62)
	if !ok {
		t.Fatalf("bigFromBase62(%q): not base62", s)
	}
	return n
}

// bigChecksum is the 6-character checksum of body, computed with
// hash/crc32 and math/big rather than the package's own code.
func bigChecksum(body string) string {
	return bigBase62(new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(body)))), 6)
}

// referenceKey is the key for 32 random bytes, computed with math/big.
func referenceKey(raw []byte) string {
	body := bigBase62(new(big.Int).SetBytes(raw), 43)
	return "kp_" + body + bigChecksum(body)
}

func TestLayout(t *testing.T) {
	if got, want := Prefix, "kp_"; got != want {
		t.Errorf("Prefix = %q, want %q", got, want)
	}
	if got, want := Length, 52; got != want {
		t.Errorf("Length = %d, want %d", got, want)
	}
	if got, want := len(alphabet), 62; got != want {
		t.Errorf("len(alphabet) = %d, want %d", got, want)
	}
	max256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	if got, want := len(bigBase62(max256, 0)), 43; got != want {
		t.Errorf("base62 digits of 2^256-1 = %d, want %d", got, want)
	}
	if got, want := len(bigBase62(big.NewInt(1<<32-1), 0)), 6; got != want {
		t.Errorf("base62 digits of 2^32-1 = %d, want %d", got, want)
	}
}

func TestGenerate(t *testing.T) {
	const n = 1000
	seen := make(map[string]bool, n)
	for range n {
		key, err := Generate()
		if err != nil {
			t.Fatalf("Generate() error = %v", err)
		}
		if got, want := len(key), Length; got != want {
			t.Errorf("len(%q) = %d, want %d", key, got, want)
		}
		if !keyRE.MatchString(key) {
			t.Errorf("Generate() = %q, does not match %s", key, keyRE)
		}
		if err := Parse(key); err != nil {
			t.Errorf("Parse(%q) = %v, want nil", key, err)
		}
		if seen[key] {
			t.Errorf("Generate() = %q twice", key)
		}
		seen[key] = true
	}
}

func TestGenerateDeterministic(t *testing.T) {
	max256 := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 256), big.NewInt(1))
	maxBody := bigBase62(max256, 43)
	zeroBody := strings.Repeat("0", 43)
	oneBody := strings.Repeat("0", 42) + "1"

	lastByteOne := make([]byte, 32)
	lastByteOne[31] = 1
	firstByteOne := make([]byte, 32)
	firstByteOne[0] = 1
	firstByteOneBody := bigBase62(new(big.Int).Lsh(big.NewInt(1), 248), 43)

	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"zeros", make([]byte, 32), "kp_" + zeroBody + bigChecksum(zeroBody)},
		{"all 0xff", bytes.Repeat([]byte{0xff}, 32), "kp_" + maxBody + bigChecksum(maxBody)},
		{"last byte 1", lastByteOne, "kp_" + oneBody + bigChecksum(oneBody)},
		{"first byte 1", firstByteOne, "kp_" + firstByteOneBody + bigChecksum(firstByteOneBody)},
		{"counting", countingBytes(), goldenKey},
		{"reads only 32 bytes", append(countingBytes(), 0xff, 0xff), goldenKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := generate(bytes.NewReader(tc.in))
			if err != nil {
				t.Fatalf("generate() error = %v", err)
			}
			if got != tc.want {
				t.Errorf("generate() = %q, want %q", got, tc.want)
			}
			if got, want := got, referenceKey(tc.in[:32]); got != want {
				t.Errorf("generate() = %q, math/big gives %q", got, want)
			}
			if err := Parse(got); err != nil {
				t.Errorf("Parse(%q) = %v, want nil", got, err)
			}
		})
	}
}

func TestGenerateReaderErrors(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name string
		r    io.Reader
		want error
	}{
		{"empty", bytes.NewReader(nil), io.EOF},
		{"short", bytes.NewReader(make([]byte, 31)), io.ErrUnexpectedEOF},
		{"failing", iotest.ErrReader(errBoom), errBoom},
		{"fails after some bytes", io.MultiReader(bytes.NewReader(make([]byte, 10)), iotest.ErrReader(errBoom)), errBoom},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, err := generate(tc.r)
			if !errors.Is(err, tc.want) {
				t.Errorf("generate() error = %v, want %v", err, tc.want)
			}
			if got, want := key, ""; got != want {
				t.Errorf("generate() = %q, want %q", got, want)
			}
		})
	}
}

func TestGenerateOneByteReader(t *testing.T) {
	got, err := generate(iotest.OneByteReader(bytes.NewReader(countingBytes())))
	if err != nil {
		t.Fatalf("generate() error = %v", err)
	}
	if want := goldenKey; got != want {
		t.Errorf("generate() = %q, want %q", got, want)
	}
}

// otherDigit returns an alphabet character different from c.
func otherDigit(c byte) string {
	if c == 'x' {
		return "y"
	}
	return "x"
}

// replace returns s with the len(r) bytes at i replaced by r.
func replace(s string, i int, r string) string {
	return s[:i] + r + s[i+len(r):]
}

func TestParse(t *testing.T) {
	valid := goldenKey
	body := valid[3:46]

	tests := []struct {
		name string
		key  string
		want error
	}{
		{"valid", valid, nil},
		{"valid zeros", "kp_" + strings.Repeat("0", 43) + bigChecksum(strings.Repeat("0", 43)), nil},
		{"valid max", referenceKey(bytes.Repeat([]byte{0xff}, 32)), nil},

		{"empty", "", ErrMissing},

		{"prefix kq_", "kq_" + valid[3:], ErrMalformed},
		{"prefix KP_", "KP_" + valid[3:], ErrMalformed},
		{"prefix kp-", "kp-" + valid[3:], ErrMalformed},
		{"no prefix", valid[3:], ErrMalformed},
		{"no prefix padded", "000" + valid[3:], ErrMalformed},
		{"prefix only", "kp_", ErrMalformed},

		{"too short by one", valid[:51], ErrMalformed},
		{"missing first body char", "kp_" + valid[4:], ErrMalformed},
		{"too long by one", valid + "0", ErrMalformed},
		{"doubled", valid + valid, ErrMalformed},

		{"hyphen in body", replace(valid, 10, "-"), ErrMalformed},
		{"underscore in body", replace(valid, 10, "_"), ErrMalformed},
		{"space in body", replace(valid, 10, " "), ErrMalformed},
		{"NUL in body", replace(valid, 10, "\x00"), ErrMalformed},
		{"0x80 in body", replace(valid, 3, "\x80"), ErrMalformed},
		{"0xff in body", replace(valid, 45, "\xff"), ErrMalformed},
		{"two-byte UTF-8 in body", replace(valid, 10, "é"), ErrMalformed},
		{"three-byte UTF-8 in body", replace(valid, 10, "…"), ErrMalformed},
		{"two-byte UTF-8 added", replace(valid, 10, "é")[:51] + "é", ErrMalformed},
		{"hyphen in checksum", replace(valid, 46, "-"), ErrMalformed},
		{"underscore in checksum", replace(valid, 51, "_"), ErrMalformed},
		{"UTF-8 in checksum", replace(valid, 50, "é"), ErrMalformed},

		{"body char changed", replace(valid, 10, otherDigit(valid[10])), ErrChecksum},
		{"first body char changed", replace(valid, 3, otherDigit(valid[3])), ErrChecksum},
		{"last body char changed", replace(valid, 45, otherDigit(valid[45])), ErrChecksum},
		{"body char case swapped", replace(valid, 6, swapCase(valid[6:7])), ErrChecksum},
		{"body chars transposed", "kp_" + body[:3] + body[4:5] + body[3:4] + body[5:] + valid[46:], ErrChecksum},
		{"checksum char changed", replace(valid, 46, otherDigit(valid[46])), ErrChecksum},
		{"last checksum char changed", replace(valid, 51, otherDigit(valid[51])), ErrChecksum},
		{"checksum over 2^32", valid[:46] + "zzzzzz", ErrChecksum},
		{"checksum zero", valid[:46] + "000000", ErrChecksum},

		{"leading space", " " + valid, ErrMalformed},
		{"trailing newline", valid + "\n", ErrMalformed},
		{"surrounded by whitespace", "\t" + valid + " ", ErrMalformed},
		{"bearer", "Bearer " + valid, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := Parse(tc.key), tc.want; got != want {
				t.Errorf("Parse(%q) = %v, want %v", tc.key, got, want)
			}
		})
	}
}

func TestParseAllocs(t *testing.T) {
	for _, key := range []string{goldenKey, "", "kq_" + goldenKey[3:], replace(goldenKey, 10, "-"), replace(goldenKey, 10, otherDigit(goldenKey[10]))} {
		if got, want := testing.AllocsPerRun(100, func() { _ = Parse(key) }), 0.0; got != want {
			t.Errorf("Parse(%q) allocs = %v, want %v", key, got, want)
		}
	}
}

func TestChecksumMatchesCRC32(t *testing.T) {
	inputs := []string{"", "a", strings.Repeat("0", 43), goldenKey[3:46], goldenKey, "\x00\xff…"}
	// Every length from 0 to 80 exercises each split between the 8-byte
	// loop and the byte-at-a-time tail.
	var all [256]byte
	for i := range all {
		all[i] = byte(i*167 + 13)
	}
	for n := range 81 {
		inputs = append(inputs, string(all[n:2*n]))
	}
	for _, s := range inputs {
		if got, want := checksum(s), crc32.ChecksumIEEE([]byte(s)); got != want {
			t.Errorf("checksum(%q) = %#x, want %#x", s, got, want)
		}
		if got, want := checksum([]byte(s)), crc32.ChecksumIEEE([]byte(s)); got != want {
			t.Errorf("checksum([]byte(%q)) = %#x, want %#x", s, got, want)
		}
	}
}

func TestHash(t *testing.T) {
	zeros := referenceKey(make([]byte, 32))
	tests := []struct {
		key  string
		want string
	}{
		{goldenKey, "910b6f5d3bcff1ecd1feaca25e1c1ac5bb8c12ab8ea9d14aa9e127ccac5f81c8"},
		{zeros, ""},
		{"", ""},
	}
	for _, tc := range tests {
		got := Hash(tc.key)
		if want := sha256.Sum256([]byte(tc.key)); got != want {
			t.Errorf("Hash(%q) = %x, want %x", tc.key, got, want)
		}
		if tc.want != "" {
			if got, want := hex.EncodeToString(got[:]), tc.want; got != want {
				t.Errorf("Hash(%q) = %s, want %s", tc.key, got, want)
			}
		}
	}
	if Hash(goldenKey) == Hash(goldenKey[3:]) {
		t.Errorf("Hash ignores the prefix")
	}
}

func TestHint(t *testing.T) {
	tests := []struct {
		name string
		key  string
		want string
	}{
		{"golden", goldenKey, "kp_003a…o7hP"},
		{"zeros", referenceKey(make([]byte, 32)), "kp_0000…" + bigChecksum(strings.Repeat("0", 43))[2:]},
		{"empty", "", "kp_…"},
		{"short", goldenKey[:51], "kp_…"},
		{"long", goldenKey + "x", "kp_…"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := Hint(tc.key), tc.want; got != want {
				t.Errorf("Hint(%q) = %q, want %q", tc.key, got, want)
			}
		})
	}
}

func TestHintHidesMiddle(t *testing.T) {
	for range 100 {
		key, err := Generate()
		if err != nil {
			t.Fatalf("Generate() error = %v", err)
		}
		hint := Hint(key)
		if got, want := hint, key[:7]+"…"+key[48:]; got != want {
			t.Errorf("Hint(%q) = %q, want %q", key, got, want)
		}
		if !utf8.ValidString(hint) {
			t.Errorf("Hint(%q) = %q, not valid UTF-8", key, hint)
		}
		if got, want := utf8.RuneCountInString(hint), 12; got != want {
			t.Errorf("Hint(%q) has %d runes, want %d", key, got, want)
		}
		middle := strings.ReplaceAll(hint, "…", "")
		if strings.Contains(middle, key[7:48]) || strings.Contains(key, middle) {
			t.Errorf("Hint(%q) = %q reveals the middle of the key", key, hint)
		}
	}
}

func FuzzParse(f *testing.F) {
	zeros := referenceKey(make([]byte, 32))
	for _, s := range []string{
		goldenKey,
		zeros,
		referenceKey(bytes.Repeat([]byte{0xff}, 32)),
		replace(goldenKey, 10, otherDigit(goldenKey[10])),
		replace(goldenKey, 51, otherDigit(goldenKey[51])),
		goldenKey[:51],
		goldenKey + "0",
		" " + goldenKey,
		"KP_" + goldenKey[3:],
		replace(goldenKey, 10, "é"),
		goldenKey[:46] + "zzzzzz",
		"",
		"kp_",
		"\x00",
		"🔑",
		strings.Repeat("z", 52),
		"kp_" + strings.Repeat("z", 49),
		"kp_" + strings.Repeat("\xff", 49),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var want error
		switch {
		case s == "":
			want = ErrMissing
		case !keyRE.MatchString(s):
			want = ErrMalformed
		case bigChecksum(s[3:46]) != s[46:]:
			want = ErrChecksum
		}
		if got := Parse(s); got != want {
			t.Fatalf("Parse(%q) = %v, want %v", s, got, want)
		}
		if want == nil {
			if got, want := Hint(s), s[:7]+"…"+s[48:]; got != want {
				t.Fatalf("Hint(%q) = %q, want %q", s, got, want)
			}
		}
	})
}

func FuzzGenerateRoundTrip(f *testing.F) {
	f.Add(make([]byte, 32))
	f.Add(bytes.Repeat([]byte{0xff}, 32))
	f.Add(countingBytes())
	f.Add([]byte{1})
	f.Add([]byte(nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		key, err := generate(bytes.NewReader(b))
		if len(b) < 32 {
			if err == nil || key != "" {
				t.Fatalf("generate(%d bytes) = %q, %v, want error", len(b), key, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("generate() error = %v", err)
		}
		if err := Parse(key); err != nil {
			t.Fatalf("Parse(%q) = %v, want nil", key, err)
		}
		if got, want := key, referenceKey(b[:32]); got != want {
			t.Fatalf("generate(%x) = %q, math/big gives %q", b[:32], got, want)
		}
		n := bigFromBase62(t, key[3:46])
		if n.BitLen() > 256 {
			t.Fatalf("body of %q decodes to %d bits", key, n.BitLen())
		}
		if got, want := n.FillBytes(make([]byte, 32)), b[:32]; !bytes.Equal(got, want) {
			t.Fatalf("body of %q decodes to %x, want %x", key, got, want)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if err := Parse(goldenKey); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Hash(goldenKey)
	}
}

func BenchmarkGenerate(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Generate(); err != nil {
			b.Fatal(err)
		}
	}
}
