package browser

import (
	"encoding/json"
	"regexp"

	"github.com/chromedp/chromedp"

	"keyport/testapp"
)

var keyRE = regexp.MustCompile(`^kp_[0-9A-Za-z]{49}$`)

const dashboardPath = "/dashboard/integrations/api"

// signup creates an account through the signup form, as a person would, and waits for
// the dashboard.
func (tb *tab) signup(email, org string) {
	tb.t.Helper()
	tb.do("sign up as "+email,
		chromedp.Navigate(tb.app.URL+"/signup"),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), testapp.Password),
		chromedp.SendKeys(chromedp.CSS("#org"), org),
		chromedp.Click(chromedp.CSS("main form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#keys-section")),
	)
}

// markWindow sets a value on window that only survives if the page is not reloaded.
func (tb *tab) markWindow() {
	tb.t.Helper()
	eval[chromedp.Void](tb, `window.__marker = 1`)
}

// requireNoReload fails the test if the page was reloaded since markWindow.
func (tb *tab) requireNoReload() {
	tb.t.Helper()
	if !eval[bool](tb, `window.__marker === 1`) {
		tb.t.Fatal("the page was reloaded: window.__marker is gone")
	}
}

// openCreateDialog presses "Create new key" and waits for the form in the dialog.
func (tb *tab) openCreateDialog() {
	tb.t.Helper()
	tb.do(`press "Create new key"`,
		chromedp.Click(chromedp.CSS("#create-key-button")),
		chromedp.WaitVisible(chromedp.CSS("#modal #key-name")),
	)
}

// createKeyInDialog fills the open create dialog, submits it and returns the key the
// dialog reveals.
func (tb *tab) createKeyInDialog(name string) string {
	tb.t.Helper()
	tb.do("create key "+name,
		chromedp.SendKeys(chromedp.CSS("#modal #key-name"), name),
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#modal #new-key")),
	)
	key := tb.text("#modal #new-key")
	if !keyRE.MatchString(key) {
		tb.t.Fatalf("the dialog shows %q, not a key", key)
	}
	return key
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b)
}
