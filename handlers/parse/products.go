package parse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"keyport/input"
)

// Product body errors. ErrInvalidJSON and ErrInvalidRequest are the two classes the API
// reports (codes invalid_json and invalid_request); details are wrapped with %w.
var (
	ErrInvalidJSON     = errors.New("Request body must be a JSON object")
	ErrInvalidRequest  = errors.New("Invalid request")
	ErrProductRequired = fmt.Errorf("%w: Name and Price are required", ErrInvalidRequest)
)

// Product limits.
const (
	MaxProductName = 200
	MaxPriceCents  = 1_000_000_000 * 100
)

// ProductInput is a validated create-product body.
type ProductInput struct {
	Name       string
	PriceCents int64
}

// Product parses and validates a create-product JSON body strictly: one object, no
// duplicate or unknown fields, nothing after it, a string name and a number price.
func Product(body []byte) (ProductInput, error) {
	f, ok := scanProduct(body)
	if !ok {
		var err error
		if f, err = tokenProduct(body); err != nil {
			return ProductInput{}, err
		}
	}
	return f.validate()
}

// productFields is a product body's members as JSON gave them, before validation.
type productFields struct {
	name, price       string
	hasName, hasPrice bool
}

func (f productFields) validate() (ProductInput, error) {
	name := strings.TrimSpace(f.name)
	if !f.hasName || !f.hasPrice || name == "" {
		return ProductInput{}, ErrProductRequired
	}
	if utf8.RuneCountInString(name) > MaxProductName {
		return ProductInput{}, fmt.Errorf("%w: name must be at most %d characters", ErrInvalidRequest, MaxProductName)
	}
	if input.HasControl(name) {
		return ProductInput{}, fmt.Errorf("%w: name must not contain control characters", ErrInvalidRequest)
	}
	cents, err := Cents(f.price)
	if err != nil {
		return ProductInput{}, err
	}
	return ProductInput{Name: name, PriceCents: cents}, nil
}

// tokenProduct reads a product body through encoding/json's tokenizer, which knows every
// corner of JSON and words the syntax errors the API returns.
func tokenProduct(body []byte) (productFields, error) {
	var f productFields
	if !utf8.Valid(body) {
		return f, fmt.Errorf("%w: body is not valid UTF-8", ErrInvalidJSON)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return f, fmt.Errorf("%w: {\"name\": string, \"price\": number}", ErrInvalidJSON)
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return f, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
		}
		field, _ := tok.(string)
		if seen[field] {
			return f, fmt.Errorf("%w: duplicate field %q", ErrInvalidJSON, field)
		}
		seen[field] = true
		val, err := dec.Token()
		if err != nil {
			return f, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
		}
		switch field {
		case "name":
			switch v := val.(type) {
			case string:
				f.name, f.hasName = v, true
			case nil:
			default:
				return f, fmt.Errorf("%w: name must be a string", ErrInvalidJSON)
			}
		case "price":
			switch v := val.(type) {
			case json.Number:
				f.price, f.hasPrice = string(v), true
			case nil:
			default:
				return f, fmt.Errorf("%w: price must be a number", ErrInvalidJSON)
			}
		default:
			return f, fmt.Errorf("%w: unknown field %q", ErrInvalidRequest, field)
		}
	}
	if _, err := dec.Token(); err != nil {
		return f, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return f, fmt.Errorf("%w: unexpected data after the object", ErrInvalidJSON)
	}
	return f, nil
}

// ErrPrice is returned for a price outside 0 < price ≤ 1000000000 or with more than two
// decimals.
var ErrPrice = fmt.Errorf("%w: price must be greater than 0 and at most 1000000000, with at most 2 decimals", ErrInvalidRequest)

// Cents converts a JSON number literal to integer cents exactly, without going through
// float64 (9.99 must stay 9.99).
func Cents(num string) (int64, error) {
	s := num
	if strings.HasPrefix(s, "-") {
		return 0, ErrPrice
	}
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 100 || e < -100 {
			// Exponents this large cannot give a valid price either way.
			return 0, ErrPrice
		}
		exp = e
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	scale := exp - len(frac) + 2 // value in cents = digits × 10^scale
	if digits == "" {
		return 0, ErrPrice
	}
	for scale < 0 {
		if digits[len(digits)-1] != '0' {
			return 0, ErrPrice
		}
		digits = digits[:len(digits)-1]
		scale++
	}
	if len(digits)+scale > 12 {
		return 0, ErrPrice
	}
	n, err := strconv.ParseInt(digits+strings.Repeat("0", scale), 10, 64)
	if err != nil || n <= 0 || n > MaxPriceCents {
		return 0, ErrPrice
	}
	return n, nil
}

// FormatCents renders cents as the shortest exact decimal: 10000 → "100", 999 → "9.99",
// 990 → "9.9". Prices are positive (the schema checks price_cents > 0).
func FormatCents(c int64) string {
	var buf [24]byte
	return string(AppendCents(buf[:0], c))
}

// AppendCents appends cents as FormatCents writes them.
func AppendCents(b []byte, c int64) []byte {
	b = strconv.AppendInt(b, c/100, 10)
	switch rem := c % 100; {
	case rem == 0:
	case rem%10 == 0:
		b = append(b, '.', byte('0'+rem/10))
	default:
		b = append(b, '.', byte('0'+rem/10), byte('0'+rem%10))
	}
	return b
}

// ErrLimit is returned for a ?limit= outside 1 to 100.
var ErrLimit = fmt.Errorf("%w: limit must be an integer from 1 to 100", ErrInvalidRequest)

// Limit parses ?limit=, 20 when absent.
func Limit(s string) (int, error) { return intParam(s, 20, 1, 100, ErrLimit) }

// intParam parses a query parameter that must be an integer from lo to hi, def when
// absent, and answers bad otherwise.
func intParam(s string, def, lo, hi int, bad error) (int, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, bad
	}
	return n, nil
}
