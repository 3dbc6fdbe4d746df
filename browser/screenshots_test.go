package browser

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport/testapp"
)

// TestScreenshots regenerates the README's screenshots in docs/:
//
//	KEYPORT_SCREENSHOTS=1 go test ./browser -run Screenshots
func TestScreenshots(t *testing.T) {
	if os.Getenv("KEYPORT_SCREENSHOTS") != "1" {
		t.Skip("set KEYPORT_SCREENSHOTS=1 to regenerate docs/*.png")
	}
	// The app's own clock, moved forward while the keys are made, gives the table a
	// few weeks of history.
	a := testapp.New(t)
	tb := newTab(t, a)
	tb.do("use a 2× viewport", chromedp.EmulateViewport(1280, 760, chromedp.EmulateScale(2)))
	tb.signup("ada@example.com", "Analytical Engines")
	tb.seedKeys()
	tb.do("reload the dashboard",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#keys-tbody .badge-revoked")),
		// No hover or focus ring from the signup click.
		chromedp.MouseEvent(chromedp.MouseMoved, 0, 0),
		chromedp.Blur(chromedp.CSS("body")),
	)
	tb.screenshot("dashboard.png")

	tb.openCreateDialog()
	tb.createKeyInDialog("Checkout service")
	tb.do("settle the dialog", chromedp.MouseEvent(chromedp.MouseMoved, 0, 0),
		chromedp.Poll[chromedp.Void](`document.getAnimations().every((a) => a.playState !== 'running')`))
	tb.screenshot("key-dialog.png")
}

// screenshot saves the viewport as docs/name.
func (tb *tab) screenshot(name string) {
	tb.t.Helper()
	png := get(tb, "take a screenshot", chromedp.CaptureScreenshot())
	path := filepath.Join(testapp.Root(tb.t), "docs", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		tb.t.Fatal(err)
	}
	tb.t.Logf("wrote %s", path)
}
