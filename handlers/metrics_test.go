package handlers_test

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"keyport/app"
	"keyport/testapp"
)

// scrape reads /metrics and returns each sample by its series, as printed
// (`name{label="value",...}`; labels are sorted by name).
func scrape(t *testing.T, a *testapp.App) map[string]float64 {
	t.Helper()
	resp, body := a.NewClient(t).Get("/metrics")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d\n%s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("GET /metrics: Content-Type %q, want text/plain", ct)
	}
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("unparsable metrics line %q", line)
		}
		samples[line[:i]] = v
	}
	return samples
}

func TestMetricsCountRequestsVerificationsAndProducts(t *testing.T) {
	a := testapp.New(t, func(c *app.Config) { c.KeyRateLimit = 5 })
	c := a.Signup(t, "metrics@example.com")
	full, _ := c.CreateKey("full")
	readOnly, _ := c.CreateKey("read only", testapp.KeyOptions{Scopes: []string{"products:read"}})
	burst, _ := c.CreateKey("burst")
	revoked, revokedID := c.CreateKey("revoked")
	if resp, body := c.Do(http.MethodDelete, "/dashboard/integrations/api/keys/"+revokedID, nil, "HX-Request: true"); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: status %d\n%s", resp.StatusCode, body)
	}
	expired, _ := c.CreateKey("expired", testapp.KeyOptions{ExpiresInDays: 7})
	a.Clock.Advance(8 * 24 * time.Hour)

	before := scrape(t, a)
	api := func(method, path, key, body string, want int) {
		t.Helper()
		if resp, got := a.API(t, method, path, key, body); resp.StatusCode != want {
			t.Fatalf("%s %s: status %d, want %d\n%s", method, path, resp.StatusCode, want, got)
		}
	}
	product := `{"name":"Widget","price":9.99}`
	api("POST", "/api/products", full, product, 201)
	api("POST", "/api/products/create", full, product, 201)
	api("GET", "/api/products", full, "", 200)
	api("GET", "/api/products", "", "", 401)
	api("GET", "/api/products", "kp_nope", "", 403)
	api("GET", "/api/products", revoked, "", 403)
	api("GET", "/api/products", expired, "", 403)
	api("POST", "/api/products", readOnly, product, 403)
	for range 5 {
		api("GET", "/api/products", burst, "", 200)
	}
	api("GET", "/api/products", burst, "", 429)
	api("GET", "/api/products/prod_unknown", full, "", 404)
	api("GET", "/api/nothing/here", full, "", 404)
	api("GET", "/nowhere", "", "", 404)

	// A write the database refuses: it is made read-only.
	a.SetReadOnly(t, true)
	api("POST", "/api/products", full, product, 503)
	a.SetReadOnly(t, false)

	after := scrape(t, a)
	for _, tc := range []struct {
		series string
		want   float64
	}{
		{`keyport_http_requests_total{method="POST",route="/api/products",status="201"}`, 1},
		{`keyport_http_requests_total{method="POST",route="/api/products/create",status="201"}`, 1},
		{`keyport_http_requests_total{method="GET",route="/api/products",status="200"}`, 6},
		{`keyport_http_requests_total{method="GET",route="/api/products",status="401"}`, 1},
		{`keyport_http_requests_total{method="GET",route="/api/products",status="403"}`, 3},
		{`keyport_http_requests_total{method="POST",route="/api/products",status="403"}`, 1},
		{`keyport_http_requests_total{method="GET",route="/api/products",status="429"}`, 1},
		{`keyport_http_requests_total{method="GET",route="/api/products/:id",status="404"}`, 1},
		{`keyport_http_requests_total{method="GET",route="unmatched",status="404"}`, 2},
		{`keyport_http_requests_total{method="POST",route="/api/products",status="503"}`, 1},
		{`keyport_http_request_duration_seconds_count{route="/api/products"}`, 14},
		{`keyport_http_request_duration_seconds_count{route="/api/products/create"}`, 1},
		{`keyport_key_verifications_total{outcome="ok"}`, 10},
		{`keyport_key_verifications_total{outcome="missing"}`, 1},
		{`keyport_key_verifications_total{outcome="invalid"}`, 1},
		{`keyport_key_verifications_total{outcome="revoked"}`, 1},
		{`keyport_key_verifications_total{outcome="expired"}`, 1},
		{`keyport_key_verifications_total{outcome="insufficient_scope"}`, 1},
		{`keyport_key_verifications_total{outcome="rate_limited"}`, 1},
		{`keyport_key_verifications_total{outcome="error"}`, 0},
		{`keyport_products_created_total`, 2},
		{`keyport_db_errors_total`, 1},
		// The first scrape is counted once it has been answered.
		{`keyport_http_requests_total{method="GET",route="/metrics",status="200"}`, 1},
	} {
		if got := after[tc.series] - before[tc.series]; got != tc.want {
			t.Errorf("%s moved by %v, want %v", tc.series, got, tc.want)
		}
	}
	// Every request so far has been answered; the scrape itself is the one in flight.
	if got, want := after["keyport_http_requests_in_flight"], 1.0; got != want {
		t.Errorf("keyport_http_requests_in_flight = %v during a scrape of an idle server, want %v", got, want)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := after[name]; !ok {
			t.Errorf("%s missing from /metrics", name)
		}
	}
	for series := range after {
		if strings.Contains(series, "/api/nothing") || strings.Contains(series, "/nowhere") {
			t.Errorf("raw path in a metric label: %s", series)
		}
	}
}

func TestMetricsAreSeparatePerApp(t *testing.T) {
	a, b := testapp.New(t), testapp.New(t)
	a.API(t, "GET", "/api/products", "", "")
	const series = `keyport_key_verifications_total{outcome="missing"}`
	if got, want := scrape(t, a)[series], 1.0; got != want {
		t.Errorf("app a: %s = %v, want %v", series, got, want)
	}
	if got, want := scrape(t, b)[series], 0.0; got != want {
		t.Errorf("app b: %s = %v, want %v", series, got, want)
	}
}
