package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"keyport/queries"
	"keyport/testapp"
)

// keysPageApp is an organization with 60 keys, the even ones used in some of the last 24
// hours (so their charts have bars of every outcome) and the odd ones never, and a
// request for its first keys page (50 rows) from its signed-in owner.
func keysPageApp(tb testing.TB) (*testapp.App, *http.Request) {
	tb.Helper()
	a := testapp.New(tb)
	c := a.Signup(tb, "bench@example.com")
	q := queries.New(a.DB.Write)
	hour := a.Clock.Now().Truncate(time.Hour)
	for i := range 60 {
		_, id := c.CreateKey(fmt.Sprintf("key %d", i))
		if i%2 == 1 {
			continue
		}
		for h := range 24 {
			if (h+i)%3 == 0 {
				continue
			}
			n := int64(h*37 + i)
			if err := q.AddKeyUsage(context.Background(), queries.AddKeyUsageParams{
				KeyID: id, HourStart: hour.Add(-time.Duration(h) * time.Hour).UnixMilli(),
				Valid: n * 10, RateLimited: n % 7, InsufficientScope: n % 3, Revoked: n % 2, Expired: n % 5,
			}); err != nil {
				tb.Fatal(err)
			}
		}
	}
	req := httptest.NewRequest(http.MethodGet, dashboard, nil)
	u, err := url.Parse(a.URL)
	if err != nil {
		tb.Fatal(err)
	}
	for _, ck := range c.Jar.Cookies(u) {
		req.AddCookie(ck)
	}
	return a, req
}

// BenchmarkKeysPage renders the dashboard's keys page (50 rows, each with its 24-hour
// chart) through the whole router on a real SQLite file, without the network.
func BenchmarkKeysPage(b *testing.B) {
	a, req := keysPageApp(b)
	w := &countingWriter{header: http.Header{}}
	for b.Loop() {
		clear(w.header)
		w.status, w.size = 0, 0
		a.Echo.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("keys page: status %d", w.status)
		}
	}
	b.ReportMetric(float64(w.size), "bytes/page")
}

// countingWriter is a ResponseWriter that keeps only the status and the body's size, so
// the benchmark's allocations are the server's, as with net/http's writer.
type countingWriter struct {
	header       http.Header
	status, size int
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.size += len(p)
	return len(p), nil
}
