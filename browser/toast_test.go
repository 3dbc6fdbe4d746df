package browser

import (
	"testing"

	"github.com/chromedp/chromedp"

	"keyport/testapp"
)

// Finding 5: the HX-Trigger header carried raw UTF-8, which browsers read as Latin-1,
// so revoking "Café" toasted `API key â€œCafÃ©â€ revoked`. The toast must read
// exactly as the server wrote it.
func TestToastWithNonASCIIName(t *testing.T) {
	a := testapp.New(t, realTime)
	tb := newTab(t, a)
	tb.signup("cafe@example.com", "Café Ünïcode")
	const name = "Café “Ünïcode” 🔑"
	owner := a.NewClient(t)
	owner.Post("/login", map[string][]string{"email": {"cafe@example.com"}, "password": {testapp.Password}})
	_, id := owner.CreateKey(name)
	tb.do("open the dashboard with the key",
		chromedp.Navigate(a.URL+dashboardPath),
		chromedp.WaitVisible(chromedp.CSS("#key-"+id)),
	)
	tb.do("revoke it",
		chromedp.Click(chromedp.CSS(`#key-`+id+` button[aria-label^="Revoke"]`)),
		chromedp.WaitVisible(chromedp.CSS("#modal .btn-danger")),
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
	)
	// Read in the same step that finds it: the toast goes away by itself.
	got := get(tb, "read the toast", chromedp.Poll[string](
		`(() => { const t = document.querySelector('.toast'); return t ? t.textContent.trim() : ''; })()`))
	if want := "API key “" + name + "” revoked"; got != want {
		t.Errorf("toast = %q, want %q", got, want)
	}
}
