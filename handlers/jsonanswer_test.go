package handlers

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"keyport/handlers/parse"
)

// oddStrings are strings encoding/json writes with escapes: HTML's <, > and &, quotes and
// backslashes, control characters, U+2028/2029, and invalid UTF-8 of several kinds.
var oddStrings = []string{
	"", "Widget", `say "hi"`, `C:\path\`, "<script>alert('x')</script>", "Fish & Chips >",
	"\x00\x01\b\t\n\v\f\r\x1b\x1f\x7f", "é ü ß", "🎉 Grüße", "a\u2028b\u2029c", "\u2027\u202a",
	"\ufffd", "\U0010ffff", "\xff", "a\xffb", "\xe2\x80", "\xe2\x80\xa8\xe2\x80", "\xed\xa0\x80",
	"\xc0\xaf", "\xf4\x90\x80\x80", "tail\xc3", "2026-12-01T02:03:04.005Z", "prod_0ABCdef",
}

// encoderJSON is what c.JSON sent: encoding/json's Encoder, HTML escaping on, a newline.
func encoderJSON(t testing.TB, v any) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestAppendJSONString(t *testing.T) {
	strs := append([]string{}, oddStrings...)
	for c := range 256 {
		strs = append(strs, string([]byte{byte(c)}), "x"+string([]byte{byte(c)})+"y")
	}
	for r := rune(0); r < 0x3000; r++ {
		strs = append(strs, "x"+string(r))
	}
	for _, s := range strs {
		want := strings.TrimSuffix(encoderJSON(t, s), "\n")
		if got := string(appendJSONString(nil, s)); got != want {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range oddStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := strings.TrimSuffix(encoderJSON(t, s), "\n")
		if got := string(appendJSONString([]byte("prefix"), s)); got != "prefix"+want {
			t.Fatalf("appendJSONString(%q) = %s, want prefix%s", s, got, want)
		}
	})
}

// structProduct is a product as c.JSON sent it before its JSON was written by hand, the
// price and time formatted into strings first: what encoding/json writes of it is the
// contract.
type structProduct struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Price     json.Number `json:"price"`
	CreatedAt string      `json:"createdAt"`
}

func (p Product) asStruct() structProduct {
	return structProduct{p.ID, p.Name, json.Number(parse.FormatCents(p.PriceCents)), apiTime(p.CreatedAt)}
}

// indentJSON is what c.JSON sends for ?pretty.
func indentJSON(t testing.TB, v any) string {
	t.Helper()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// checkProductJSON checks that what answerJSON sends for a product, and for pages of it,
// is what c.JSON sent, and that c.JSON (?pretty) still sends what it did.
func checkProductJSON(t *testing.T, id, name string, cents, createdAt int64, cursor string) {
	t.Helper()
	p := Product{id, name, cents, createdAt}
	if got, want := string(append(p.appendJSON(nil), '\n')), encoderJSON(t, p.asStruct()); got != want {
		t.Fatalf("product JSON = %s, want %s", got, want)
	}
	if got, want := indentJSON(t, p), indentJSON(t, p.asStruct()); got != want {
		t.Fatalf("pretty product JSON = %s, want %s", got, want)
	}
	pages := []Page[Product]{{}, {Data: []Product{}}, {Data: []Product{p}}, {Data: []Product{p, p, p}}}
	for _, page := range pages {
		page.NextCursor = &cursor
		pages = append(pages, page)
	}
	for _, page := range pages {
		old := Page[structProduct]{NextCursor: page.NextCursor}
		if page.Data != nil {
			old.Data = []structProduct{}
		}
		for _, p := range page.Data {
			old.Data = append(old.Data, p.asStruct())
		}
		if got, want := string(append(appendProductPage(page, nil), '\n')), encoderJSON(t, old); got != want {
			t.Fatalf("page JSON = %s, want %s", got, want)
		}
		if got, want := indentJSON(t, page), indentJSON(t, old); got != want {
			t.Fatalf("pretty page JSON = %s, want %s", got, want)
		}
	}
}

func TestProductJSON(t *testing.T) {
	for _, s := range oddStrings {
		checkProductJSON(t, s, s, 999, 1764554584005, s)
	}
	for _, cents := range []int64{1, 9, 10, 11, 99, 100, 101, 110, 999, 1000, 123456, parse.MaxPriceCents - 1, parse.MaxPriceCents} {
		checkProductJSON(t, "prod_x", "Widget", cents, 0, "")
	}
	for _, ms := range []int64{0, 1, -1, 999, 1764554584005, 253402300799999, 253402300800000, -62135596800001} {
		checkProductJSON(t, "prod_x", "Widget", 1, ms, "c")
	}
}

func FuzzProductJSON(f *testing.F) {
	for _, s := range oddStrings {
		f.Add("prod_"+s, s, int64(999), int64(1764554584005), s)
	}
	f.Fuzz(func(t *testing.T, id, name string, cents, createdAt int64, cursor string) {
		if cents <= 0 {
			t.Skip("prices are positive (CHECK price_cents > 0)")
		}
		checkProductJSON(t, id, name, cents, createdAt, cursor)
	})
}

func BenchmarkProductJSON(b *testing.B) {
	p := Product{"prod_0VcVrn20JhQGOg6p3gOXbW", "Widget", 999, 1764554584005}
	b.Run("append", func(b *testing.B) {
		for b.Loop() {
			_ = append(p.appendJSON(make([]byte, 0, 256)), '\n')
		}
	})
	b.Run("encoder", func(b *testing.B) {
		var buf bytes.Buffer
		for b.Loop() {
			buf.Reset()
			if err := json.NewEncoder(&buf).Encode(p.asStruct()); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// checkVerificationJSON checks that what answerJSON sends for v, and for the not-found
// answer, is what c.JSON sent.
func checkVerificationJSON(t *testing.T, v Verification) {
	t.Helper()
	if got, want := string(append(v.appendJSON(nil), '\n')), encoderJSON(t, v); got != want {
		t.Fatalf("verification JSON = %s, want %s", got, want)
	}
	for _, n := range []NotFound{{Code: v.Code}, {Valid: v.Valid, Code: v.Code, KeyID: &v.KeyID}} {
		if got, want := string(append(n.appendJSON(nil), '\n')), encoderJSON(t, n); got != want {
			t.Fatalf("not-found JSON = %s, want %s", got, want)
		}
	}
}

func TestVerificationJSON(t *testing.T) {
	expires := "2026-12-31T00:00:00.000Z"
	for _, s := range oddStrings {
		checkVerificationJSON(t, Verification{Valid: true, Code: s, KeyID: s, Name: s, Scopes: []string{s, s}, ExpiresAt: &s})
	}
	for _, scopes := range [][]string{nil, {}, {"products:read"}, {"a", "b", "c"}} {
		checkVerificationJSON(t, Verification{Code: "VALID", KeyID: "key_x", Name: "n", Scopes: scopes})
	}
	for _, r := range []*RateLimit{nil, {}, {Limit: 100, Remaining: 99, Reset: 60}, {Limit: -1, Remaining: -2147483648, Reset: 9223372036854775807}} {
		checkVerificationJSON(t, Verification{Code: "RATE_LIMITED", RateLimit: r, ExpiresAt: &expires})
	}
}

func FuzzVerificationJSON(f *testing.F) {
	for _, s := range oddStrings {
		f.Add(true, s, s, s, s, true, 100, 99, 60, true)
	}
	f.Fuzz(func(t *testing.T, valid bool, code, keyID, name, scopes string, expires bool, limit, remaining, reset int, limited bool) {
		v := Verification{Valid: valid, Code: code, KeyID: keyID, Name: name, Scopes: strings.Fields(scopes)}
		if expires {
			v.ExpiresAt = &scopes
		}
		if limited {
			v.RateLimit = &RateLimit{Limit: limit, Remaining: remaining, Reset: reset}
		}
		checkVerificationJSON(t, v)
	})
}
