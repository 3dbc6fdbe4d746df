package browser

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport/testapp"
)

// TestWithoutJavaScript creates and revokes a key with scripts off: every button falls
// back to a plain form and a full page.
func TestWithoutJavaScript(t *testing.T) {
	a := testapp.New(t, realTime)
	tb := newTab(t, a)
	tb.disableJavaScript()
	const name = "Cron job"

	tb.signup("grace@example.com", "Compilers Inc")
	if got := eval[string](tb, `typeof htmx`); got != "undefined" {
		t.Fatalf("typeof htmx = %q: JavaScript is not off", got)
	}

	tb.do(`press "Create new key"`,
		chromedp.Click(chromedp.CSS("#create-key-button")),
		chromedp.WaitVisible(chromedp.CSS("main #key-name")),
	)
	// A GET form with no fields leaves an empty query.
	if got, want := strings.TrimSuffix(tb.path(), "?"), dashboardPath+"/keys/new"; got != want {
		t.Errorf("the create form is at %s, want the page %s", got, want)
	}
	if got, want := tb.text("main h1"), "Create new key"; got != want {
		t.Errorf("the create page's h1 = %q, want %q", got, want)
	}

	tb.do("submit the form",
		chromedp.SendKeys(chromedp.CSS("main #key-name"), name),
		chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("main #new-key")),
	)
	if got, want := tb.text("main h1"), "Your API Key"; got != want {
		t.Errorf("the key page's h1 = %q, want %q", got, want)
	}
	key := tb.text("main #new-key")
	if !keyRE.MatchString(key) {
		t.Fatalf("the page shows %q, not a key", key)
	}
	if resp, body := a.API(t, http.MethodPost, "/api/products/create", key, `{"name":"Widget","price":1}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/products/create with the new key: %d %s, want 201", resp.StatusCode, body)
	}

	tb.do(`press "Done"`,
		chromedp.Click(chromedp.CSS("main [data-done]")),
		chromedp.WaitVisible(chromedp.CSS("#keys-tbody tr.key-row")),
	)
	if got, want := tb.path(), dashboardPath; got != want {
		t.Errorf("Done leads to %s, want %s", got, want)
	}
	if got := tb.text("#keys-tbody tr.key-row .key-name"); got != name {
		t.Errorf("row name = %q, want %q", got, name)
	}
	if html := get(tb, "read the page", chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, key) {
		t.Error("the dashboard shows the full key after its creation page")
	}

	tb.do(`press "Revoke"`,
		chromedp.Click(chromedp.CSS(`#keys-tbody button[aria-label="Revoke `+name+`"]`)),
		chromedp.WaitVisible(chromedp.CSS("main .panel button.btn-danger")),
	)
	if got, want := tb.text("main h1"), "Revoke API key"; got != want {
		t.Errorf("the revoke page's h1 = %q, want %q", got, want)
	}
	if body := tb.text("main"); !strings.Contains(body, "This action cannot be undone") {
		t.Errorf("the revoke page says %q, want \"This action cannot be undone\"", body)
	}
	tb.do("confirm",
		chromedp.Click(chromedp.CSS("main .panel button.btn-danger")),
		chromedp.WaitVisible(chromedp.CSS("#keys-tbody .badge-revoked")),
	)
	if got, want := tb.path(), dashboardPath; got != want {
		t.Errorf("revoking leads to %s, want %s", got, want)
	}
	// textContent: the flash fades out by itself after a few seconds, even without scripts.
	if got := get(tb, "read the flash", chromedp.TextContent(chromedp.CSS(".toast"))); !strings.Contains(got, "revoked") {
		t.Errorf("flash = %q, want it to say the key was revoked", got)
	}
	if resp, body := a.API(t, http.MethodPost, "/api/products/create", key, `{"name":"Widget","price":1}`); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("POST /api/products/create with the revoked key: %d %s, want 403", resp.StatusCode, body)
	}
	if errs := tb.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestWithoutJavaScriptReloadMakesNoSecondKey reloads the page that shows a new key: the
// browser sends the form again, and no second key is made or shown.
func TestWithoutJavaScriptReloadMakesNoSecondKey(t *testing.T) {
	a := testapp.New(t, realTime)
	tb := newTab(t, a)
	tb.disableJavaScript()
	tb.signup("grace@example.com", "Compilers Inc")
	tb.do("create a key",
		chromedp.Click(chromedp.CSS("#create-key-button")),
		chromedp.WaitVisible(chromedp.CSS("main #key-name")),
		chromedp.SendKeys(chromedp.CSS("main #key-name"), "Cron job"),
		chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("main #new-key")),
	)
	key := tb.text("main #new-key")
	tb.do("reload the key page", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#keys-tbody tr.key-row")))
	if got := get(tb, "read the flash", chromedp.TextContent(chromedp.CSS(".toast"))); !strings.Contains(got, "no second key was created") {
		t.Errorf("after the reload the page says %q, want that no second key was created", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('#keys-tbody tr.key-row').length`); n != 1 {
		t.Errorf("after the reload the list has %d keys, want 1", n)
	}
	if html := get(tb, "read the page", chromedp.OuterHTML(chromedp.CSS("html"))); strings.Contains(html, key) {
		t.Error("the page after the reload shows the key")
	}
	if errs := tb.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}
