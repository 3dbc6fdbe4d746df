package browser

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"keyport/testapp"
)

// TestKeyUsage: a row's chart tells its totals to the keyboard (a tooltip on focus) and
// to screen readers, leads to the key's page, whose numbers are the ones counted; a key
// revoked from its own page shows as revoked there, with JavaScript and without.
func TestKeyUsage(t *testing.T) {
	a := testapp.New(t, realTime)
	tb := newTab(t, a)
	tb.signup("ada@example.com", "Analytical Engines")
	c := tb.client()
	key, id := c.CreateKey("Checkout", testapp.KeyOptions{Scopes: []string{"products:read"}})
	_, plainID := c.CreateKey("Nightly export")
	for range 3 {
		a.API(t, http.MethodGet, "/api/products", key, "")
	}
	if resp, _ := a.API(t, http.MethodPost, "/api/products", key, `{"name":"Widget","price":1}`); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST with a read-only key: status %d, want 403", resp.StatusCode)
	}
	if _, err := a.Server.Counts.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	const summary = "Last 24 hours: 4 verifications: 3 valid, 1 missing scope"

	tb.do("reload the dashboard", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#key-"+id+" a.spark")))
	if got, want := get(tb, "read the chart's text", chromedp.TextContent(chromedp.CSS("#key-"+id+" a.spark .sr-only"))), "Checkout: "+summary; got != want {
		t.Errorf("the chart's screen-reader text = %q, want %q", got, want)
	}
	tb.do("tab from the key's name to its chart",
		chromedp.Focus(chromedp.CSS("#key-"+id+" a.key-name")),
		chromedp.KeyEvent(kb.Tab),
	)
	if got := eval[string](tb, `document.activeElement.className`); got != "spark" {
		t.Fatalf("Tab from the name lands on %q, want the chart", got)
	}
	if got, want := eval[string](tb, `getComputedStyle(document.activeElement, '::after').content`), `"`+summary+`"`; got != want {
		t.Errorf("the focused chart's tooltip = %s, want %s", got, want)
	}

	tb.do("open the key's page from the chart",
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS(".usage-chart")),
	)
	if got, want := tb.path(), dashboardPath+"/keys/"+id; got != want {
		t.Errorf("the chart leads to %s, want %s", got, want)
	}
	totals := get(tb, "read the totals", chromedp.Text(chromedp.CSS("table.usage-totals tbody")))
	for _, want := range []string{"Valid\t3\t75.0%", "Missing scope\t1\t25.0%", "Revoked\t0"} {
		if !strings.Contains(totals, want) {
			t.Errorf("the totals %q lack %q", totals, want)
		}
	}

	tb.do("roll from the key's page, then Done",
		chromedp.Click(chromedp.CSS(`.page-actions button[aria-label="Roll Checkout"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#modal input[name=grace][value="1h"]`)),
		chromedp.Click(chromedp.CSS(`#modal input[name=grace][value="1h"]`)),
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#modal #new-key")),
		chromedp.Click(chromedp.CSS("#modal [data-done]")),
		chromedp.WaitVisible(chromedp.CSS(".usage-chart")),
	)
	if got := tb.path(); got == dashboardPath+"/keys/"+id || !strings.HasPrefix(got, dashboardPath+"/keys/key_") {
		t.Errorf("Done after the roll leads to %s, want the new key's page", got)
	}
	if got := tb.text(".page-header h1"); !strings.HasPrefix(got, "Checkout") {
		t.Errorf("the new key's page is titled %q", got)
	}

	tb.do("back to the rolled key's page",
		chromedp.Navigate(a.URL+dashboardPath+"/keys/"+id),
		chromedp.WaitVisible(chromedp.CSS(".usage-chart")),
	)
	tb.do("revoke from the key's page",
		chromedp.Click(chromedp.CSS(`.page-actions button[aria-label="Revoke Checkout"]`)),
		chromedp.WaitVisible(chromedp.CSS("#modal .btn-danger")),
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".page-header .badge-revoked")),
	)
	if got, want := tb.path(), dashboardPath+"/keys/"+id; got != want {
		t.Errorf("after revoking, the page is %s, want %s", got, want)
	}
	if got := get(tb, "read the flash", chromedp.TextContent(chromedp.CSS(".toast"))); !strings.Contains(got, "revoked") {
		t.Errorf("flash = %q, want it to say the key was revoked", got)
	}
	if errs := tb.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}

	t.Run("without JavaScript", func(t *testing.T) {
		tb := newTab(t, a)
		tb.disableJavaScript()
		tb.do("sign in and open a key's page", chromedp.Navigate(a.URL+"/login"),
			chromedp.SendKeys(chromedp.CSS("#email"), "ada@example.com"),
			chromedp.SendKeys(chromedp.CSS("#password"), testapp.Password),
			chromedp.Click(chromedp.CSS("main form button[type=submit]")),
			chromedp.WaitVisible(chromedp.CSS("#keys-section")),
			chromedp.Click(chromedp.CSS("#key-"+plainID+" a.key-name")),
			chromedp.WaitVisible(chromedp.CSS(".usage-chart")),
			chromedp.Click(chromedp.CSS(`.page-actions button[aria-label="Revoke Nightly export"]`)),
			chromedp.WaitVisible(chromedp.CSS("main .panel button.btn-danger")),
			chromedp.Click(chromedp.CSS("main .panel button.btn-danger")),
			chromedp.WaitVisible(chromedp.CSS("#key-"+plainID+" .badge-revoked")),
		)
	})
}
