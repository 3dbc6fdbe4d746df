package browser

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"keyport/testapp"
)

// TestDashboard walks the dashboard the way a new user does: sign up, create a key,
// copy it, use it, revoke it. Each step is a subtest that builds on the one before; the
// first failure stops the walk.
func TestDashboard(t *testing.T) {
	a := testapp.New(t, realTime)
	tb := newTab(t, a)
	const name = "Production backend"
	var key, id string

	steps := []struct {
		name string
		run  func(tb *tab)
	}{
		{"1 signup lands on the empty state, in the system's theme", func(tb *tab) {
			tb.signup("ada@example.com", "Analytical Engines")
			if got, want := tb.path(), dashboardPath; got != want {
				tb.t.Errorf("after signup the page is %s, want %s", got, want)
			}
			if got, want := tb.text("#keys-section h2"), "No API Keys Yet"; got != want {
				tb.t.Errorf("empty state heading = %q, want %q", got, want)
			}
			tb.do("find the empty state's create button", chromedp.WaitVisible(chromedp.CSS(".empty-state button")))
			for _, theme := range []struct{ scheme, background string }{
				{"dark", "rgb(11, 11, 14)"}, {"light", "rgb(248, 248, 250)"},
			} {
				tb.colorScheme(theme.scheme)
				if got := eval[string](tb, `getComputedStyle(document.body).backgroundColor`); got != theme.background {
					tb.t.Errorf("with the system in %s mode the page background is %s, want %s", theme.scheme, got, theme.background)
				}
			}
			tb.markWindow()
		}},
		{"2 create shows the key once, with a loading state while it is made", func(tb *tab) {
			tb.openCreateDialog()
			if got, want := tb.text("#modal h2"), "Create new key"; got != want {
				tb.t.Errorf("dialog heading = %q, want %q", got, want)
			}
			// Hold the create request in the browser to see the form while it is in flight.
			paused := chromedp.Events(tb.ctx, fetch.RequestPaused)
			tb.do("intercept the create request", call(fetch.Enable, fetch.EnableParams{
				Patterns: []*fetch.RequestPattern{{URLPattern: "*" + dashboardPath + "/keys"}},
			}))
			tb.do("submit the form",
				chromedp.SendKeys(chromedp.CSS("#modal #key-name"), name),
				chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
			)
			var req fetch.EventRequestPaused
			for ev, err := range paused {
				if err != nil {
					tb.t.Fatalf("wait for the create request: %v", err)
				}
				req = ev
				break
			}
			loading := eval[map[string]any](tb, `(() => {
				const b = document.querySelector('#modal button[type=submit]');
				const s = getComputedStyle(b.querySelector('.spinner'));
				return {disabled: b.disabled, spinner: s.display !== 'none' && s.visibility === 'visible'};
			})()`)
			if loading["disabled"] != true || loading["spinner"] != true {
				tb.t.Errorf("while the key is created the submit button shows %v, want disabled with a visible spinner", loading)
			}
			tb.do("release the create request",
				call(fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: req.RequestID}),
				call(fetch.Disable, cdp.Empty{}),
				chromedp.WaitVisible(chromedp.CSS("#modal #new-key")),
			)
			if got, want := tb.text("#modal h2"), "Your API Key"; got != want {
				tb.t.Errorf("dialog heading = %q, want %q", got, want)
			}
			key = tb.text("#modal #new-key")
			if !keyRE.MatchString(key) {
				tb.t.Fatalf("the dialog shows %q, not a key", key)
			}
			if warning := tb.text("#modal .callout-warning"); !strings.Contains(warning, "not be able to see it again") {
				tb.t.Errorf("the dialog's warning is %q, want it to say the key is shown once", warning)
			}
			tb.requireNoReload()
		}},
		{"3 copy puts the key on the clipboard", func(tb *tab) {
			// The button says "Copied" for 2 s only; on a loaded machine the test may look
			// later than that, so record every label the button shows.
			eval[bool](tb, `(() => {
				const btn = document.querySelector('#modal .key-box button[data-copy]');
				window.__copyLabels = [];
				new MutationObserver(() => window.__copyLabels.push(btn.textContent))
					.observe(btn, {childList: true, characterData: true, subtree: true});
				return true;
			})()`)
			tb.do("press Copy", chromedp.Click(chromedp.CSS("#modal .key-box button[data-copy]")))
			if got := eval[string](tb, `navigator.clipboard.readText()`); got != key {
				tb.t.Errorf("clipboard = %q, want the key shown %q", got, key)
			}
			tb.do("wait for the toast", chromedp.WaitVisible(chromedp.CSS(".toast")))
			if got, want := tb.text(".toast"), "Copied to clipboard"; got != want {
				tb.t.Errorf("toast = %q, want %q", got, want)
			}
			if labels := eval[[]string](tb, `window.__copyLabels`); !slices.Contains(labels, "Copied") {
				tb.t.Errorf("copy button showed %q after copying, want it to say %q", labels, "Copied")
			}
			tb.do("wait for the toast to go by itself", chromedp.WaitNotPresent(chromedp.CSS(".toast")))
		}},
		{"4 closing the dialog leaves the new row, without a reload", func(tb *tab) {
			tb.do("press Done",
				chromedp.Click(chromedp.CSS("#modal [data-done]")),
				chromedp.WaitNotVisible(chromedp.CSS("#modal")),
			)
			tb.requireNoReload()
			rows := get(tb, "read the key rows", chromedp.AttributesAll(chromedp.CSS("#keys-tbody tr.key-row")))
			if len(rows) != 1 {
				tb.t.Fatalf("the table has %d key rows, want 1", len(rows))
			}
			id = strings.TrimPrefix(rows[0]["id"], "key-")
			if got := tb.text("#keys-tbody tr.key-row .key-name"); got != name {
				tb.t.Errorf("row name = %q, want %q", got, name)
			}
			if got, want := tb.text("#keys-tbody tr.key-row .badge-active"), "Active"; got != want {
				tb.t.Errorf("row status = %q, want %q", got, want)
			}
			if got, want := tb.text("#keys-tbody tr.key-row time"), "just now"; got != want {
				tb.t.Errorf("row created = %q, want %q", got, want)
			}
			if eval[bool](tb, `document.documentElement.outerHTML.includes(`+jsString(key)+`)`) {
				tb.t.Error("the full key is still in the page after the dialog closed")
			}
		}},
		{"4b relative times stay true on a page left open", func(tb *tab) {
			// The page's clock moves five minutes on (Date.now is the page's only clock),
			// and the tab comes back into view.
			later := eval[string](tb, `(() => {
				const real = Date.now;
				Date.now = () => real() + 5 * 60 * 1000;
				document.dispatchEvent(new Event('visibilitychange'));
				Date.now = real;
				return document.querySelector('#keys-tbody tr.key-row time').textContent;
			})()`)
			if want := "5 minutes ago"; later != want {
				tb.t.Errorf("five minutes later the row says created %q, want %q", later, want)
			}
			eval[chromedp.Void](tb, `document.dispatchEvent(new Event('visibilitychange'))`)
			if got, want := tb.text("#keys-tbody tr.key-row time"), "just now"; got != want {
				tb.t.Errorf("back to now the row says created %q, want %q", got, want)
			}
		}},
		{"5 the key works on the API", func(tb *tab) {
			resp, body := a.API(tb.t, http.MethodPost, "/api/products/create", key, `{"name":"Widget","price":9.99}`)
			if resp.StatusCode != http.StatusCreated {
				tb.t.Fatalf("POST /api/products/create with the new key: %d %s, want 201", resp.StatusCode, body)
			}
		}},
		{"6 revoke through the confirm dialog, without a reload", func(tb *tab) {
			tb.do("press Revoke",
				chromedp.Click(chromedp.CSS(`#key-`+id+` button[aria-label="Revoke `+name+`"]`)),
				chromedp.WaitVisible(chromedp.CSS("#modal .btn-danger")),
			)
			if body := tb.text("#modal"); !strings.Contains(body, "This action cannot be undone") || !strings.Contains(body, name) {
				tb.t.Errorf("confirm dialog says %q, want the key's name and \"This action cannot be undone\"", body)
			}
			tb.do("confirm",
				chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS("#key-"+id+" .badge-revoked")),
				chromedp.WaitNotVisible(chromedp.CSS("#modal")),
			)
			tb.requireNoReload()
			// The Revoke button left with its row; focus must not fall out of the page.
			tb.do("wait for focus to land", chromedp.Poll[chromedp.Void](`document.activeElement && document.activeElement !== document.body`))
			if got, want := tb.text("#key-"+id+" .badge-revoked"), "Revoked"; got != want {
				tb.t.Errorf("row status = %q, want %q", got, want)
			}
			if got := tb.text(".toast"); !strings.Contains(got, "revoked") {
				tb.t.Errorf("toast = %q, want it to say the key was revoked", got)
			}
			resp, body := a.API(tb.t, http.MethodPost, "/api/products/create", key, `{"name":"Widget","price":9.99}`)
			if resp.StatusCode != http.StatusForbidden {
				tb.t.Fatalf("POST /api/products/create with the revoked key: %d %s, want 403", resp.StatusCode, body)
			}
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, func(t *testing.T) { s.run(tb.in(t)) }) {
			return
		}
	}
	if errs := tb.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}
