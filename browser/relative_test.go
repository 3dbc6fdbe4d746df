package browser

import (
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keyport/handlers"
	"keyport/testapp"
)

// TestRelativeTimes checks that app.js words times the way the server does: a table
// with weeks of history, its times redrawn in the page, reads the same.
func TestRelativeTimes(t *testing.T) {
	a := testapp.New(t) // the app's clock, moved on while the keys are made
	tb := newTab(t, a)
	tb.signup("ada@example.com", "Analytical Engines")
	tb.seedKeys()
	tb.do("reload the dashboard", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#keys-tbody .badge-revoked")))

	const times = `[...document.querySelectorAll('time[data-relative]')].map((e) => e.textContent)`
	server := eval[[]string](tb, times)
	browser := eval[[]string](tb, `document.dispatchEvent(new Event('visibilitychange')), `+times)
	if !slices.Equal(browser, server) {
		t.Errorf("the page redraws the times as\n%q\nthe server wrote\n%q", browser, server)
	}
	if len(slices.Compact(slices.Clone(server))) < 5 {
		t.Errorf("the seeded table has too few different times to compare: %q", server)
	}
}

// relativeAges are ages (now minus the time; negative: in the future) and the words for
// them, from 0 s to beyond 400 days, across every unit and on both sides of each switch.
// Both the server (handlers.Relative) and app.js must word each age so.
var relativeAges = []struct {
	age   time.Duration
	words string
}{
	{0, "just now"},
	{10 * time.Second, "just now"},
	{30 * time.Second, "just now"},
	{50 * time.Second, "1 minute ago"},
	{2 * time.Minute, "2 minutes ago"},
	{10 * time.Minute, "10 minutes ago"},
	{44 * time.Minute, "44 minutes ago"},
	{50 * time.Minute, "1 hour ago"},
	{89 * time.Minute, "1 hour ago"},
	{100 * time.Minute, "2 hours ago"},
	{5 * time.Hour, "5 hours ago"},
	{35 * time.Hour, "35 hours ago"},
	{37 * time.Hour, "2 days ago"},
	{3 * day, "3 days ago"},
	{44 * day, "44 days ago"},
	{46 * day, "2 months ago"},
	{100 * day, "3 months ago"},
	{400 * day, "13 months ago"},
	{547 * day, "18 months ago"},
	{549 * day, "2 years ago"},
	{1000 * day, "3 years ago"},
	{-10 * time.Second, "in a few seconds"},
	{-10 * time.Minute, "in 10 minutes"},
	{-time.Hour, "in 1 hour"},
	{-7 * day, "in 7 days"},
	{-30 * day, "in 30 days"},
	{-90 * day, "in 3 months"},
	{-365 * day, "in 12 months"},
}

const day = 24 * time.Hour

// The page may reword its times a few seconds after the server's now; each age's words
// must hold for that long, or the comparison would depend on the machine's speed.
const relativeSlack = 5 * time.Second

// TestRelativeTimesParity checks app.js against the server over a table of ages: times
// added to a page are reworded by app.js as handlers.Relative words them.
func TestRelativeTimesParity(t *testing.T) {
	a := testapp.New(t)
	now := a.Clock.Now()
	ages := make([]int64, len(relativeAges))
	for i, tt := range relativeAges {
		for _, slack := range []time.Duration{0, relativeSlack} {
			if got := handlers.Relative(now.Add(-tt.age-slack), now); got != tt.words {
				t.Errorf("server: age %v (+%v) reads %q, want %q", tt.age, slack, got, tt.words)
			}
		}
		ages[i] = tt.age.Milliseconds()
	}

	tb := newTab(t, a)
	tb.do("open the sign-in page", chromedp.Navigate(a.URL+"/login"), chromedp.WaitVisible(chromedp.CSS("main form")))
	agesJSON, _ := json.Marshal(ages) // a slice of numbers always marshals
	got := eval[[]string](tb, `(() => {
		const els = `+string(agesJSON)+`.map((age) => {
			const el = document.createElement('time');
			el.setAttribute('data-relative', '');
			el.setAttribute('datetime', new Date(`+strconv.FormatInt(now.UnixMilli(), 10)+` - age).toISOString());
			return document.body.appendChild(el);
		});
		document.dispatchEvent(new Event('visibilitychange'));
		return els.map((el) => el.textContent);
	})()`)
	for i, tt := range relativeAges {
		if i >= len(got) || got[i] != tt.words {
			t.Errorf("app.js: age %v reads %q, want %q", tt.age, got[i:min(i+1, len(got))], tt.words)
		}
	}
}

// A key made 50 minutes ago reads the same before and after app.js rewords the page.
func TestFiftyMinutesOldKey(t *testing.T) {
	a := testapp.New(t)
	tb := newTab(t, a)
	tb.signup("fifty@example.com", "Fifty")
	_, id := tb.client().CreateKey("fifty minutes")
	a.Clock.Advance(50 * time.Minute)
	tb.do("reload the dashboard", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#key-"+id)))

	cell := "#key-" + id + " td:nth-child(3) time"
	server := tb.text(cell)
	eval[chromedp.Void](tb, `document.dispatchEvent(new Event('visibilitychange'))`)
	if browser := tb.text(cell); server != "1 hour ago" || browser != server {
		t.Errorf("created 50 minutes ago: the server wrote %q, app.js rewrote it %q; want %q both", server, browser, "1 hour ago")
	}
}
