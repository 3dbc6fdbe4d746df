package parse_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"keyport/handlers/parse"
)

// FuzzProduct checks parse.Product's invariants on any body: it never panics; it fails
// only with the API's two error classes; what it accepts is a single JSON object whose
// name and price it returns exactly (the price compared as an exact rational, not a
// float); and the accepted value survives FormatCents and a second parse unchanged.
func FuzzProduct(f *testing.F) {
	for _, s := range []string{
		`{"name":"Widget","price":9.99}`,
		`{"name":"a","price":100}`,
		`{"name":"a","price":1e2}`,
		`{"name":"a","price":0.10}`,
		`{"name":"a","price":1000000000}`,
		`{"name":"a","price":1000000000.01}`,
		`{"name":"a","price":-0}`,
		`{"name":"a","price":1e309}`,
		`{"name":"a","price":"100"}`,
		`{"name":"a","name":"b","price":1}`,
		`{"name":"  padded  ","price":5}`,
		`{"name":"é\u00e9","price":0.01}`,
		`{"price":1}`,
		`{"name":"a","price":1}x`,
		`[[[[]]]]`,
		"{\"name\":\"\xff\",\"price\":1}",
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := parse.Product(body)
		if err != nil {
			if !errors.Is(err, parse.ErrInvalidJSON) && !errors.Is(err, parse.ErrInvalidRequest) {
				t.Fatalf("error %v is neither ErrInvalidJSON nor ErrInvalidRequest", err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted a body that is not valid JSON: %q", body)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil || len(raw) != 2 {
			t.Fatalf("accepted %q, which is not an object of exactly name and price (%v)", body, err)
		}
		var name string
		if err := json.Unmarshal(raw["name"], &name); err != nil {
			t.Fatalf("accepted a non-string name %s", raw["name"])
		}
		if got, want := in.Name, strings.TrimSpace(name); got != want {
			t.Fatalf("name = %q, want %q", got, want)
		}
		if in.Name == "" || utf8.RuneCountInString(in.Name) > parse.MaxProductName || !utf8.ValidString(in.Name) {
			t.Fatalf("accepted name %q", in.Name)
		}
		for _, r := range in.Name {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("accepted control character %U in %q", r, in.Name)
			}
		}

		price := bytes.TrimSpace(raw["price"])
		want, ok := exactCents(string(price))
		if !ok {
			t.Fatalf("accepted price %s, which is not a whole number of cents in range", price)
		}
		if in.PriceCents != want {
			t.Fatalf("price %s = %d cents, want %d", price, in.PriceCents, want)
		}

		again, err := parse.Product([]byte(`{"name":` + strconv.Quote(in.Name) + `,"price":` + parse.FormatCents(in.PriceCents) + `}`))
		if err != nil || again != in {
			t.Fatalf("round trip of %+v gave %+v, %v", in, again, err)
		}
	})
}

// exactCents is an independent oracle for parse.Cents: the JSON number as an exact
// rational, valid when 0 < price ≤ 1e9 with at most two decimals.
func exactCents(num string) (int64, bool) {
	if len(num) > 400 {
		return 0, false
	}
	// big.Rat would build 10^exp; exponents this far out cannot be a valid price (the
	// mantissa is at most 400 digits).
	if i := strings.IndexAny(num, "eE"); i >= 0 {
		e, err := strconv.Atoi(num[i+1:])
		if err != nil || e > 1000 || e < -1000 {
			return 0, false
		}
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok || r.Sign() <= 0 || r.Cmp(big.NewRat(1_000_000_000, 1)) > 0 {
		return 0, false
	}
	c := new(big.Rat).Mul(r, big.NewRat(100, 1))
	if !c.IsInt() {
		return 0, false
	}
	return c.Num().Int64(), true
}

// TestCentsAgreesWithExactArithmetic runs the oracle the other way: every price it
// calls valid, Cents accepts with the same value, including exponent forms.
func TestCentsAgreesWithExactArithmetic(t *testing.T) {
	for _, num := range []string{
		"0.01", "1", "9.99", "1e9", "1E+2", "100e-2", "0.0001e4", "1000000000.00",
		"12.3400", "5e-1", "0.000000000000000000000000000000000000001e39",
	} {
		want, ok := exactCents(num)
		if !ok {
			t.Fatalf("oracle rejects %s", num)
		}
		got, err := parse.Cents(num)
		if err != nil || got != want {
			t.Errorf("Cents(%s) = %d, %v; want %d", num, got, err, want)
		}
	}
}
