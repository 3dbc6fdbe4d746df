package browser

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keyport/testapp"
)

// TestKeyStatusWords: a new 7-day key is not "Expiring soon" until it is past half its
// life, and a revoked key says when it was revoked instead of when it would expire.
func TestKeyStatusWords(t *testing.T) {
	a := testapp.New(t)
	tb := newTab(t, a)
	tb.signup("ada@example.com", "Analytical Engines")
	tb.openCreateDialog()
	tb.do("choose 7 days", chromedp.SetValue(chromedp.CSS("#modal #key-expiry"), "7"))
	tb.createKeyInDialog("Weekly")
	tb.do("press Done", chromedp.Click(chromedp.CSS("#modal [data-done]")), chromedp.WaitNotVisible(chromedp.CSS("#modal")))
	row := `#keys-tbody tr.key-row`
	if got, want := tb.text(row+" td.status .badge"), "Active"; got != want {
		t.Errorf("a new 7-day key is badged %q, want %q", got, want)
	}
	if got, want := tb.text(row+" td.expires"), "in 7 days"; got != want {
		t.Errorf("a new 7-day key expires %q, want %q", got, want)
	}

	a.Clock.Advance(4 * 24 * time.Hour)
	tb.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(row)))
	if got, want := tb.text(row+" td.status .badge"), "Expiring soon"; got != want {
		t.Errorf("past half its life the key is badged %q, want %q", got, want)
	}

	tb.do("revoke it",
		chromedp.Click(chromedp.CSS(row+` button[aria-label="Revoke Weekly"]`)),
		chromedp.WaitVisible(chromedp.CSS("#modal .btn-danger")),
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(row+" .badge-revoked")),
	)
	for _, when := range []string{"at once", "after a reload"} {
		if got := tb.text(row + " td.expires"); got != "Revoked just now" {
			t.Errorf("%s the revoked key's expiry cell says %q, want %q", when, got, "Revoked just now")
		}
		tb.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS(row+" .badge-revoked")))
	}
	tb.use(viewports[0], "light")
	if got := tb.text(row + " td.expires"); got != "Revoked just now" {
		t.Errorf("on a phone the revoked key's card says %q, want %q", got, "Revoked just now")
	}
}
