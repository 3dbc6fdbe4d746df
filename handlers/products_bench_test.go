package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"keyport/app"
	"keyport/testapp"
)

// highRateLimit keeps the limiter on, as keyport ships, but out of the way.
func highRateLimit(c *app.Config) { c.KeyRateLimit = 100_000_000 }

const widget = `{"name":"Widget","price":9.99}`

// serveAPI sends one products API request through a's router in process (no network)
// and fails tb unless it gets status want.
func serveAPI(tb testing.TB, a *testapp.App, method, path, key, body string, want int) {
	tb.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, r)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("X-Api-Key", key)
	rec := httptest.NewRecorder()
	a.Echo.ServeHTTP(rec, req)
	if rec.Code != want {
		tb.Fatalf("%s %s: status %d, want %d: %s", method, path, rec.Code, want, rec.Body)
	}
}

// BenchmarkCreateProduct sends POST /api/products through the whole router (request log,
// metrics, security headers, key check, rate limit, body parse, INSERT on a real SQLite
// file, JSON response), without the network: what keyport adds to a bare insert.
func BenchmarkCreateProduct(b *testing.B) {
	a := testapp.New(b, highRateLimit)
	key, _ := a.Signup(b, "bench@example.com").CreateKey("bench")
	for b.Loop() {
		serveAPI(b, a, http.MethodPost, "/api/products", key, widget, http.StatusCreated)
	}
}

// BenchmarkListProducts reads the first page of products through the whole router.
func BenchmarkListProducts(b *testing.B) {
	a := testapp.New(b, highRateLimit)
	key, _ := a.Signup(b, "bench@example.com").CreateKey("bench")
	for range 50 {
		serveAPI(b, a, http.MethodPost, "/api/products", key, widget, http.StatusCreated)
	}
	for b.Loop() {
		serveAPI(b, a, http.MethodGet, "/api/products", key, "", http.StatusOK)
	}
}
