// Package testapp starts a real keyport (a fresh database: a SQLite file in a temp dir,
// or with KEYPORT_TEST_POSTGRES a new PostgreSQL database; real router behind httptest)
// for tests, with a controllable clock and captured logs.
package testapp

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"keyport/app"
	"keyport/logging"
	"keyport/migrations"
)

// Root is the repository root (where go.mod is), found from the working directory.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testapp: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Assets reads the templates and static files from the repository, the same files the
// binary embeds, with the embedded schema.
func Assets(t testing.TB) app.Assets {
	t.Helper()
	root := Root(t)
	return app.Assets{
		Migrations: migrations.All(),
		Templates:  os.DirFS(filepath.Join(root, "templates")),
		Static:     os.DirFS(filepath.Join(root, "static")),
	}
}

// Clock is a settable clock, safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now reads the clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Logs collects log output, safe for concurrent writes.
type Logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// App is a keyport under test.
type App struct {
	*app.App
	URL string
	// DBPath is what -db takes: the SQLite file, or the PostgreSQL database's URL.
	DBPath string
	Clock  *Clock
	Logs   *Logs
	HTTP   *httptest.Server

	cfg    app.Config
	logger *slog.Logger
}

// Option changes the configuration before the app opens.
type Option func(*app.Config)

