package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"keyport/app"
	"keyport/handlers"
	"keyport/queries"
	"keyport/testapp"
	"keyport/usage"
)

// usageRun is a known number of each outcome, driven through the products API, verify
// and forward auth across an hour and a UTC day boundary, with graceful restarts in
// between.
type usageRun struct {
	a     *testapp.App
	c     *testapp.Client
	keys  map[string]string // key name → the key
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
	r := usageRun{a: a, c: c, keys: map[string]string{}, ids: map[string]string{}, start: a.Clock.Now()}
	for _, k := range []struct {
		name string
		opts testapp.KeyOptions
	}{
		{"main", testapp.KeyOptions{}},
		{"reader", testapp.KeyOptions{Scopes: []string{"products:read"}}},
		{"gone", testapp.KeyOptions{}},
		{"old", testapp.KeyOptions{ExpiresInDays: 7}},
		{"idle", testapp.KeyOptions{}},
		{"root", testapp.KeyOptions{Scopes: []string{"keys:verify", "keys:read"}}},
	} {
		r.keys[k.name], r.ids[k.name] = c.CreateKey(k.name, k.opts)
	}
	keys := r.keys
	call := func(name, method string, n, status int) {
		t.Helper()
		body := ""
		if method == http.MethodPost {
			body = widget
		}
		for i := range n {
			if resp, b := a.API(t, method, "/api/products", keys[name], body); resp.StatusCode != status {
				t.Fatalf("%s /api/products with %s, call %d: status %d, want %d\n%s", method, name, i+1, resp.StatusCode, status, b)
			}
		}
	}
	verify := func(name, scope string, n int, code string) {
		t.Helper()
		body := `{"key":"` + keys[name] + `","scopes":["` + scope + `"]}`
		for i := range n {
			resp, b := a.API(t, http.MethodPost, "/api/v1/keys/verify", keys["root"], body)
			if resp.StatusCode != http.StatusOK || !strings.Contains(b, `"code":"`+code+`"`) {
				t.Fatalf("verify %s, call %d: %d %s, want 200 and %s", name, i+1, resp.StatusCode, b, code)
			}
		}
	}
	forward := func(name, scope string, n, status int) {
		t.Helper()
		for i := range n {
			resp, b := a.Request(t, http.MethodGet, "/api/v1/forward-auth?scopes="+scope, "",
				"X-Keyport-Root-Key: "+keys["root"], "x-api-key: "+keys[name])
			if resp.StatusCode != status {
				t.Fatalf("forward auth for %s, call %d: status %d, want %d\n%s", name, i+1, resp.StatusCode, status, b)
			}
		}
	}

	// The rate limit is 5 a minute and the clock stands still within a phase; verify and
	// forward auth count against the verified key's limit too.
	h1 := r.start.Truncate(time.Hour)
	call("main", "GET", 5, http.StatusOK)
	call("main", "GET", 2, http.StatusTooManyRequests)
	call("reader", "POST", 3, http.StatusForbidden)
	call("gone", "GET", 1, http.StatusOK)
	if resp, _ := c.Post("/dashboard/integrations/api/keys/"+r.ids["gone"]+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}
	call("gone", "GET", 2, http.StatusForbidden)
	call("old", "GET", 1, http.StatusOK)
	verify("reader", "products:write", 2, "INSUFFICIENT_SCOPE")
	verify("gone", "products:read", 1, "REVOKED")
	forward("old", "products:read", 2, http.StatusNoContent)
	forward("main", "products:read", 1, http.StatusTooManyRequests)
	a.Restart(t)
	if check != nil {
		check(1, r)
	}

	a.Clock.Advance(3 * time.Minute) // 00:01 the next day
	h2 := a.Clock.Now().Truncate(time.Hour)
	call("main", "POST", 4, http.StatusCreated)
	call("gone", "GET", 3, http.StatusForbidden)
	call("reader", "POST", 1, http.StatusForbidden)
	forward("reader", "products:write", 1, http.StatusForbidden)
	verify("main", "products:read", 1, "VALID")
	a.Restart(t)
	if check != nil {
		check(2, r)
	}

	a.Clock.Advance(8 * 24 * time.Hour) // "old" expired a day ago
	h3 := a.Clock.Now().Truncate(time.Hour)
	call("old", "GET", 2, http.StatusForbidden)
	verify("old", "products:read", 1, "EXPIRED")
	forward("old", "products:read", 1, http.StatusForbidden)
	a.Restart(t)
	if check != nil {
		check(3, r)
	}

	// The root key counts its own verify calls; forward auth counts only the client's
	// key, not the proxy's.
	r.want = map[string]map[time.Time]usage.Counts{
		"main":   {h1: {5, 3, 0, 0, 0}, h2: {5, 0, 0, 0, 0}},
		"reader": {h1: {0, 0, 5, 0, 0}, h2: {0, 0, 2, 0, 0}},
		"gone":   {h1: {1, 0, 0, 3, 0}, h2: {0, 0, 0, 3, 0}},
		"old":    {h1: {3, 0, 0, 0, 0}, h3: {0, 0, 0, 0, 4}},
		"idle":   {},
		"root":   {h1: {3, 0, 0, 0, 0}, h2: {1, 0, 0, 0, 0}, h3: {1, 0, 0, 0, 0}},
	}
	return r
}

