package handlers

import (
	"bytes"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/labstack/echo/v4"
)

// TestReadBody checks readBody whatever the Content-Length says: the size it sizes its
// buffer by is a hint, never a limit.
func TestReadBody(t *testing.T) {
	small := `{"name":"Widget","price":9.99}`
	exact := strings.Repeat("x", maxBody)
	over := exact + "x"
	tests := []struct {
		name    string
		body    io.Reader
		length  int64
		want    string
		wantErr error
	}{
		{"length given", strings.NewReader(small), int64(len(small)), small, nil},
		{"no length (chunked)", strings.NewReader(small), -1, small, nil},
		{"empty", strings.NewReader(""), 0, "", nil},
		{"length too small", strings.NewReader(small), 3, small, nil},
		{"length too large", strings.NewReader(small), 1000, small, nil},
		{"one byte at a time", iotest.OneByteReader(strings.NewReader(small)), int64(len(small)), small, nil},
		{"exactly maxBody", strings.NewReader(exact), maxBody, exact, nil},
		{"exactly maxBody, no length", strings.NewReader(exact), -1, exact, nil},
		{"over maxBody", strings.NewReader(over), maxBody + 1, "", errAPIBodyTooLarge},
		{"over maxBody, length says less", strings.NewReader(over), 10, "", errAPIBodyTooLarge},
		{"over maxBody, no length", strings.NewReader(over), -1, "", errAPIBodyTooLarge},
		{"broken", iotest.TimeoutReader(strings.NewReader(small + small)), int64(2 * len(small)), "", errAPIBodyUnreadable},
	}
	e := echo.New()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/api/products", tt.body)
			req.ContentLength = tt.length
			got, err := readBody(e.NewContext(req, httptest.NewRecorder()))
			if !errors.Is(err, tt.wantErr) || (err == nil && !bytes.Equal(got, []byte(tt.want))) {
				t.Fatalf("readBody = %.40q, %v; want %.40q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func BenchmarkReadBody(b *testing.B) {
	body := `{"name":"Widget","price":9.99}`
	e := echo.New()
	req := httptest.NewRequest("POST", "/api/products", nil)
	c := e.NewContext(req, httptest.NewRecorder())
	r := strings.NewReader(body)
	req.Body, req.ContentLength = io.NopCloser(r), int64(len(body))
	b.Run("readBody", func(b *testing.B) {
		for b.Loop() {
			r.Reset(body)
			if _, err := readBody(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("io.ReadAll", func(b *testing.B) {
		for b.Loop() {
			r.Reset(body)
			if _, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
