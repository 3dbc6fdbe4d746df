package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"keyport/app"
	"keyport/testapp"
)

func withRateLimit(n int) testapp.Option {
	return func(c *app.Config) { c.KeyRateLimit = n }
}

func rateHeaders(resp *http.Response) [3]string {
	h := resp.Header
	return [3]string{h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), h.Get("RateLimit-Reset")}
}

func TestRateLimitRefusesTheRequestAfterTheLimit(t *testing.T) {
	a := testapp.New(t, withRateLimit(5)) // one request back every 12 s
	c := a.Signup(t, "rl@example.com")
	key, _ := c.CreateKey("limited")
	other, _ := c.CreateKey("other")

	for i := 1; i <= 5; i++ {
		resp, body := a.API(t, "GET", "/api/products", key, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200\n%s", i, resp.StatusCode, body)
		}
		want := [3]string{"5", strconv.Itoa(5 - i), strconv.Itoa(12 * i)}
		if got := rateHeaders(resp); got != want {
			t.Fatalf("request %d: RateLimit-Limit/Remaining/Reset = %q, want %q", i, got, want)
		}
	}

	resp, body := a.API(t, "GET", "/api/products", key, "")
	if got, want := resp.StatusCode, http.StatusTooManyRequests; got != want {
		t.Fatalf("request 6: status %d, want %d\n%s", got, want, body)
	}
	if !strings.Contains(body, `"code":"rate_limited"`) || !strings.Contains(body, `"message":"Rate limit exceeded`) {
		t.Errorf("request 6 body = %s, want a rate_limited error", body)
	}
	if got, want := resp.Header.Get("Retry-After"), "12"; got != want {
		t.Errorf("Retry-After = %q, want %q", got, want)
	}
	if got, want := rateHeaders(resp), [3]string{"5", "0", "60"}; got != want {
		t.Errorf("429: RateLimit headers = %q, want %q", got, want)
	}

	// Other keys have their own limit.
	if resp, _ := a.API(t, "GET", "/api/products", other, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("another key: status %d, want 200", resp.StatusCode)
	}

	// Refused requests use nothing: after 12 s exactly one more goes through.
	a.Clock.Advance(11 * time.Second)
	if resp, _ := a.API(t, "GET", "/api/products", key, ""); resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("after 11 s: status %d, Retry-After %q; want 429 and 1", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	a.Clock.Advance(time.Second)
	resp, _ = a.API(t, "GET", "/api/products", key, "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after 12 s: status %d, want 200", resp.StatusCode)
	}
	if got, want := rateHeaders(resp), [3]string{"5", "0", "60"}; got != want {
		t.Errorf("after 12 s: RateLimit headers = %q, want %q", got, want)
	}

	// A minute of quiet gives the whole burst back.
	a.Clock.Advance(time.Minute)
	resp, _ = a.API(t, "GET", "/api/products", key, "")
	if got, want := rateHeaders(resp), [3]string{"5", "4", "12"}; resp.StatusCode != http.StatusOK || got != want {
		t.Errorf("after a minute: status %d, headers %q; want 200 and %q", resp.StatusCode, got, want)
	}
}

// Every answer to a request with a valid key carries the headers, errors included; a
// request without a valid key is not counted and gets none.
func TestRateLimitHeadersOnAuthenticatedErrors(t *testing.T) {
	a := testapp.New(t, withRateLimit(100))
	c := a.Signup(t, "rlh@example.com")
	readOnly, _ := c.CreateKey("read only", testapp.KeyOptions{Scopes: []string{"products:read"}})

	tests := []struct {
		name, method, path, key, body string
		status                        int
		headers                       bool
	}{
		{"ok", "GET", "/api/products", readOnly, "", 200, true},
		{"insufficient scope", "POST", "/api/products", readOnly, `{"name":"x","price":1}`, 403, true},
		{"not found", "GET", "/api/products/prod_nope", readOnly, "", 404, true},
		{"bad limit", "GET", "/api/products?limit=0", readOnly, "", 400, true},
		{"no key", "GET", "/api/products", "", "", 401, false},
		{"unknown key", "GET", "/api/products", "kp_" + strings.Repeat("0", 49), "", 403, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := a.API(t, tt.method, tt.path, tt.key, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			if got := resp.Header.Get("RateLimit-Limit") != ""; got != tt.headers {
				t.Errorf("RateLimit-Limit present = %v, want %v", got, tt.headers)
			}
		})
	}
	// Four counted requests so far.
	resp, _ := a.API(t, "GET", "/api/products", readOnly, "")
	if got, want := resp.Header.Get("RateLimit-Remaining"), "95"; got != want {
		t.Errorf("RateLimit-Remaining = %q, want %q", got, want)
	}
}