// Every outcome of every key check (products API, verify, forward auth) is counted per key
// and hour, and a graceful restart neither loses nor repeats a count.
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
		"main":   "main: Last 24 hours: 13 verifications: 10 valid, 3 rate limited",
		"reader": "reader: Last 24 hours: 7 verifications: 7 missing scope",
		"gone":   "gone: Last 24 hours: 7 verifications: 1 valid, 6 revoked",
		"old":    "old: Last 24 hours: 3 verifications: 3 valid",
		"idle":   "idle: Last 24 hours: no verifications",
		"root":   "root: Last 24 hours: 4 verifications: 4 valid",
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
			"<title>23:00 UTC: 8 verifications: 5 valid, 3 rate limited</title>",
			"<title>00:00 UTC: 5 verifications: 5 valid</title>",
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
		{"main", [usage.NumOutcomes]int{10, 3, 0, 0, 0}, map[time.Time][usage.NumOutcomes + 1]int{day1: {5, 3, 0, 0, 0, 8}, day2: {5, 0, 0, 0, 0, 5}}},
		{"gone", [usage.NumOutcomes]int{1, 0, 0, 6, 0}, map[time.Time][usage.NumOutcomes + 1]int{day1: {1, 0, 0, 3, 0, 4}, day2: {0, 0, 0, 3, 0, 3}}},
		{"old", [usage.NumOutcomes]int{3, 0, 0, 0, 4}, map[time.Time][usage.NumOutcomes + 1]int{day1: {3, 0, 0, 0, 0, 3}, day2.Add(8 * 24 * time.Hour): {0, 0, 0, 0, 4, 4}}},
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

// apiUsage reads GET /api/v1/keys/{id}/usage with the run's root key, a minute later
// each time so the root key's rate limit never interferes (the hour stays the same).
func apiUsage(t *testing.T, r usageRun, id, query string) (granularity string, data []handlers.UsageBucket) {
	t.Helper()
	r.a.Clock.Advance(time.Minute)
	resp, body := r.a.API(t, http.MethodGet, "/api/v1/keys/"+id+"/usage"+query, r.keys["root"], "")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("usage of %s%s: status %d\n%s", id, query, resp.StatusCode, body)
	}
	var out handlers.KeyUsage
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	return out.Granularity, out.Data
}

// usageSeries is what the API should answer: n buckets of step from start, zero but for
// those in nonzero (by start).
func usageSeries(start time.Time, step time.Duration, n int, nonzero map[time.Time]usage.Counts) []handlers.UsageBucket {
	out := make([]handlers.UsageBucket, n)
	for i := range out {
		at := start.Add(time.Duration(i) * step)
		c := nonzero[at]
		out[i] = handlers.UsageBucket{Start: at.UTC().Format("2006-01-02T15:04:05.000Z"), Valid: c[usage.Valid],
			RateLimited: c[usage.RateLimited], InsufficientScope: c[usage.InsufficientScope], Revoked: c[usage.Revoked], Expired: c[usage.Expired]}
	}
	return out
}

