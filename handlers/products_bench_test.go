package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"keyport/app"
	"keyport/testapp"
)

// highRateLimit keeps the limiter on, as keyport ships, but out of the way.
func highRateLimit(c *app.Config) { c.KeyRateLimit = 100_000_000 }

// BenchmarkCreateProduct sends POST /api/products through the whole router (request log,
// security headers, key check, body parse, INSERT on a real SQLite file, JSON response),
// without the network: what keyport adds to a bare insert.
func BenchmarkCreateProduct(b *testing.B) {
	a := testapp.New(b, highRateLimit)
	key, _ := a.Signup(b, "bench@example.com").CreateKey("bench")
	const body = `{"name":"Widget","price":9.99}`
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/api/products", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Api-Key", key)
		rec := httptest.NewRecorder()
		a.Echo.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkListProducts reads the first page of products through the whole router.
func BenchmarkListProducts(b *testing.B) {
	a := testapp.New(b, highRateLimit)
	key, _ := a.Signup(b, "bench@example.com").CreateKey("bench")
	for range 50 {
		if resp, body := a.API(b, http.MethodPost, "/api/products", key, `{"name":"Widget","price":9.99}`); resp.StatusCode != http.StatusCreated {
			b.Fatalf("seed product: status %d: %s", resp.StatusCode, body)
		}
	}
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "/api/products", nil)
		req.Header.Set("X-Api-Key", key)
		rec := httptest.NewRecorder()
		a.Echo.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
