package handlers_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

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
	defer testapp.ReportCPU(b)()
	for b.Loop() {
		serveAPI(b, a, http.MethodPost, "/api/products", key, widget, http.StatusCreated)
	}
}

// BenchmarkCreateProductUsage sends BenchmarkCreateProduct's request to two apps in
// turn, one with per-key usage counting on (as keyport ships) and one with it off
// (-key-usage=false), timing each request: alternating request by request, drift in the
// machine's load weighs on both alike. It reports each one's median (a checkpoint or a
// neighbour's burst stalls single requests, which would swamp a mean) and their ratio,
// counted / not counted.
func BenchmarkCreateProductUsage(b *testing.B) {
	on := testapp.New(b, highRateLimit)
	off := testapp.New(b, highRateLimit, func(c *app.Config) { c.NoUsageCounts = true })
	keyOn, _ := on.Signup(b, "bench@example.com").CreateKey("bench")
	keyOff, _ := off.Signup(b, "bench@example.com").CreateKey("bench")
	var counted, notCounted []time.Duration
	send := func(a *testapp.App, key string, times *[]time.Duration) {
		t0 := time.Now()
		serveAPI(b, a, http.MethodPost, "/api/products", key, widget, http.StatusCreated)
		*times = append(*times, time.Since(t0))
	}
	for b.Loop() {
		if len(counted)%2 == 0 {
			send(on, keyOn, &counted)
			send(off, keyOff, &notCounted)
		} else {
			send(off, keyOff, &notCounted)
			send(on, keyOn, &counted)
		}
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Nanoseconds())
	}
	c, n := median(counted), median(notCounted)
	b.ReportMetric(c, "counted-ns/req")
	b.ReportMetric(n, "not-counted-ns/req")
	b.ReportMetric(c/n, "ratio")
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
