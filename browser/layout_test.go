package browser

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"keyport/testapp"
)

// longName is the longest key name allowed, with no space to break at.
var longName = strings.Repeat("W", 100)

// viewport is a screen the dashboard must work on.
type viewport struct {
	name          string
	width, height int64
	phone         bool
}

var viewports = []viewport{
	{"phone 390x844", 390, 844, true},
	{"1024 px", 1024, 768, false},
	{"1280 px", 1280, 800, false},
}

// use sets the tab's viewport (a phone is emulated as one: touch, the viewport meta
// tag honored) and theme.
func (tb *tab) use(vp viewport, scheme string) {
	tb.t.Helper()
	opts := []chromedp.EmulateViewportOption{}
	if vp.phone {
		opts = append(opts, chromedp.EmulateMobile)
	}
	tb.do("emulate "+vp.name, chromedp.EmulateViewport(vp.width, vp.height, opts...))
	tb.colorScheme(scheme)
}

// requireNoPageOverflow fails if the page is wider than the viewport.
func (tb *tab) requireNoPageOverflow(where string) {
	tb.t.Helper()
	got := eval[map[string]float64](tb, `({page: document.documentElement.scrollWidth, viewport: window.innerWidth})`)
	if got["page"] > got["viewport"] {
		tb.t.Errorf("%s: the page is %v px wide in a %v px viewport", where, got["page"], got["viewport"])
	}
}

// reachable says "ok" if the element is displayed inside the viewport and inside every
// box that clips it (the table's scroll box, the dialog), and a click at its middle
// would hit it; otherwise what is wrong. Rows far down the page are scrolled to first,
// vertically only: a sideways scroll is what must not be needed.
const reachable = `((sel) => {
	const el = document.querySelector(sel);
	if (!el) return 'missing';
	let r = el.getBoundingClientRect();
	if (!el.closest('dialog') && (r.top < 0 || r.bottom > innerHeight)) {
		window.scrollBy(0, r.top - innerHeight / 2);
		r = el.getBoundingClientRect();
	}
	if (r.width === 0 || r.height === 0) return 'not displayed';
	const clip = {left: 0, top: 0, right: innerWidth, bottom: innerHeight};
	for (let p = el.parentElement; p && p !== document.documentElement; p = p.parentElement) {
		const s = getComputedStyle(p);
		if (s.overflowX === 'visible' && s.overflowY === 'visible') continue;
		const b = p.getBoundingClientRect();
		clip.left = Math.max(clip.left, b.left); clip.right = Math.min(clip.right, b.right);
		clip.top = Math.max(clip.top, b.top); clip.bottom = Math.min(clip.bottom, b.bottom);
	}
	const px = (n) => Math.round(n);
	if (r.left < clip.left - 0.5 || r.right > clip.right + 0.5 || r.top < clip.top - 0.5 || r.bottom > clip.bottom + 0.5) {
		return 'outside the visible area: ' + px(r.left) + '..' + px(r.right) + ' x ' + px(r.top) + '..' + px(r.bottom) +
			', visible ' + px(clip.left) + '..' + px(clip.right) + ' x ' + px(clip.top) + '..' + px(clip.bottom);
	}
	const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
	if (!hit || (hit !== el && !el.contains(hit))) return 'covered by ' + (hit ? hit.outerHTML.slice(0, 100) : 'nothing');
	return 'ok';
})(%s)`

// requireReachable fails unless every element matching one of sels is reachable.
func (tb *tab) requireReachable(where string, sels ...string) {
	tb.t.Helper()
	for _, sel := range sels {
		n := eval[int](tb, `document.querySelectorAll(`+jsString(sel)+`).length`)
		if n == 0 {
			tb.t.Errorf("%s: nothing matches %s", where, sel)
		}
		for i := range n {
			one := fmt.Sprintf(`document.querySelectorAll(%s)[%d]`, jsString(sel), i)
			// The selector is resolved in the page: mark the element and reach it by the mark.
			if eval[bool](tb, one+`.closest('[hidden]') !== null`) {
				continue // hidden on purpose, like the dialog's question before it is asked
			}
			eval[chromedp.Void](tb, one+`.setAttribute('data-reach', '')`)
			if got := eval[string](tb, fmt.Sprintf(reachable, jsString("[data-reach]"))); got != "ok" {
				tb.t.Errorf("%s: %s #%d: %s", where, sel, i+1, got)
			}
			eval[chromedp.Void](tb, one+`.removeAttribute('data-reach')`)
		}
	}
}