// New starts keyport on a fresh migrated database (MigratedDB) unless an option names
// one, configured as `keyport serve`
// runs by default (including the per-key rate limit). The clock starts at the real
// current time (rounded to the second) and only moves when the test advances it.
func New(t testing.TB, opts ...Option) *App {
	t.Helper()
	clock := NewClock(time.Now().UTC().Truncate(time.Second))
	cfg := app.Config{
		Now:           clock.Now,
		BcryptCost:    bcrypt.MinCost,
		WatchInterval: 20 * time.Millisecond,
		KeyRateLimit:  app.DefaultKeyRateLimit,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.DBPath == "" {
		cfg.DBPath = MigratedDB(t, Assets(t).Migrations)
	}
	logs := &Logs{}
	logger := slog.New(logging.NewText(logs, slog.LevelDebug))
	a, err := app.Open(context.Background(), cfg, Assets(t), logger)
	if err != nil {
		t.Fatal(err)
	}
	ta := &App{App: a, DBPath: cfg.DBPath, Clock: clock, Logs: logs, cfg: cfg, logger: logger}
	ta.HTTP = httptest.NewServer(LoadContract(t).checkAPI(t, a.Echo))
	ta.URL = ta.HTTP.URL
	t.Cleanup(func() {
		ta.HTTP.Close()
		if err := ta.Close(); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
	return ta
}

// Restart stops the app the way `keyport serve` stops (in-flight requests finish, then
// App.Close writes what is pending) and starts it again on the same database, clock and
// address, so clients and their sessions carry on.
func (a *App) Restart(t testing.TB) {
	t.Helper()
	a.HTTP.Close()
	if err := a.Close(); err != nil {
		t.Fatalf("restart: close: %v", err)
	}
	next, err := app.Open(context.Background(), a.cfg, Assets(t), a.logger)
	if err != nil {
		t.Fatalf("restart: open: %v", err)
	}
	ln, err := net.Listen("tcp", a.HTTP.Listener.Addr().String())
	if err != nil {
		next.Close()
		t.Fatalf("restart: listen again: %v", err)
	}
	a.App = next
	a.HTTP = httptest.NewUnstartedServer(next.Echo)
	a.HTTP.Listener.Close()
	a.HTTP.Listener = ln
	a.HTTP.Start()
}

// Client is a browser-like client: a cookie jar and no automatic redirects, so tests
// see the 303s.
type Client struct {
	*http.Client
	t    testing.TB
	base string
}

// NewClient returns a signed-out client.
func (a *App) NewClient(t testing.TB) *Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	// The test server's own transport: http.DefaultTransport is shared by every test, and
	// each httptest.Server.Close drops its idle connections, which breaks a request that
	// was just picking one up in a parallel test. (A real process has no test server.)
	var transport http.RoundTripper
	if a.HTTP != nil {
		transport = a.HTTP.Client().Transport
	}
	return &Client{
		Client: &http.Client{
			Transport:     transport,
			Jar:           jar,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		t:    t,
		base: a.URL,
	}
}

// Do sends a request to path with optional form values and headers ("Name: value").
// The body is read and closed.
func (c *Client) Do(method, path string, form url.Values, headers ...string) (*http.Response, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := c.Client.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return resp, string(b)
}

// Get is Do("GET", path, nil, headers...).
func (c *Client) Get(path string, headers ...string) (*http.Response, string) {
	c.t.Helper()
	return c.Do(http.MethodGet, path, nil, headers...)
}

// Post is Do("POST", path, form, headers...).
func (c *Client) Post(path string, form url.Values, headers ...string) (*http.Response, string) {
	c.t.Helper()
	return c.Do(http.MethodPost, path, form, headers...)
}

// Password is what Signup uses for every account.
const Password = "correct horse battery"

// Signup creates an account (and its organization) and returns a signed-in client.
func (a *App) Signup(t testing.TB, email string) *Client {
	t.Helper()
	c := a.NewClient(t)
	resp, body := c.Post("/signup", url.Values{"email": {email}, "password": {Password}, "org": {email + " org"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup %s: status %d, want 303\n%s", email, resp.StatusCode, body)
	}
	return c
}

var (
	keyRE   = regexp.MustCompile(`kp_[0-9A-Za-z]{49}`)
	keyIDRE = regexp.MustCompile(`id="key-(key_[0-9A-Za-z]+)"`)
)

// KeyOptions are the create form's fields; zero values mean the defaults (both scopes,
// never expires).
type KeyOptions struct {
	Scopes        []string
	ExpiresInDays int
}

// CreateKey creates a key through the dashboard (as htmx does) and returns the full key
// and its id.
func (c *Client) CreateKey(name string, opts ...KeyOptions) (key, id string) {
	c.t.Helper()
	o := KeyOptions{Scopes: []string{"products:read", "products:write"}}
	if len(opts) > 0 {
		if opts[0].Scopes != nil {
			o.Scopes = opts[0].Scopes
		}
		o.ExpiresInDays = opts[0].ExpiresInDays
	}
	form := url.Values{"name": {name}, "expires_in_days": {strconv.Itoa(o.ExpiresInDays)}, "scopes": o.Scopes}
	resp, body := c.Post("/dashboard/integrations/api/keys", form, "HX-Request: true")
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("create key %q: status %d, want 201\n%s", name, resp.StatusCode, body)
	}
	key = keyRE.FindString(body)
	m := keyIDRE.FindStringSubmatch(body)
	if key == "" || m == nil {
		c.t.Fatalf("create key %q: no key or row in the response:\n%s", name, body)
	}
	return key, m[1]
}

// API calls the products API with key in x-api-key ("" sends none) and returns the
// status and body.
func (a *App) API(t testing.TB, method, path, key, body string) (*http.Response, string) {
	t.Helper()
	if key == "" {
		return a.Request(t, method, path, body)
	}
	return a.Request(t, method, path, body, "x-api-key: "+key)
}

// Request sends a cookie-less request with an optional JSON body and headers
// ("Name: value"), does not follow redirects, and returns the response with its body read.
func (a *App) Request(t testing.TB, method, path, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	return Request(t, method, a.URL+path, body, headers...)
}

// Request is App.Request to any url: another server under test.
func Request(t testing.TB, method, url, body string, headers ...string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, h := range headers {
		if k, v, ok := strings.Cut(h, ":"); ok {
			req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

var inviteLinkRE = regexp.MustCompile(`https?://[^/"<\s]+/invite/(kpi_[0-9A-Za-z]{43})`)

// Invite creates an invitation through the members page (as htmx does) and returns the
// path of its link, /invite/kpi_….
func (c *Client) Invite(email, role string) string {
	c.t.Helper()
	resp, body := c.Post("/dashboard/members/invitations", url.Values{"email": {email}, "role": {role}}, "HX-Request: true")
	if resp.StatusCode != http.StatusCreated {
		c.t.Fatalf("invite %s as %s: status %d, want 201\n%s", email, role, resp.StatusCode, body)
	}
	m := inviteLinkRE.FindStringSubmatch(body)
	if m == nil {
		c.t.Fatalf("invite %s: no link in the response:\n%s", email, body)
	}
	return "/invite/" + m[1]
}

// SignupFromInvite creates the invited account from the link's sign-up form and returns
// it signed in, a member of the inviting organization.
func (a *App) SignupFromInvite(t testing.TB, link string) *Client {
	t.Helper()
	c := a.NewClient(t)
	resp, body := c.Post(link+"/signup", url.Values{"password": {Password}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign up from %s: status %d, want 303\n%s", link, resp.StatusCode, body)
	}
	return c
}

// Join signs up email from an invitation by owner (any client that may invite) with role.
func (a *App) Join(t testing.TB, owner *Client, email, role string) *Client {
	t.Helper()
	return a.SignupFromInvite(t, owner.Invite(email, role))
}
