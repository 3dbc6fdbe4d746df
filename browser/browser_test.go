package browser

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"keyport/app"
	"keyport/testapp"
)

// chromium is the one browser process the package's tests share: starting Chromium
// costs about a second, a new browser context (own cookies, storage and permissions)
// and tab per test costs almost nothing.
var chromium struct {
	once       sync.Once
	ctx        context.Context
	stop       func()
	output     testapp.Logs // the browser's stdout and stderr
	missing    error        // no browser found: skip, or fail under KEYPORT_REQUIRE_BROWSER=1
	skipReason sync.Once    // the reason for skipping is said once
	err        error        // a browser was found but did not start: always a failure
}

func TestMain(m *testing.M) {
	code := m.Run()
	if chromium.stop != nil {
		chromium.stop()
	}
	os.Exit(code)
}

// findChromium looks for the browser the tests drive: KEYPORT_CHROMIUM if set, else the
// usual names on PATH.
func findChromium() (string, error) {
	if name := os.Getenv("KEYPORT_CHROMIUM"); name != "" {
		path, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("KEYPORT_CHROMIUM=%s: %w", name, err)
		}
		return path, nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if path, err := exec.LookPath(name); err == nil {
			return path, nil
		}
	}
	return "", errors.New("no chromium, chromium-browser or google-chrome on PATH and KEYPORT_CHROMIUM is not set")
}

func startChromium() {
	path, err := findChromium()
	if err != nil {
		chromium.missing = err
		return
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		// The sandbox needs user namespaces, which CI containers running as root lack;
		// the browser only ever loads keyport from loopback.
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		// The network is closed in CI: keep Chromium from trying to phone home.
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-pings", true),
		chromedp.CombinedOutput(&chromium.output),
	)
	allocCtx, stopAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, stopBrowser := chromedp.NewContext(allocCtx)
	chromium.ctx = ctx
	chromium.stop = func() { stopBrowser(); stopAlloc() }
	// Started here with no deadline: the first Run ties the browser's life to its context.
	if err := chromedp.Do(ctx); err != nil {
		chromium.err = fmt.Errorf("start %s: %w\n%s", path, err, chromium.output.String())
	}
}

// browserContext returns the shared browser, starting it on first use. Without a
// browser the test skips, or fails when KEYPORT_REQUIRE_BROWSER=1.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	chromium.once.Do(startChromium)
	if chromium.missing != nil {
		if os.Getenv("KEYPORT_REQUIRE_BROWSER") == "1" {
			t.Fatalf("browser tests: %v (KEYPORT_REQUIRE_BROWSER=1 makes a missing browser a failure)", chromium.missing)
		}
		// One line says why; the other tests just skip.
		said := false
		chromium.skipReason.Do(func() { said = true })
		if said {
			t.Skipf("browser tests skipped: %v (apt-get install chromium, or set KEYPORT_CHROMIUM)", chromium.missing)
		}
		t.SkipNow()
	}
	if chromium.err != nil {
		t.Fatal(chromium.err)
	}
	return chromium.ctx
}

// realTime runs the app on the wall clock: the page's own timers (toasts, htmx) run on
// real time, and the times shown should agree with them.
func realTime(c *app.Config) { c.Now = time.Now }

// tab is one browser tab in a fresh browser context, pointed at one keyport.
type tab struct {
	t    *testing.T
	ctx  context.Context // the tab, bounded by the test's deadline
	base context.Context // the tab without the deadline, for failure artifacts
	app  *testapp.App

	mu      *sync.Mutex
	console *[]chromedp.ConsoleMessage
}

