package browser

import (
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

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
