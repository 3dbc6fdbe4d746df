package parse_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"keyport/handlers/parse"
)

func TestCents(t *testing.T) {
	tests := []struct {
		in   string
		want int64 // 0 means ErrPrice
	}{
		{"9.99", 999},
		{"100", 10000},
		{"0.1", 10},
		{"0.01", 1},
		{"0.10", 10},
		{"1.000", 100},
		{"1", 100},
		{"1e2", 10000},
		{"1E2", 10000},
		{"1e+2", 10000},
		{"1.5e1", 1500},
		{"999e-2", 999},
		{"1.0e-2", 1},
		{"100000000000000000000e-20", 100},
		{"000012.30", 1230},
		{"1000000000", 100000000000},
		{"999999999.99", 99999999999},
		{"1e9", 100000000000},

		{"0", 0},
		{"0.00", 0},
		{"0e5", 0},
		{"-0", 0},
		{"-1", 0},
		{"-0.01", 0},
		{"0.001", 0},
		{"1.001", 0},
		{"1e-3", 0},
		{"1000000000.01", 0},
		{"1000000001", 0},
		{"1e10", 0},
		{"1e100", 0},
		{"1e-100", 0},
		{"1e101", 0},
		{"1e999999999999999999999", 0},
		{"1e-999999999999999999999", 0},
		{"9" + strings.Repeat("0", 400), 0},
		{"0." + strings.Repeat("0", 400) + "1", 0},
		{"", 0},
		{"abc", 0},
		{"1e", 0},
		{"1.2.3", 0},
	}
	for _, tt := range tests {
		got, err := parse.Cents(tt.in)
		if tt.want == 0 {
			if !errors.Is(err, parse.ErrPrice) {
				t.Errorf("Cents(%.40q) = %d, %v; want ErrPrice", tt.in, got, err)
			}
			if !errors.Is(err, parse.ErrInvalidRequest) {
				t.Errorf("Cents(%.40q) error %v is not an ErrInvalidRequest", tt.in, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Cents(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestFormatCents(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{1, "0.01"},
		{10, "0.1"},
		{99, "0.99"},
		{100, "1"},
		{101, "1.01"},
		{110, "1.1"},
		{999, "9.99"},
		{10000, "100"},
		{100000000000, "1000000000"},
		{99999999999, "999999999.99"},
	}
	for _, tt := range tests {
		if got := parse.FormatCents(tt.in); got != tt.want {
			t.Errorf("FormatCents(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Every price the API accepts must come back as the number that was sent, in its
// shortest form.
func TestCentsRoundTrip(t *testing.T) {
	for _, s := range []string{"0.01", "0.1", "0.99", "1", "9.99", "9.9", "100", "123456.78", "1000000000"} {
		c, err := parse.Cents(s)
		if err != nil {
			t.Fatalf("Cents(%q): %v", s, err)
		}
		if got := parse.FormatCents(c); got != s {
			t.Errorf("FormatCents(Cents(%q)) = %q", s, got)
		}
	}
}

func TestProduct(t *testing.T) {
	name200 := strings.Repeat("é", 200)
	tests := []struct {
		name    string
		body    string
		want    parse.ProductInput
		wantErr error
	}{
		{"valid", `{"name":"Widget","price":9.99}`, parse.ProductInput{Name: "Widget", PriceCents: 999}, nil},
		{"fields in any order", `{"price":100,"name":"Widget"}`, parse.ProductInput{Name: "Widget", PriceCents: 10000}, nil},
		{"whitespace around", " \n{ \"name\" : \"W\" , \"price\" : 1e2 }\n ", parse.ProductInput{Name: "W", PriceCents: 10000}, nil},
		{"name trimmed", `{"name":"  Widget  ","price":1}`, parse.ProductInput{Name: "Widget", PriceCents: 100}, nil},
		{"escaped field name", `{"na\u006de":"W","price":1}`, parse.ProductInput{Name: "W", PriceCents: 100}, nil},
		{"name of 200 characters", `{"name":"` + name200 + `","price":1}`, parse.ProductInput{Name: name200, PriceCents: 100}, nil},
		{"unicode name", `{"name":"Gr\u00fc\u00dfe 🎉","price":0.5}`, parse.ProductInput{Name: "Grüße 🎉", PriceCents: 50}, nil},

		{"empty body", ``, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"not JSON", `name=Widget&price=1`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"array", `[{"name":"W","price":1}]`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"null body", `null`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"string body", `"W"`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"truncated", `{"name":"W","price":1`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"trailing comma", `{"name":"W","price":1,}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"trailing object", `{"name":"W","price":1}{}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"trailing garbage", `{"name":"W","price":1} x`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"duplicate name", `{"name":"W","name":"X","price":1}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"duplicate price", `{"name":"W","price":1,"price":2}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"duplicate through escape", `{"name":"W","n\u0061me":"X","price":1}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"price as string", `{"name":"W","price":"9.99"}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"price as bool", `{"name":"W","price":true}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"price as object", `{"name":"W","price":{"amount":1}}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"name as number", `{"name":5,"price":1}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"name as array", `{"name":["W"],"price":1}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"invalid UTF-8", "{\"name\":\"W\xff\",\"price\":1}", parse.ProductInput{}, parse.ErrInvalidJSON},
		{"bad escape", `{"name":"W\x","price":1}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"raw newline in string", "{\"name\":\"W\nX\",\"price\":1}", parse.ProductInput{}, parse.ErrInvalidJSON},
		{"leading plus", `{"name":"W","price":+1}`, parse.ProductInput{}, parse.ErrInvalidJSON},
		{"NaN", `{"name":"W","price":NaN}`, parse.ProductInput{}, parse.ErrInvalidJSON},

		{"empty object", `{}`, parse.ProductInput{}, parse.ErrProductRequired},
		{"name missing", `{"price":1}`, parse.ProductInput{}, parse.ErrProductRequired},
		{"price missing", `{"name":"W"}`, parse.ProductInput{}, parse.ErrProductRequired},
		{"name null", `{"name":null,"price":1}`, parse.ProductInput{}, parse.ErrProductRequired},
		{"price null", `{"name":"W","price":null}`, parse.ProductInput{}, parse.ErrProductRequired},
		{"name empty", `{"name":"","price":1}`, parse.ProductInput{}, parse.ErrProductRequired},
		{"name blank", `{"name":"   ","price":1}`, parse.ProductInput{}, parse.ErrProductRequired},

		{"unknown field", `{"name":"W","price":1,"currency":"EUR"}`, parse.ProductInput{}, parse.ErrInvalidRequest},
		{"field names are case-sensitive", `{"Name":"W","price":1}`, parse.ProductInput{}, parse.ErrInvalidRequest},
		{"name of 201 characters", `{"name":"` + name200 + `x","price":1}`, parse.ProductInput{}, parse.ErrInvalidRequest},
		{"NUL in name", `{"name":"W\u0000X","price":1}`, parse.ProductInput{}, parse.ErrInvalidRequest},
		{"control character in name", `{"name":"W\u001bX","price":1}`, parse.ProductInput{}, parse.ErrInvalidRequest},
		{"price zero", `{"name":"W","price":0}`, parse.ProductInput{}, parse.ErrPrice},
		{"price negative", `{"name":"W","price":-1}`, parse.ProductInput{}, parse.ErrPrice},
		{"price three decimals", `{"name":"W","price":1.001}`, parse.ProductInput{}, parse.ErrPrice},
		{"price too large", `{"name":"W","price":1000000000.01}`, parse.ProductInput{}, parse.ErrPrice},
		{"price huge exponent", `{"name":"W","price":1e400}`, parse.ProductInput{}, parse.ErrPrice},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse.Product([]byte(tt.body))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Product(%.60q) = %+v, %v; want %v", tt.body, got, err, tt.wantErr)
				}
				// The two error classes map to different API codes, so an error must
				// belong to exactly one.
				if errors.Is(err, parse.ErrInvalidJSON) == errors.Is(err, parse.ErrInvalidRequest) {
					t.Errorf("error %v is in both or neither of ErrInvalidJSON and ErrInvalidRequest", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Product(%.60q) = %+v, %v; want %+v", tt.body, got, err, tt.want)
			}
		})
	}
}

func TestLimit(t *testing.T) {
	tests := []struct {
		in   string
		want int // 0 means ErrLimit
	}{
		{"", 20},
		{"1", 1},
		{"20", 20},
		{"100", 100},
		{"0", 0},
		{"101", 0},
		{"-1", 0},
		{"abc", 0},
		{"1.5", 0},
		{"1e1", 0},
		{" 5", 0},
		{"99999999999999999999", 0},
	}
	for _, tt := range tests {
		got, err := parse.Limit(tt.in)
		if tt.want == 0 {
			if !errors.Is(err, parse.ErrLimit) || !errors.Is(err, parse.ErrInvalidRequest) {
				t.Errorf("Limit(%q) = %d, %v; want ErrLimit", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("Limit(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

// TestFormatCentsAsSprintf compares FormatCents with the fmt.Sprintf formatting it
// replaced, over small prices one by one and large ones at random.
func TestFormatCentsAsSprintf(t *testing.T) {
	old := func(c int64) string {
		whole, rem := c/100, c%100
		switch {
		case rem == 0:
			return strconv.FormatInt(whole, 10)
		case rem%10 == 0:
			return fmt.Sprintf("%d.%d", whole, rem/10)
		default:
			return fmt.Sprintf("%d.%02d", whole, rem)
		}
	}
	cents := []int64{parse.MaxPriceCents, math.MaxInt64}
	for c := int64(1); c <= 100_000; c++ {
		cents = append(cents, c)
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		cents = append(cents, 1+r.Int64N(parse.MaxPriceCents), 1+r.Int64N(math.MaxInt64))
	}
	for _, c := range cents {
		if got, want := parse.FormatCents(c), old(c); got != want {
			t.Fatalf("FormatCents(%d) = %q, want %q", c, got, want)
		}
	}
}
