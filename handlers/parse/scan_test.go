package parse

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// strictProduct is Product without its fast path: what every body got before it.
func strictProduct(body []byte) (ProductInput, error) {
	f, err := tokenProduct(body)
	if err != nil {
		return ProductInput{}, err
	}
	return f.validate()
}

// productBodies are bodies of every kind: the fast path's shapes, the ones it must leave
// to the strict parser, and the table tests' errors.
var productBodies = []string{
	`{"name":"Widget","price":9.99}`,
	`{"price":100,"name":"Widget"}`,
	" \n{ \"name\" : \"W\" , \"price\" : 1e2 }\n ",
	"\t{\r\"name\":\"W\",\"price\":-0.5E-3}\r\n",
	`{"name":"  Widget  ","price":1}`,
	`{"na\u006de":"W","price":1}`,
	`{"name":"` + strings.Repeat("é", 200) + `","price":1}`,
	`{"name":"` + strings.Repeat("é", 200) + `x","price":1}`,
	`{"name":"Gr\u00fc\u00dfe 🎉","price":0.5}`,
	`{"name":"Grüße 🎉","price":0.5}`,
	`{"name":"a` + "\x7f" + `","price":1}`,
	`{"name":"a","price":0}`,
	`{"name":"a","price":-1}`,
	`{"name":"a","price":01}`,
	`{"name":"a","price":1.}`,
	`{"name":"a","price":.5}`,
	`{"name":"a","price":1e}`,
	`{"name":"a","price":1e+}`,
	`{"name":"a","price":-}`,
	`{"name":"a","price":1x}`,
	`{"name":"a","price":1e400}`,
	`{"name":"a","price":1000000000.01}`,
	``, ` `, `{`, `}`, `{}`, ` { } `, `{} x`, `{}{}`, `{,}`, `{"name"}`, `{"name":}`,
	`name=Widget&price=1`,
	`[{"name":"W","price":1}]`,
	`null`, `"W"`, `1`,
	`{"name":"W","price":1`,
	`{"name":"W","price":1,}`,
	`{"name":"W","price":1}{}`,
	`{"name":"W","price":1} x`,
	`{"name":"W","name":"X","price":1}`,
	`{"name":"W","price":1,"price":2}`,
	`{"name":"W","n\u0061me":"X","price":1}`,
	`{"name":null,"name":"X","price":1}`,
	`{"name":"W","price":"9.99"}`,
	`{"name":"W","price":true}`,
	`{"name":"W","price":{"amount":1}}`,
	`{"name":5,"price":1}`,
	`{"name":["W"],"price":1}`,
	"{\"name\":\"W\xff\",\"price\":1}",
	"\xef\xbb\xbf{\"name\":\"W\",\"price\":1}",
	`{"name":"W\x","price":1}`,
	"{\"name\":\"W\nX\",\"price\":1}",
	"{\"name\":\"W\",\"price\":1}\x00",
	"{\"name\":\"W\",\u00a0\"price\":1}",
	"{\"name\":\"W\",\f\"price\":1}",
	`{"name":"W","price":+1}`,
	`{"name":"W","price":NaN}`,
	`{"price":1}`, `{"name":"W"}`,
	`{"name":null,"price":1}`, `{"name":"W","price":null}`,
	`{"name":"","price":1}`, `{"name":"   ","price":1}`,
	`{"name":"W","price":1,"currency":"EUR"}`,
	`{"Name":"W","price":1}`,
	`{"name":"W\u0000X","price":1}`,
	`{"name":"W\u001bX","price":1}`,
	`{"name":"W\"X","price":1}`,
}

// TestScanProductFastPath pins which bodies take the fast path, so that it cannot
// silently stop being taken (or start taking what it should not).
func TestScanProductFastPath(t *testing.T) {
	for _, tt := range []struct {
		body string
		want productFields
	}{
		{`{"name":"Widget","price":9.99}`, productFields{name: "Widget", price: "9.99", hasName: true, hasPrice: true}},
		{`{"price":100,"name":"Widget"}`, productFields{name: "Widget", price: "100", hasName: true, hasPrice: true}},
		{" \n{ \"name\" : \"W\" , \"price\" : 1e2 }\n ", productFields{name: "W", price: "1e2", hasName: true, hasPrice: true}},
		{"\t{\r\"price\":-0.5E-3}\r\n", productFields{price: "-0.5E-3", hasPrice: true}},
		{`{"name":"Grüße 🎉"}`, productFields{name: "Grüße 🎉", hasName: true}},
		{` { } `, productFields{}},
	} {
		got, ok := scanProduct([]byte(tt.body))
		if !ok || got != tt.want {
			t.Errorf("scanProduct(%q) = %+v, %v; want %+v, true", tt.body, got, ok, tt.want)
		}
	}
	for _, body := range []string{
		`{"na\u006de":"W","price":1}`,
		`{"name":"W\"X","price":1}`,
		`{"name":null,"price":1}`,
		`{"name":"W","name":"X","price":1}`,
		`{"name":"W","price":1,"currency":"EUR"}`,
		`{"name":"W","price":"1"}`,
		`{"name":"W","price":01}`,
		"{\"name\":\"W\xff\",\"price\":1}",
		"{\"name\":\"W\tX\",\"price\":1}",
		"{\"name\":\"W\",\f\"price\":1}",
		`{"name":"W","price":1} x`,
		`{"name":"W","price":1,}`,
		`{"name":"W","price":1`,
		``,
	} {
		if got, ok := scanProduct([]byte(body)); ok {
			t.Errorf("scanProduct(%q) = %+v, took the fast path; want it left to the strict parser", body, got)
		}
	}
}