func TestRateLimitZeroIsUnlimited(t *testing.T) {
	a := testapp.New(t, withRateLimit(0))
	c := a.Signup(t, "unl@example.com")
	key, _ := c.CreateKey("unlimited")
	for i := range 700 {
		resp, _ := a.API(t, "GET", "/api/products?limit=1", key, "")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200", i+1, resp.StatusCode)
		}
		if resp.Header.Get("RateLimit-Limit") != "" {
			t.Fatalf("unlimited server sent RateLimit-Limit %q", resp.Header.Get("RateLimit-Limit"))
		}
	}
}

// Two processes on one database with -key-rate-limit-store shared let a key through its
// limit once between them; with local stores each would let it through in full. Both
// engines: shared is the default on PostgreSQL and may be chosen on SQLite.
func TestRateLimitSharedStoreCountsAcrossProcesses(t *testing.T) {
	shared := func(c *app.Config) { c.KeyRateLimitStore = "shared" }
	a := testapp.New(t, withRateLimit(5), shared)
	b := testapp.New(t, withRateLimit(5), shared, func(c *app.Config) { c.DBPath = a.DBPath; c.Now = a.Clock.Now })
	key, _ := a.Signup(t, "shared@example.com").CreateKey("shared")
	allowed := 0
	// On SQLite b learns of a key made by a within its watch interval (the key filter).
	for deadline := time.Now().Add(2 * time.Second); ; {
		resp, body := b.API(t, "GET", "/api/products", key, "")
		if resp.StatusCode == http.StatusOK {
			allowed++
			break
		}
		if resp.StatusCode != http.StatusForbidden || time.Now().After(deadline) {
			t.Fatalf("b never accepted the key made on a: %d\n%s", resp.StatusCode, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i := range 9 {
		app := a
		if i%2 == 1 {
			app = b
		}
		if resp, _ := app.API(t, "GET", "/api/products", key, ""); resp.StatusCode == http.StatusOK {
			allowed++
		}
	}
	if allowed != 5 {
		t.Errorf("%d of 10 requests over two processes let through, want the limit, 5", allowed)
	}
	// A refusal is remembered by the process that saw it; the bucket refills for both.
	a.Clock.Advance(12 * time.Second)
	for i, app := range []*testapp.App{b, a} {
		resp, body := app.API(t, "GET", "/api/products", key, "")
		if want := []int{http.StatusOK, http.StatusTooManyRequests}[i]; resp.StatusCode != want {
			t.Errorf("after 12 s, request %d: %d, want %d\n%s", i+1, resp.StatusCode, want, body)
		}
	}
}

// Any change to any key empties the key cache, and with it the cached keys' handles to
// their buckets; the buckets themselves live on in the limiter, so the limit holds.
func TestRateLimitOutlivesTheKeyCache(t *testing.T) {
	a := testapp.New(t, withRateLimit(3))
	c := a.Signup(t, "rl@example.com")
	key, _ := c.CreateKey("limited")
	_, otherID := c.CreateKey("other")
	for i := 1; i <= 2; i++ {
		if resp, body := a.API(t, "GET", "/api/products", key, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: status %d, want 200\n%s", i, resp.StatusCode, body)
		}
	}
	if resp, _ := c.Post(dashboard+"/keys/"+otherID+"/revoke", url.Values{}); resp.StatusCode >= 400 {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
	resp, _ := a.API(t, "GET", "/api/products", key, "")
	if got := rateHeaders(resp); resp.StatusCode != http.StatusOK || got[1] != "0" {
		t.Fatalf("request 3, after the cache was emptied: status %d, remaining %q; want 200 and 0", resp.StatusCode, got[1])
	}
	if resp, _ := a.API(t, "GET", "/api/products", key, ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("request 4: status %d, want 429", resp.StatusCode)
	}
}
