package browser

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/chromedp/cdproto/network"
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

// client returns an HTTP client signed in as the tab's user, to set up data faster
// than through the UI.
func (tb *tab) client() *testapp.Client {
	tb.t.Helper()
	res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{tb.app.URL}})
	if err != nil {
		tb.t.Fatalf("read the browser's cookies: %v", err)
	}
	u, err := url.Parse(tb.app.URL)
	if err != nil {
		tb.t.Fatal(err)
	}
	var cookies []*http.Cookie
	for _, c := range res.Cookies {
		cookies = append(cookies, &http.Cookie{Name: c.Name, Value: c.Value})
	}
	c := tb.app.NewClient(tb.t)
	c.Jar.SetCookies(u, cookies)
	return c
}

// seedKeys gives the tab's organization keys in every state the table shows, made
// over a few weeks of the app's clock (when the app runs on it): active, used (for a
// product), read-only, expiring soon, rolled and its successor, revoked.
func (tb *tab) seedKeys() {
	tb.t.Helper()
	a, c := tb.app, tb.client()
	_, legacy := c.CreateKey("Legacy importer", testapp.KeyOptions{Scopes: []string{"products:write"}})
	a.Clock.Advance(19 * 24 * time.Hour)
	_, old := c.CreateKey("Mobile app")
	a.Clock.Advance(6 * 24 * time.Hour)
	c.CreateKey("Analytics export", testapp.KeyOptions{Scopes: []string{"products:read"}, ExpiresInDays: 90})
	a.Clock.Advance(3 * 24 * time.Hour)
	if resp, body := c.Post(dashboardPath+"/keys/"+legacy+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		tb.t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	c.CreateKey("CI pipeline", testapp.KeyOptions{ExpiresInDays: 7})
	a.Clock.Advance(20 * time.Hour)
	if resp, body := c.Post(dashboardPath+"/keys/"+old+"/roll", url.Values{"grace": {"168h"}}); resp.StatusCode >= 400 {
		tb.t.Fatalf("roll: %d %s", resp.StatusCode, body)
	}
	a.Clock.Advance(3 * time.Hour)
	prod, _ := c.CreateKey("Production backend")
	a.Clock.Advance(25 * time.Minute)
	if resp, body := a.API(tb.t, http.MethodPost, "/api/products", prod, `{"name":"Widget","price":9.99}`); resp.StatusCode != http.StatusCreated {
		tb.t.Fatalf("use the key: %d %s", resp.StatusCode, body)
	}
	a.Clock.Advance(2 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.Server.Usage.Flush(ctx, a.Clock.Now(), true); err != nil {
		tb.t.Fatalf("write last-used times: %v", err)
	}
}