// The usage API answers the exact counts driven through the products API, verify and
// forward auth, by the hour up to 2 days and by UTC day beyond, empty buckets included.
func TestUsageAPI(t *testing.T) {
	check := func(what, gotGran, wantGran string, got, want []handlers.UsageBucket) {
		t.Helper()
		if gotGran != wantGran {
			t.Errorf("%s: granularity %q, want %q", what, gotGran, wantGran)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s:\n got %v\nwant %v", what, got, want)
		}
	}
	r := driveUsage(t, func(phase int, r usageRun) {
		if phase != 2 {
			return
		}
		// 00:0x the day after the first phase: its 23:00 hour and this 00:00 one.
		h1 := r.start.Truncate(time.Hour)
		h2 := h1.Add(time.Hour)
		g, data := apiUsage(t, r, r.ids["main"], "?days=1")
		check("main, 1 day", g, "hour", data, usageSeries(h2.Add(-23*time.Hour), time.Hour, 24, map[time.Time]usage.Counts{h1: {5, 3, 0, 0, 0}, h2: {5, 0, 0, 0, 0}}))
		g, data = apiUsage(t, r, r.ids["reader"], "?days=2")
		check("reader, 2 days", g, "hour", data, usageSeries(h2.Add(-47*time.Hour), time.Hour, 48, map[time.Time]usage.Counts{h1: {0, 0, 5, 0, 0}, h2: {0, 0, 2, 0, 0}}))
	})
	day1 := r.start.Truncate(24 * time.Hour)
	day10 := day1.Add(9 * 24 * time.Hour)
	day := 24 * time.Hour
	g, data := apiUsage(t, r, r.ids["old"], "")
	check("old, default 7 days", g, "day", data, usageSeries(day10.Add(-6*day), day, 7, map[time.Time]usage.Counts{day10: {0, 0, 0, 0, 4}}))
	g, data = apiUsage(t, r, r.ids["main"], "?days=10")
	check("main, 10 days", g, "day", data, usageSeries(day1, day, 10, map[time.Time]usage.Counts{day1: {5, 3, 0, 0, 0}, day1.Add(day): {5, 0, 0, 0, 0}}))
	g, data = apiUsage(t, r, r.ids["gone"], "?days=90")
	check("gone, 90 days", g, "day", data, usageSeries(day10.Add(-89*day), day, 90, map[time.Time]usage.Counts{day1: {1, 0, 0, 3, 0}, day1.Add(day): {0, 0, 0, 3, 0}}))
	g, data = apiUsage(t, r, r.ids["idle"], "?days=3")
	check("idle, 3 days", g, "day", data, usageSeries(day10.Add(-2*day), day, 3, nil))

	// Refusals: another organization's key and an unknown id are not found, days out of
	// range is a bad request, and the scope is keys:read.
	otherRoot, _ := r.a.Signup(t, "usage-other@example.com").CreateKey("other root", testapp.KeyOptions{Scopes: []string{"keys:read"}})
	for _, tc := range []struct {
		key, path   string
		status      int
		code, about string
	}{
		{otherRoot, "/api/v1/keys/" + r.ids["main"] + "/usage", 404, "not_found", "another organization's key"},
		{r.keys["root"], "/api/v1/keys/key_nope/usage", 404, "not_found", "an unknown key"},
		{r.keys["root"], "/api/v1/keys/" + r.ids["main"] + "/usage?days=0", 400, "invalid_request", "days=0"},
		{r.keys["root"], "/api/v1/keys/" + r.ids["main"] + "/usage?days=91", 400, "invalid_request", "days=91"},
		{r.keys["main"], "/api/v1/keys/" + r.ids["main"] + "/usage", 403, "insufficient_scope", "a key without keys:read"},
	} {
		r.a.Clock.Advance(time.Minute)
		resp, body := r.a.API(t, http.MethodGet, tc.path, tc.key, "")
		checkAPIError(t, resp, body, tc.status, tc.code, "")
	}
}

// Pending counts past UsageFlushAt are written at once, not at the next tick, so memory
// stays bounded however many keys are in use; with no tick due, only that can write them.
func TestUsageFlushedEarlyWhenManyPending(t *testing.T) {
	a := testapp.New(t, func(c *app.Config) { c.UsageFlushInterval = time.Hour; c.UsageFlushAt = 3 })
	c := a.Signup(t, "early@example.com")
	var ids []string
	for _, name := range []string{"a", "b", "c"} {
		key, id := c.CreateKey(name)
		ids = append(ids, id)
		if resp, body := a.API(t, http.MethodGet, "/api/products", key, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d\n%s", resp.StatusCode, body)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.Server.Counts.Writes() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("after 5 s, %d rows written, want 3 (%d pending)", a.Server.Counts.Writes(), a.Server.Counts.Pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, id := range ids {
		rows, err := a.Server.Read.ListKeyUsage(context.Background(), queries.ListKeyUsageParams{KeyID: id})
		if err != nil || len(rows) != 1 || rows[0].Valid != 1 {
			t.Errorf("%s: rows %v, %v; want one hour with 1 valid", id, rows, err)
		}
	}
}

// Rolling on the old key's page shows the new key without the list (that page has none to
// swap), and Done leads to the new key's page.
func TestRollFromTheKeyPage(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "roll-kp@example.com")
	_, id := c.CreateKey("paged")
	resp, body := c.Post(dashboard+"/keys/"+id+"/roll", url.Values{"grace": {"1h"}},
		"HX-Request: true", "HX-Current-URL: "+a.URL+dashboard+"/keys/"+id)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("roll: status %d\n%s", resp.StatusCode, body)
	}
	m := regexp.MustCompile(`href="/dashboard/integrations/api/keys/(key_\w+)" data-done>Done</a>`).FindStringSubmatch(body)
	if m == nil || m[1] == id {
		t.Fatalf("Done does not lead to the new key's page:\n%s", body)
	}
	if strings.Contains(body, `id="keys-section"`) {
		t.Errorf("the answer swaps in a key list the key's page does not have")
	}
	if resp, page := c.Get(dashboard + "/keys/" + m[1]); resp.StatusCode != http.StatusOK || !strings.Contains(page, "paged") {
		t.Errorf("the new key's page: status %d", resp.StatusCode)
	}
}

// The key's page names who created the key.
func TestKeyPageNamesTheCreator(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "maker@example.com")
	_, id := c.CreateKey("made")
	if _, body := c.Get(dashboard + "/keys/" + id); !strings.Contains(body, "by maker@example.com") {
		t.Errorf("the key's page does not name its creator:\n%s", body)
	}
}