// requireDialogFits fails unless the open dialog is inside the viewport with all its
// buttons reachable.
func (tb *tab) requireDialogFits(where string) {
	tb.t.Helper()
	tb.do("let the dialog settle", chromedp.Poll[chromedp.Void](`document.getAnimations().every((a) => a.playState !== 'running')`))
	r := eval[map[string]float64](tb, `(() => { const r = document.querySelector('#modal').getBoundingClientRect();
		return {left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: innerWidth, height: innerHeight}; })()`)
	if r["left"] < 0 || r["top"] < 0 || r["right"] > r["width"] || r["bottom"] > r["height"] {
		tb.t.Errorf("%s: the dialog spans %v..%v x %v..%v in a %vx%v viewport", where, r["left"], r["right"], r["top"], r["bottom"], r["width"], r["height"])
	}
	tb.requireReachable(where, "#modal .modal-footer .btn:not([hidden])")
	tb.requireNoPageOverflow(where)
}

// TestLayout shows the dashboard on a phone, at 1024 and at 1280 px, light and dark,
// with a key name and a second organization's name of 100 characters and no space:
// the page never grows sideways, every header link, the organization menu, every
// key's actions and every dialog button can be seen and pressed.
func TestLayout(t *testing.T) {
	a := testapp.New(t)
	tb := newTab(t, a)
	tb.signup("ada@example.com", "Analytical Engines")
	tb.seedKeys()
	c := tb.client()
	first := orgOf(t, a, "ada@example.com")
	if resp, body := c.Post("/dashboard/orgs", url.Values{"name": {strings.Repeat("O", 100)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create a second organization: %d %s", resp.StatusCode, body)
	}
	if resp, body := c.Post("/dashboard/orgs/"+first+"/switch", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("switch back: %d %s", resp.StatusCode, body)
	}
	longKey, longID := c.CreateKey(longName)
	_, gone := c.CreateKey(longName + "")
	if resp, body := c.Post(dashboardPath+"/keys/"+gone+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	c.Get(dashboardPath) // takes the revoke's flash message, which would cover buttons for a while
	for _, body := range []string{`{"name":"` + strings.Repeat("P", 200) + `","price":1}`, `{"name":"Widget","price":9.99}`} {
		if resp, got := a.API(t, http.MethodPost, "/api/products", longKey, body); resp.StatusCode != http.StatusCreated {
			t.Fatalf("create a product: %d %s", resp.StatusCode, got)
		}
	}
	longRevoke := `#keys-tbody button[aria-label="Revoke ` + longName + `"]`
	longRoll := `#keys-tbody button[aria-label="Roll ` + longName + `"]`

	for _, vp := range viewports {
		for _, scheme := range []string{"light", "dark"} {
			t.Run(vp.name+" "+scheme, func(t *testing.T) {
				tb := tb.in(t)
				tb.use(vp, scheme)
				tb.do("open the dashboard", chromedp.Navigate(a.URL+dashboardPath), chromedp.WaitVisible(chromedp.CSS("#keys-tbody .badge-revoked")))
				tb.requireNoPageOverflow("keys")
				tb.requireReachable("keys", "#keys-tbody td.actions .btn", "#create-key-button", ".filter a", ".app-header .nav a", ".app-header .nav button", ".app-header summary")
				tb.do("open the organization menu", chromedp.Click(chromedp.CSS(".org-switcher summary")), chromedp.Poll[chromedp.Void](`document.querySelector('.org-switcher').open`))
				tb.requireReachable("organization menu", ".org-menu a", ".org-menu button")
				tb.requireNoPageOverflow("organization menu")
				tb.do("close the organization menu", chromedp.Click(chromedp.CSS(".org-switcher summary")), chromedp.Poll[chromedp.Void](`!document.querySelector('.org-switcher').open`))
				if vp.phone && scheme == "light" {
					tb.checkA11y("keys as cards on a phone") // both themes
					tb.use(vp, scheme)
				}
				name := eval[map[string]any](tb, `(() => { const n = document.querySelector('#keys-tbody .key-name[title="`+longName+`"]');
					return {cut: n.scrollWidth > n.clientWidth, title: n.title}; })()`)
				if name["cut"] != true || name["title"] != longName {
					t.Errorf("the long name is shown %v, want cut short with the full name in its title", name)
				}

				for what, button := range map[string]string{"revoke dialog": longRevoke, "roll dialog": longRoll} {
					tb.do("open the "+what, chromedp.Click(chromedp.CSS(button)), chromedp.WaitVisible(chromedp.CSS("#modal .modal-footer")))
					tb.requireDialogFits(what)
					tb.do("press Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS("#modal")))
				}

				tb.openCreateDialog()
				tb.requireDialogFits("create dialog")
				tb.createKeyInDialog(longName)
				tb.requireDialogFits("key dialog")
				tb.requireReachable("key dialog", "#modal .key-box button[data-copy]")
				tb.do("press Done", chromedp.Click(chromedp.CSS("#modal [data-done]")), chromedp.WaitNotVisible(chromedp.CSS("#modal")))
				tb.requireNoPageOverflow("keys after a create")

				// The key's own page shows the whole name.
				tb.do("open the key's page", chromedp.Navigate(a.URL+dashboardPath+"/keys/"+longID), chromedp.WaitVisible(chromedp.CSS("main h1")))
				tb.requireNoPageOverflow("key page")
				if got := tb.text("main h1"); !strings.Contains(got, longName) {
					t.Errorf("the key page's heading is %q, want the full name", got)
				}
				tb.requireReachable("key page", "main .page-actions .btn")

				// The pages that stand in for the dialogs without JavaScript.
				for _, page := range []string{"/keys/new", "/keys/" + longID + "/revoke", "/keys/" + longID + "/roll"} {
					tb.do("open "+page, chromedp.Navigate(a.URL+dashboardPath+page), chromedp.WaitVisible(chromedp.CSS("main .panel")))
					tb.requireNoPageOverflow(page)
					tb.requireReachable(page, "main .panel .modal-footer .btn")
				}

				for _, page := range []string{"/dashboard/audit", "/dashboard/products"} {
					tb.do("open "+page, chromedp.Navigate(a.URL+page), chromedp.WaitVisible(chromedp.CSS("main tbody tr")))
					tb.requireNoPageOverflow(page)
				}
				if !vp.phone {
					// The audit log's last columns are in view, not behind a sideways scroll.
					tb.do("open the audit log", chromedp.Navigate(a.URL+"/dashboard/audit"), chromedp.WaitVisible(chromedp.CSS("main tbody tr")))
					tb.requireReachable("audit", "main tbody tr:first-child td:last-child code")
					tb.do("open the products", chromedp.Navigate(a.URL+"/dashboard/products"), chromedp.WaitVisible(chromedp.CSS("main tbody tr")))
					tb.requireReachable("products", "main tbody tr td:last-child code.hint")
				}
			})
		}
	}

	t.Run("phone: a new organization's first key", func(t *testing.T) {
		tb := newTab(t, a)
		tb.use(viewports[0], "light")
		tb.signup("grace@example.com", "Compilers Inc")
		tb.do(`press "Create new key"`,
			chromedp.Click(chromedp.CSS(".empty-state button")),
			chromedp.WaitVisible(chromedp.CSS("#modal #key-name")),
		)
		tb.requireDialogFits("create dialog")
		tb.createKeyInDialog(longName)
		tb.requireDialogFits("key dialog")
		tb.requireReachable("key dialog", "#modal .key-box button[data-copy]")
	})
}

// TestKeyDialogAsksBeforeClosingUncopied: Escape or a click outside the one-time key
// dialog asks first while the key was not copied; after Copy they just close.
func TestKeyDialogAsksBeforeClosingUncopied(t *testing.T) {
	a := testapp.New(t, realTime)
	tb := newTab(t, a)
	tb.signup("ada@example.com", "Analytical Engines")
	tb.openCreateDialog()
	tb.createKeyInDialog("Uncopied")
	confirmShown := `!document.querySelector('#close-confirm').hidden && document.querySelector('#modal').open`

	tb.do("press Escape", chromedp.KeyEvent(kb.Escape), chromedp.Poll[chromedp.Void](confirmShown))
	if !eval[bool](tb, `document.activeElement === document.querySelector('#close-confirm [data-keep-open]')`) {
		t.Errorf("asking, focus is on %s, want Go back", tb.activeElement())
	}
	tb.requireDialogFits("the question")
	tb.do(`press "Go back"`, chromedp.Click(chromedp.CSS("#close-confirm [data-keep-open]")),
		chromedp.Poll[chromedp.Void](`document.querySelector('#close-confirm').hidden && !document.querySelector('[data-done]').hidden`))

	// A click on the backdrop: the top left corner is outside the dialog.
	tb.do("click outside the dialog", chromedp.MouseClickXY(3, 3), chromedp.Poll[chromedp.Void](confirmShown))
	tb.do(`press "Close without copying"`, chromedp.Click(chromedp.CSS("#close-confirm [data-close-modal]")), chromedp.WaitNotVisible(chromedp.CSS("#modal")))
	if eval[bool](tb, `!!document.querySelector('#new-key')`) {
		t.Error("the key is still in the page after the dialog closed")
	}

	tb.openCreateDialog()
	tb.createKeyInDialog("Copied")
	tb.do("press Copy", chromedp.Click(chromedp.CSS("#modal .key-box button[data-copy]")), chromedp.WaitVisible(chromedp.CSS(".toast-success")))
	tb.do("press Escape", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(chromedp.CSS("#modal")))
	if errs := tb.consoleErrors(); len(errs) > 0 {
		t.Errorf("the page logged errors:\n%s", strings.Join(errs, "\n"))
	}
}

// TestCreateKeepsHideRevoked: with revoked keys hidden, creating a key leaves them
// hidden.
func TestCreateKeepsHideRevoked(t *testing.T) {
	a := testapp.New(t, realTime)
	tb := newTab(t, a)
	tb.signup("ada@example.com", "Analytical Engines")
	c := tb.client()
	_, id := c.CreateKey("Old")
	if resp, body := c.Post(dashboardPath+"/keys/"+id+"/revoke", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	tb.do("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#keys-tbody .badge-revoked")))
	tb.do(`press "Hide revoked"`, chromedp.Click(chromedp.CSS(".filter a")), chromedp.WaitNotPresent(chromedp.CSS("#keys-tbody .badge-revoked")))
	tb.openCreateDialog()
	tb.createKeyInDialog("New")
	tb.do("press Done", chromedp.Click(chromedp.CSS("#modal [data-done]")), chromedp.WaitNotVisible(chromedp.CSS("#modal")))
	if n := eval[int](tb, `document.querySelectorAll('#keys-tbody .badge-revoked').length`); n != 0 {
		t.Errorf("after the create the list shows %d revoked keys, want them still hidden", n)
	}
	if got, want := tb.text(".filter a"), "Show revoked"; got != want {
		t.Errorf("the filter link says %q, want %q", got, want)
	}
	if got := tb.text("#keys-tbody tr.key-row .key-name"); got != "New" {
		t.Errorf("the first row is %q, want the new key", got)
	}
}
