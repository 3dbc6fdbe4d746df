package browser

import (
	_ "embed"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport/testapp"
)

// axeSource is axe-core, pinned and vendored (see testdata/axe/README.md).
//
//go:embed testdata/axe/axe.min.js
var axeSource string

// axeViolation is one failed axe rule with the elements that fail it.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	URL    string `json:"helpUrl"`
	Nodes  []struct {
		Target  string `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// Only serious and critical violations fail the test; axe's moderate and minor ones
// are mostly best practices, printed by -v for a human to judge.
//
// The theme changes only colors, so the dark pass runs only the contrast rule.
const runAxe = `axe.run(document, %s).then((r) => r.violations.map((v) => ({
	id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
	nodes: v.nodes.map((n) => ({target: n.target.join(' '), summary: n.failureSummary})),
})))`

// checkA11y runs axe-core on the page as it is now, in the light and the dark theme,
// and fails the test on any serious or critical violation.
func (tb *tab) checkA11y(state string) {
	tb.t.Helper()
	if !eval[bool](tb, `typeof axe === 'object'`) {
		// DevTools evaluation is not bound by the page's CSP, so the page needs no change.
		get(tb, "inject axe-core", chromedp.Evaluate[chromedp.Void](axeSource))
	}
	for _, pass := range []struct{ scheme, options string }{
		{"light", `{resultTypes: ['violations']}`},
		{"dark", `{resultTypes: ['violations'], runOnly: ['color-contrast']}`},
	} {
		scheme := pass.scheme
		tb.colorScheme(scheme)
		// axe reads computed colors: a dialog fading in or a button's color transition
		// after the theme switch would be measured halfway.
		tb.do("wait for animations to finish", chromedp.Poll[chromedp.Void](
			`document.getAnimations().every((a) => a.playState !== 'running')`))
		for _, v := range eval[[]axeViolation](tb, fmt.Sprintf(runAxe, pass.options)) {
			var b strings.Builder
			fmt.Fprintf(&b, "%s, %s theme: %s (%s): %s\n    %s", state, scheme, v.ID, v.Impact, v.Help, v.URL)
			for _, n := range v.Nodes {
				fmt.Fprintf(&b, "\n    - %s\n      %s", n.Target, strings.ReplaceAll(n.Summary, "\n", "\n      "))
			}
			if v.Impact == "serious" || v.Impact == "critical" {
				tb.t.Error(b.String())
			} else {
				tb.t.Log(b.String())
			}
		}
	}
	tb.colorScheme("light")
}

// TestAccessibility runs axe-core on every page and on the dashboard with each dialog
// open.
func TestAccessibility(t *testing.T) {
	a := testapp.New(t, realTime)
	tb := newTab(t, a)

	for _, path := range []string{"/signup", "/login"} {
		tb.do("open "+path, chromedp.Navigate(a.URL+path), chromedp.WaitVisible(chromedp.CSS("main form")))
		tb.checkA11y(path)
	}
	tb.signup("ada@example.com", "Analytical Engines")
	tb.checkA11y("empty dashboard")

	tb.openCreateDialog()
	tb.checkA11y("create dialog")
	tb.do("submit a blank name",
		chromedp.SendKeys(chromedp.CSS("#modal #key-name"), "   "),
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#modal .form-error")),
	)
	tb.checkA11y("create dialog with an error")
	tb.do("clear the name", chromedp.Clear(chromedp.CSS("#modal #key-name")))
	tb.createKeyInDialog("Production backend")
	tb.checkA11y("key dialog")
	tb.do("close the key dialog",
		chromedp.Click(chromedp.CSS("#modal [data-done]")),
		chromedp.WaitNotVisible(chromedp.CSS("#modal")),
	)

	tb.seedKeys()
	tb.do("reload the dashboard", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#keys-tbody .badge-revoked")))
	tb.checkA11y("dashboard with keys")
	for _, action := range []string{"Revoke", "Roll"} {
		tb.do("open the "+action+" dialog",
			chromedp.Click(chromedp.CSS(`#keys-tbody button[aria-label="`+action+` Production backend"]`)),
			chromedp.WaitVisible(chromedp.CSS("#modal .modal-footer")),
		)
		tb.checkA11y(action + " dialog")
		tb.do("press Escape", chromedp.KeyEvent("\u001b"), chromedp.WaitNotVisible(chromedp.CSS("#modal")))
	}
	tb.do("roll a key",
		chromedp.Click(chromedp.CSS(`#keys-tbody button[aria-label="Roll Production backend"]`)),
		chromedp.WaitVisible(chromedp.CSS("#modal .modal-footer")),
		chromedp.Click(chromedp.CSS("#modal button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#modal #new-key")),
	)
	tb.checkA11y("rolled key dialog")
	tb.do("press Escape", chromedp.KeyEvent("\u001b"), chromedp.WaitVisible(chromedp.CSS("#close-confirm")))
	tb.checkA11y("rolled key dialog asking before it closes")
	tb.do("press Escape again", chromedp.KeyEvent("\u001b"), chromedp.WaitNotVisible(chromedp.CSS("#modal")))

	id := get(tb, "read a key id", chromedp.AttributeValue(chromedp.CSS(`#keys-tbody tr.key-row[data-status="active"]`), "id")).Value
	id = strings.TrimPrefix(id, "key-")
	for _, path := range []string{"/dashboard/products", "/dashboard/audit", "/dashboard/account"} {
		tb.do("open "+path, chromedp.Navigate(a.URL+path), chromedp.WaitVisible(chromedp.CSS("main h1")))
		tb.checkA11y(path)
	}

	// The pages that stand in for the dialogs without JavaScript, and an error page.
	for _, path := range []string{"/keys/new", "/keys/" + id + "/revoke", "/keys/" + id + "/roll", "/keys/key_unknown/revoke"} {
		tb.do("open "+path, chromedp.Navigate(a.URL+dashboardPath+path), chromedp.WaitVisible(chromedp.CSS("main .panel")))
		tb.checkA11y(path + " page")
	}
	// The blank name's 422 and the unknown key's 404 are logged as failed loads.
	var errs []string
	for _, e := range tb.consoleErrors() {
		if !strings.Contains(e, "status of 422") && !strings.Contains(e, "status of 404") {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		t.Errorf("the pages logged errors:\n%s", strings.Join(errs, "\n"))
	}
}
