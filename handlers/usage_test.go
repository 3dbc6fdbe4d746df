package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"keyport/app"
	"keyport/queries"
	"keyport/testapp"
	"keyport/usage"
)

// usageRun is a known number of each outcome, driven through the products API across an
// hour and a UTC day boundary, with graceful restarts in between.
type usageRun struct {
	a     *testapp.App
	c     *testapp.Client
	ids   map[string]string // key name → id
	start time.Time         // the first phase's time
	// want is each key's hourly counts, by key name.
	want map[string]map[time.Time]usage.Counts
}

func driveUsage(t *testing.T) usageRun {
	t.Helper()
	a := testapp.New(t, withRateLimit(5))
	c := a.Signup(t, "usage@example.com")
	// Tomorrow (UTC), 23:58: two minutes before an hour and a day end.
	now := a.Clock.Now()
	a.Clock.Advance(now.Truncate(24 * time.Hour).Add(24*time.Hour + 23*time.Hour + 58*time.Minute).Sub(now))
	r := usageRun{a: a, c: c, ids: map[string]string{}, start: a.Clock.Now()}
	keys := map[string]string{}
	for _, k := range []struct {
		name string
		opts testapp.KeyOptions
	}{
		{"main", testapp.KeyOptions{}},
		{"reader", testapp.KeyOptions{Scopes: []string{"products:read"}}},
		{"gone", testapp.KeyOptions{}},
		{"old", testapp.KeyOptions{ExpiresInDays: 7}},
		{"idle", testapp.KeyOptions{}},
	} {
		keys[k.name], r.ids[k.name] = c.CreateKey(k.name, k.opts)
	}
	call := func(name, method string, n, status int) {
		t.Helper()
		body := ""
		if method == http.MethodPost {
			body = widget
		}
		for i := range n {
			if resp, b := a.API(t, method, "/api/products", keys[name], body); resp.StatusCode != status {
				t.Fatalf("%s %s with %s, call %d: status %d, want %d\n%s", method, "/api/products", name, i+1, resp.StatusCode, status, b)
			}
		}
	}

	h1 := r.start.Truncate(time.Hour)
	call("main", "GET", 5, http.StatusOK)
	call("main", "GET", 2, http.StatusTooManyRequests) // 5 a minute, and the clock stands still
	call("reader", "POST", 3, http.StatusForbidden)
	call("gone", "GET", 1, http.StatusOK)
	if resp, _ := c.Post("/dashboard/integrations/api/keys/"+r.ids["gone"]+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
	call("gone", "GET", 2, http.StatusForbidden)
	call("old", "GET", 1, http.StatusOK)
	a.Restart(t)

	a.Clock.Advance(3 * time.Minute) // 00:01 the next day
	h2 := a.Clock.Now().Truncate(time.Hour)
	call("main", "POST", 4, http.StatusCreated)
	call("gone", "GET", 3, http.StatusForbidden)
	call("reader", "POST", 1, http.StatusForbidden)
	a.Restart(t)

	a.Clock.Advance(8 * 24 * time.Hour) // "old" expired a day ago
	h3 := a.Clock.Now().Truncate(time.Hour)
	call("old", "GET", 2, http.StatusForbidden)
	a.Restart(t)

	r.want = map[string]map[time.Time]usage.Counts{
		"main":   {h1: {5, 2, 0, 0, 0}, h2: {4, 0, 0, 0, 0}},
		"reader": {h1: {0, 0, 3, 0, 0}, h2: {0, 0, 1, 0, 0}},
		"gone":   {h1: {1, 0, 0, 2, 0}, h2: {0, 0, 0, 3, 0}},
		"old":    {h1: {1, 0, 0, 0, 0}, h3: {0, 0, 0, 0, 2}},
		"idle":   {},
	}
	return r
}

// Every outcome of the products API's key check is counted per key and hour, and a
// graceful restart neither loses nor repeats a count.
func TestUsageCountsProductsAPIOutcomes(t *testing.T) {
	r := driveUsage(t)
	for name, want := range r.want {
		rows, err := r.a.Server.Read.ListKeyUsage(context.Background(), queries.ListKeyUsageParams{KeyID: r.ids[name]})
		if err != nil {
			t.Fatal(err)
		}
		got := map[time.Time]usage.Counts{}
		for _, row := range rows {
			got[time.UnixMilli(row.HourStart).UTC()] = usage.Counts{row.Valid, row.RateLimited, row.InsufficientScope, row.Revoked, row.Expired}
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: stored %v, want %v", name, got, want)
		}
	}
}

// With counting off, the API works as before and nothing is counted.
func TestUsageCountingOff(t *testing.T) {
	a := testapp.New(t, func(c *app.Config) { c.NoUsageCounts = true })
	key, id := a.Signup(t, "off@example.com").CreateKey("quiet")
	if resp, body := a.API(t, "GET", "/api/products", key, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d\n%s", resp.StatusCode, body)
	}
	a.Restart(t)
	rows, err := a.Server.Read.ListKeyUsage(context.Background(), queries.ListKeyUsageParams{KeyID: id})
	if err != nil || len(rows) != 0 {
		t.Fatalf("usage rows = %v, %v; want none", rows, err)
	}
}
