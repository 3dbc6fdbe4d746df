package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
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

// driveUsage runs the phases, calling check (if not nil) after each phase's restart.
func driveUsage(t *testing.T, check func(phase int, r usageRun)) usageRun {
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
	if check != nil {
		check(1, r)
	}

	a.Clock.Advance(3 * time.Minute) // 00:01 the next day
	h2 := a.Clock.Now().Truncate(time.Hour)
	call("main", "POST", 4, http.StatusCreated)
	call("gone", "GET", 3, http.StatusForbidden)
	call("reader", "POST", 1, http.StatusForbidden)
	a.Restart(t)
	if check != nil {
		check(2, r)
	}

	a.Clock.Advance(8 * 24 * time.Hour) // "old" expired a day ago
	h3 := a.Clock.Now().Truncate(time.Hour)
	call("old", "GET", 2, http.StatusForbidden)
	a.Restart(t)
	if check != nil {
		check(3, r)
	}

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
	r := driveUsage(t, nil)
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

// The keys table shows each key's last 24 hours, with exact totals for screen readers and
// per hour on hover, and warns of rate limiting and rejections; the key's page shows its
// 30 days by outcome and by day.
func TestUsageOnTheDashboard(t *testing.T) {
	rowText := map[string]string{
		"main":   "main: Last 24 hours: 11 verifications: 9 valid, 2 rate limited",
		"reader": "reader: Last 24 hours: 4 verifications: 4 missing scope",
		"gone":   "gone: Last 24 hours: 6 verifications: 1 valid, 5 revoked",
		"old":    "old: Last 24 hours: 1 verification: 1 valid",
		"idle":   "idle: Last 24 hours: no verifications",
	}
	badges := map[string][]string{"main": {"Rate limited"}, "reader": {"Rejections"}, "gone": {"Rejections"}}
	driveUsage(t, func(phase int, r usageRun) {
		if phase != 2 {
			return
		}
		for name, want := range rowText {
			row := keyRowHTML(t, r.c, r.ids[name])
			if !strings.Contains(row, want) {
				t.Errorf("%s's row lacks %q:\n%s", name, want, row)
			}
			if !strings.Contains(row, `href="/dashboard/integrations/api/keys/`+r.ids[name]+`"`) {
				t.Errorf("%s's row does not link to its page", name)
			}
			for _, b := range []string{"Rate limited", "Rejections"} {
				if got, want := strings.Contains(row, ">"+b+"</span>"), slices.Contains(badges[name], b); got != want {
					t.Errorf("%s's row: %q badge shown = %v, want %v", name, b, got, want)
				}
			}
		}
		main := keyRowHTML(t, r.c, r.ids["main"])
		for _, hour := range []string{
			"<title>23:00 UTC: 7 verifications: 5 valid, 2 rate limited</title>",
			"<title>00:00 UTC: 4 verifications: 4 valid</title>",
			"<title>01:00 UTC: no verifications</title>",
		} {
			if !strings.Contains(main, hour) {
				t.Errorf("main's chart lacks %s", hour)
			}
		}
	})
}

func TestUsageKeyPage(t *testing.T) {
	r := driveUsage(t, nil)
	day1 := r.start.Truncate(24 * time.Hour)
	day2 := day1.Add(24 * time.Hour)
	for _, tc := range []struct {
		name   string
		totals [usage.NumOutcomes]int
		days   map[time.Time][usage.NumOutcomes + 1]int // by outcome, then the total
	}{
		{"main", [usage.NumOutcomes]int{9, 2, 0, 0, 0}, map[time.Time][usage.NumOutcomes + 1]int{day1: {5, 2, 0, 0, 0, 7}, day2: {4, 0, 0, 0, 0, 4}}},
		{"gone", [usage.NumOutcomes]int{1, 0, 0, 5, 0}, map[time.Time][usage.NumOutcomes + 1]int{day1: {1, 0, 0, 2, 0, 3}, day2: {0, 0, 0, 3, 0, 3}}},
		{"old", [usage.NumOutcomes]int{1, 0, 0, 0, 2}, map[time.Time][usage.NumOutcomes + 1]int{day1: {1, 0, 0, 0, 0, 1}, day2.Add(8 * 24 * time.Hour): {0, 0, 0, 0, 2, 2}}},
	} {
		resp, body := r.c.Get(dashboard + "/keys/" + r.ids[tc.name])
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s's page: status %d", tc.name, resp.StatusCode)
		}
		for o, n := range tc.totals {
			label := []string{"Valid", "Rate limited", "Missing scope", "Revoked", "Expired"}[o]
			if want := label + `</th><td class="num">` + strconv.Itoa(n) + `</td>`; !strings.Contains(body, want) {
				t.Errorf("%s's page lacks the total %q", tc.name, want)
			}
		}
		for day, counts := range tc.days {
			want := `<time datetime="` + day.Format("2006-01-02") + `">` + day.Format("Mon, Jan 2") + `</time></th>`
			for _, n := range counts {
				want += `<td class="num">` + strconv.Itoa(n) + `</td>`
			}
			if !strings.Contains(body, want) {
				t.Errorf("%s's page lacks the day %s", tc.name, want)
			}
		}
		if n := strings.Count(body, "<g><title>"); n != 30 {
			t.Errorf("%s's chart has %d bars with a title, want 30", tc.name, n)
		}
	}

	// Another organization's key, and a key that does not exist, are not found.
	other := r.a.Signup(t, "other@example.com")
	for _, path := range []string{dashboard + "/keys/" + r.ids["main"], dashboard + "/keys/key_nope"} {
		if resp, _ := other.Get(path); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s as another organization: status %d, want 404", path, resp.StatusCode)
		}
	}
}

// Revoking from the key's page reloads that page (it has no row to swap); from the list,
// the swapped row keeps its chart.
func TestRevokeFromTheKeyPage(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "kp@example.com")
	_, id := c.CreateKey("paged")
	_, other := c.CreateKey("listed")
	page := a.URL + dashboard + "/keys/" + id
	resp, _ := c.Do(http.MethodDelete, dashboard+"/keys/"+id, nil, "HX-Request: true", "HX-Current-URL: "+page)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("HX-Refresh") != "true" {
		t.Fatalf("revoke on the key page: status %d, HX-Refresh %q; want 200, true", resp.StatusCode, resp.Header.Get("HX-Refresh"))
	}
	if _, body := c.Get(dashboard + "/keys/" + id); !strings.Contains(body, "badge-revoked") || !strings.Contains(body, "revoked") {
		t.Errorf("the reloaded page does not show the key revoked:\n%s", body)
	}
	resp, body := c.Do(http.MethodDelete, dashboard+"/keys/"+other, nil, "HX-Request: true", "HX-Current-URL: "+a.URL+dashboard)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `<tr id="key-`+other+`"`) || !strings.Contains(body, "listed: Last 24 hours: no verifications") {
		t.Errorf("revoke on the list: status %d, want 200 and the row with its chart:\n%s", resp.StatusCode, body)
	}
}