// newTab opens a tab with its own cookies and permissions, a 1280×800 viewport, the
// light theme, and clipboard access for the app's origin. When the test fails, the
// page's screenshot, HTML and console are saved under testdata/failures/.
func newTab(t *testing.T, a *testapp.App) *tab {
	t.Helper()
	base, cancel := chromedp.NewContext(browserContext(t), chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	tb := &tab{t: t, base: base, app: a, mu: new(sync.Mutex), console: new([]chromedp.ConsoleMessage)}

	messages := chromedp.Console(base)
	if err := chromedp.Do(base); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			tb.mu.Lock()
			*tb.console = append(*tb.console, m)
			tb.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			tb.saveFailure()
			return
		}
		// Only the last run's failures are kept: a stale folder would mislead.
		if err := os.RemoveAll(failureDir(t)); err != nil {
			t.Errorf("remove old failure artifacts: %v", err)
		}
	})

	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(base, browser.SetPermission, browser.SetPermissionParams{
			Permission:       &browser.PermissionDescriptor{Name: name},
			Setting:          browser.PermissionSettingGranted,
			Origin:           a.URL,
			BrowserContextID: chromedp.FromContext(base).BrowserContextID,
		}); err != nil {
			t.Fatalf("grant %s: %v", name, err)
		}
	}
	ctx, cancelDeadline := context.WithTimeout(base, 3*time.Minute)
	t.Cleanup(cancelDeadline)
	tb.ctx = ctx
	tb.do("set up the tab",
		chromedp.EmulateViewport(1280, 800),
		// Headless tabs are never focused; the clipboard API and :focus-visible need it.
		call(emulation.SetFocusEmulationEnabled, emulation.SetFocusEmulationEnabledParams{Enabled: true}),
	)
	tb.colorScheme("light")
	return tb
}

// in returns the tab for a subtest, so that its failures stop the subtest.
func (tb *tab) in(t *testing.T) *tab {
	c := *tb
	c.t = t
	return &c
}

// call is a protocol command as an action.
func call[P, R any](cmd cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, cmd, params)
		return err
	})
}

// colorScheme emulates the system's light or dark setting.
func (tb *tab) colorScheme(scheme string) {
	tb.t.Helper()
	tb.do("emulate prefers-color-scheme: "+scheme, call(emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}))
}

// disableJavaScript turns off scripts for the pages this tab loads from now on.
func (tb *tab) disableJavaScript() {
	tb.t.Helper()
	tb.do("disable JavaScript", call(emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}))
}

// stepTimeout bounds each do or get: generous for a loaded machine, short enough that
// a wait for something that never appears fails with its own message.
const stepTimeout = 45 * time.Second

// do runs steps and stops the test at the first error, saying which step failed.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

// get runs one action that returns a value and stops the test on error.
func get[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// eval evaluates a JavaScript expression in the page, awaiting a promise.
func eval[T any](tb *tab, js string) T {
	tb.t.Helper()
	return get(tb, "evaluate "+js, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
}

// text is the visible text of the first element matching the CSS selector.
func (tb *tab) text(sel string) string {
	tb.t.Helper()
	return strings.TrimSpace(get(tb, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// path is the current URL's path and query.
func (tb *tab) path() string {
	tb.t.Helper()
	return strings.TrimPrefix(get(tb, "read the location", chromedp.Location()), tb.app.URL)
}

// consoleErrors lists what the page logged as errors so far (script errors, CSP
// violations, failed requests).
func (tb *tab) consoleErrors() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	var errs []string
	for _, m := range *tb.console {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			errs = append(errs, m.String())
		}
	}
	return errs
}

// failureDir is where a failed test's artifacts go, next to the package's tests.
func failureDir(t *testing.T) string {
	return filepath.Join("testdata", "failures", strings.ReplaceAll(t.Name(), "/", "_"))
}

// saveFailure writes the page's screenshot, HTML and console log next to the test, so
// a failure in CI can be looked at afterwards.
func (tb *tab) saveFailure() {
	t := tb.t
	dir, err := filepath.Abs(failureDir(t))
	if err == nil {
		err = errors.Join(os.RemoveAll(dir), os.MkdirAll(dir, 0o755))
	}
	if err != nil {
		t.Logf("cannot save failure artifacts: %v", err)
		return
	}
	ctx, cancel := context.WithTimeout(tb.base, 10*time.Second)
	defer cancel()
	var saved []string
	save := func(name string, data []byte, err error) {
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), data, 0o644)
		}
		if err != nil {
			t.Logf("failure artifact %s: %v", name, err)
			return
		}
		saved = append(saved, name)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	save("screenshot.png", png, err)
	html, err := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("html")))
	save("page.html", []byte(html), err)
	var log bytes.Buffer
	tb.mu.Lock()
	for _, m := range *tb.console {
		fmt.Fprintf(&log, "%s %s:%d %s\n", m.Type, m.URL, m.Line+1, m)
	}
	tb.mu.Unlock()
	save("console.log", log.Bytes(), nil)
	t.Logf("failure artifacts (%s) in %s", strings.Join(saved, ", "), dir)
}