// FuzzProductFastPath checks that Product answers every body exactly as the strict
// parser alone does: the same value, or an error with the same text and class.
func FuzzProductFastPath(f *testing.F) {
	for _, s := range productBodies {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		got, gotErr := Product(body)
		want, wantErr := strictProduct(body)
		if got != want || errText(gotErr) != errText(wantErr) ||
			errors.Is(gotErr, ErrInvalidJSON) != errors.Is(wantErr, ErrInvalidJSON) ||
			errors.Is(gotErr, ErrInvalidRequest) != errors.Is(wantErr, ErrInvalidRequest) {
			t.Fatalf("Product(%q) = %+v, %v; the strict parser gives %+v, %v", body, got, gotErr, want, wantErr)
		}
		if f, ok := scanProduct(body); ok {
			if g, err := tokenProduct(body); err != nil || g != f {
				t.Fatalf("fast path read %q as %+v; the strict parser as %+v, %v", body, f, g, err)
			}
		}
	})
}

// verifyBodies are verify bodies of every kind, as productBodies.
var verifyBodies = []string{
	`{"key":"kp_x"}`, `{"key":" kp_x "}`, `{"key":""}`, ` {"key":"kp_x"} `,
	`{"scopes":["a","b"],"key":"kp_x"}`, `{"key":"kp_x","scopes":[]}`, `{"key":"kp_x","scopes":[ ]}`,
	"{\n\t\"key\" : \"kp_x\" ,\r\"scopes\" : [ \"a\" , \"b\" ] }\n",
	`{"key":"kp_x","scopes":["a",]}`, `{"key":"kp_x","scopes":[,"a"]}`, `{"key":"kp_x","scopes":["a" "b"]}`,
	`{"key":"kp_x","scopes":["a"`, `{"key":"kp_x","scopes":["a"]`, `{"key":"kp_x","scopes":["a"]]}`,
	`{}`, `{"key":null}`, `{"key":42}`, `{"key":["kp_x"]}`, `{"key":"kp_\u0078"}`,
	`{"key":"kp_x","scopes":"products:read"}`, `{"key":"kp_x","scopes":null}`,
	`{"key":"kp_x","scopes":["a",null]}`, `{"key":"kp_x","scopes":[1]}`, `{"key":"kp_x","scopes":[["a"]]}`,
	`{"key":"kp_x","scopes":["a"],"scopes":["b"]}`, `{"scopes":["a"]}`,
	`{"key":"kp_x","scope":["products:write"]}`, `{"key":"kp_x","key":"kp_y"}`,
	`{"key":"kp_x"`, `{"key":"kp_x"}{}`, `{"key":"kp_x"} x`, `["kp_x"]`, ``, "{\"key\":\"kp_\xff\"}",
	`{"key":"kp_é","scopes":["ü"]}`, "{\"key\":\"kp_\tx\"}",
}

// TestScanVerifyFastPath pins which verify bodies take the fast path.
func TestScanVerifyFastPath(t *testing.T) {
	for _, tt := range []struct {
		body string
		want VerifyInput
	}{
		{`{"key":"kp_x"}`, VerifyInput{Key: "kp_x"}},
		{`{"key":" kp_x "}`, VerifyInput{Key: "kp_x"}},
		{`{"scopes":["a","b"],"key":"kp_x"}`, VerifyInput{Key: "kp_x", Scopes: []string{"a", "b"}}},
		{`{"key":"kp_x","scopes":[ ]}`, VerifyInput{Key: "kp_x"}},
		{"{\n\t\"key\" : \"kp_x\" ,\r\"scopes\" : [ \"a\" , \"b\" ] }\n", VerifyInput{Key: "kp_x", Scopes: []string{"a", "b"}}},
	} {
		got, ok := scanVerify([]byte(tt.body))
		if !ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("scanVerify(%q) = %#v, %v; want %#v, true", tt.body, got, ok, tt.want)
		}
	}
	for _, body := range []string{
		`{}`, `{"scopes":["a"]}`, `{"key":null}`, `{"key":"kp_\u0078"}`, `{"key":"kp_x","scopes":null}`,
		`{"key":"kp_x","scopes":["a",]}`, `{"key":"kp_x","scopes":["a",null]}`, `{"key":"kp_x","key":"kp_y"}`,
		`{"key":"kp_x","scopes":["a"],"scopes":["b"]}`, `{"key":"kp_x","scope":["a"]}`, `{"key":"kp_x"} x`,
	} {
		if got, ok := scanVerify([]byte(body)); ok {
			t.Errorf("scanVerify(%q) = %#v, took the fast path; want it left to encoding/json", body, got)
		}
	}
}

// FuzzVerifyFastPath checks that whatever the fast path accepts, decodeVerify accepts and
// reads the same. (Where the fast path declines, Verify is decodeVerify itself.)
func FuzzVerifyFastPath(f *testing.F) {
	for _, s := range verifyBodies {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		fast, ok := scanVerify(body)
		if !ok {
			return
		}
		if strict, err := decodeVerify(body); err != nil || !reflect.DeepEqual(fast, strict) {
			t.Fatalf("fast path read %q as %#v; encoding/json as %#v, %v", body, fast, strict, err)
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	body := []byte(`{"key":"kp_0123456789abcdefghijklmnopqrstuvwxyzABCDEF","scopes":["products:read"]}`)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, err := Verify(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("strict", func(b *testing.B) {
		for b.Loop() {
			if _, err := decodeVerify(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func BenchmarkProduct(b *testing.B) {
	body := []byte(`{"name":"Widget","price":9.99}`)
	b.Run("fast", func(b *testing.B) {
		for b.Loop() {
			if _, err := Product(body); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("strict", func(b *testing.B) {
		for b.Loop() {
			if _, err := strictProduct(body); err != nil {
				b.Fatal(err)
			}
		}
	})
}
