package browser

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keyport/testapp"
	"keyport/usage"
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
	seedUsage(t, a)
	tb.do("reload the dashboard",
		chromedp.Reload(),
		chromedp.WaitVisible(chromedp.CSS("#keys-tbody .badge-revoked")),
		// No hover or focus ring from the signup click.
		chromedp.MouseEvent(chromedp.MouseMoved, 0, 0),
		chromedp.Blur(chromedp.CSS("body")),
	)
	tb.screenshot("dashboard.png")

	tb.do("use a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#keys-tbody .badge-revoked")),
		chromedp.MouseEvent(chromedp.MouseMoved, 0, 0), chromedp.Blur(chromedp.CSS("body")))
	tb.screenshot("dashboard-phone.png")
	tb.do("use a 2× desktop viewport", chromedp.EmulateViewport(1280, 760, chromedp.EmulateScale(2)),
		chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#keys-tbody .badge-revoked")))

	tb.openCreateDialog()
	tb.createKeyInDialog("Checkout service")
	tb.do("settle the dialog", chromedp.MouseEvent(chromedp.MouseMoved, 0, 0),
		chromedp.Poll[chromedp.Void](`document.getAnimations().every((a) => a.playState !== 'running')`))
	tb.screenshot("key-dialog.png")

	tb.do("open the Mobile app key's page",
		chromedp.Navigate(a.URL+dashboardPath),
		chromedp.WaitVisible(chromedp.CSS("#keys-tbody")),
	)
	// The rolled one, which has a week of history and the rate limit to show.
	eval[chromedp.Void](tb, `[...document.querySelectorAll('#keys-tbody tr')].find((r) => r.textContent.includes('Rolled')).querySelector('a.key-name').click()`)
	tb.do("wait for the key's page",
		chromedp.WaitVisible(chromedp.CSS(".usage-chart")),
		// Tall enough for the totals and the details under the chart.
		chromedp.EmulateViewport(1280, 1180, chromedp.EmulateScale(2)),
		chromedp.MouseEvent(chromedp.MouseMoved, 0, 0),
	)
	tb.screenshot("key-page.png")
}

// seedUsage gives the seeded keys 30 days of traffic, counted as the API's key check
// counts it, with a daily rhythm: the mobile app is often rate limited and someone
// still calls the revoked importer.
func seedUsage(t *testing.T, a *testapp.App) {
	t.Helper()
	ctx := context.Background()
	keys, err := a.Server.Read.ListAllAPIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	now := a.Clock.Now()
	for _, row := range keys {
		k := row.ApiKey
		from := time.UnixMilli(max(k.CreatedAt, now.Add(-30*24*time.Hour).UnixMilli()))
		for at := from; at.Before(now); at = at.Add(time.Hour) {
			h := float64(at.Hour())
			day := 0.6 + 0.4*math.Sin((h-9)/24*2*math.Pi) // busiest mid-afternoon UTC
			n := map[usage.Outcome]float64{}
			switch k.Name {
			case "Legacy importer":
				if k.RevokedAt.Valid && at.UnixMilli() >= k.RevokedAt.Int64 {
					n[usage.Revoked] = 12 * day
				} else {
					n[usage.Valid] = 40 * day
				}
			case "Mobile app":
				n[usage.Valid] = 180 * day
				n[usage.RateLimited] = 50 * day * day
				n[usage.InsufficientScope] = float64(at.Day() % 3)
			case "Analytics export":
				n[usage.Valid] = 25 * day
				n[usage.InsufficientScope] = 2
			case "CI pipeline":
				if at.Hour()%6 == 0 {
					n[usage.Valid] = 60
				}
			default:
				n[usage.Valid] = 90 * day
			}
			for o, v := range n {
				for range int(v) {
					a.Server.Counts.Count(k.ID, o, at)
				}
				if o == usage.Valid && v >= 1 {
					a.Server.Usage.Note(k.ID, at)
				}
			}
		}
	}
	if _, err := a.Server.Counts.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Server.Usage.Flush(ctx, now, true); err != nil {
		t.Fatal(err)
	}
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
