package handlers_test

import (
	"context"
	"database/sql"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"keyport/app"
	"keyport/testapp"
)

const dashboard = "/dashboard/integrations/api"

var formErrorRE = regexp.MustCompile(`(?s)<div[^>]*\sclass="form-error"[^>]*>(.*?)</div>`)

// formError is the message of the form's error box, "" if there is none.
func formError(body string) string {
	m := formErrorRE.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

func login(c *testapp.Client, email, password string, headers ...string) (*http.Response, string) {
	return c.Post("/login", url.Values{"email": {email}, "password": {password}}, headers...)
}

func checkRedirect(t testing.TB, resp *http.Response, body, to string) {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != to {
		t.Errorf("status %d Location %q, want 303 to %s\n%.300s", resp.StatusCode, resp.Header.Get("Location"), to, body)
	}
}

func TestSignup(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)

	t.Run("creates the user and organization and signs in", func(t *testing.T) {
		c := a.NewClient(t)
		resp, body := c.Post("/signup", url.Values{"email": {"  Ada@Example.COM \t"}, "password": {"s3cret-pass"}, "org": {"Analytical Engines"}})
		checkRedirect(t, resp, body, dashboard)
		resp, body = c.Get(dashboard)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Analytical Engines") {
			t.Fatalf("dashboard after signup: %d, org name shown: %v", resp.StatusCode, strings.Contains(body, "Analytical Engines"))
		}
		u, err := a.Server.Read.GetUserByEmail(context.Background(), "ada@example.com")
		if err != nil {
			t.Fatalf("the email is not stored trimmed and lower-cased: %v", err)
		}
		if u.PasswordHash == "s3cret-pass" || !strings.HasPrefix(u.PasswordHash, "$2") {
			t.Errorf("password stored as %q, want a bcrypt hash", u.PasswordHash)
		}
		// Any spelling of the address signs in to the same account.
		resp, body = login(a.NewClient(t), " ADA@example.com", "s3cret-pass")
		checkRedirect(t, resp, body, dashboard)
	})

	t.Run("organization name defaults from the email", func(t *testing.T) {
		c := a.NewClient(t)
		resp, body := c.Post("/signup", url.Values{"email": {"grace@example.com"}, "password": {"s3cret-pass"}})
		checkRedirect(t, resp, body, dashboard)
		if _, body := c.Get(dashboard); !strings.Contains(body, "grace&#39;s organization") {
			t.Errorf("dashboard does not show the default organization name")
		}
	})

	tests := []struct {
		name, email, password string
		status                int
		msg                   string
	}{
		{"duplicate email", "ada@example.com", "another-pass", http.StatusConflict, "already exists"},
		{"duplicate email in another case", "  ADA@EXAMPLE.com", "another-pass", http.StatusConflict, "already exists"},
		{"password of 7 bytes", "new1@example.com", "1234567", http.StatusUnprocessableEntity, "8 to 72 bytes"},
		{"password of 73 bytes", "new2@example.com", strings.Repeat("p", 73), http.StatusUnprocessableEntity, "8 to 72 bytes"},
		{"empty password", "new3@example.com", "", http.StatusUnprocessableEntity, "8 to 72 bytes"},
		{"common password", "new5@example.com", "12345678", http.StatusUnprocessableEntity, "too common"},
		{"common password in another case", "new6@example.com", "PassWord1", http.StatusUnprocessableEntity, "too common"},
		{"invalid email", "not-an-email", "s3cret-pass", http.StatusUnprocessableEntity, "valid email"},
		{"empty email", "", "s3cret-pass", http.StatusUnprocessableEntity, "valid email"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := a.NewClient(t)
			resp, body := c.Post("/signup", url.Values{"email": {tt.email}, "password": {tt.password}})
			if resp.StatusCode != tt.status || !strings.Contains(formError(body), tt.msg) {
				t.Errorf("status %d, message %q; want %d with %q", resp.StatusCode, formError(body), tt.status, tt.msg)
			}
			if taken := tt.status == http.StatusConflict; taken != strings.Contains(formError(body), `<a href="/login">Sign in instead</a>`) {
				t.Errorf("the message %q links to sign-in: %v, want %v", formError(body), !taken, taken)
			}
			if tt.password != "" && strings.Contains(body, tt.password) {
				t.Error("the form echoes the password back")
			}
			if cookie(resp, sessionCookie) != "" {
				t.Error("a failed signup set a session cookie")
			}
			resp, body = c.Get(dashboard)
			checkRedirect(t, resp, body, "/login")
		})
	}
	t.Run("password of 72 bytes", func(t *testing.T) {
		c := a.NewClient(t)
		pw := strings.Repeat("é", 36)
		resp, body := c.Post("/signup", url.Values{"email": {"long@example.com"}, "password": {pw}})
		checkRedirect(t, resp, body, dashboard)
		resp, body = login(a.NewClient(t), "long@example.com", pw)
		checkRedirect(t, resp, body, dashboard)
		// bcrypt reads only 72 bytes; a longer password is a different password.
		resp, _ = login(a.NewClient(t), "long@example.com", pw+"anything")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the 72-byte password with more bytes appended signs in: status %d, want 401", resp.StatusCode)
		}
	})
}

func TestLoginLogout(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "lin@example.com")

	resp, body := c.Post("/logout", nil)
	checkRedirect(t, resp, body, "/login")
	resp, body = c.Get(dashboard)
	checkRedirect(t, resp, body, "/login")

	resp, body = login(c, "lin@example.com", testapp.Password)
	checkRedirect(t, resp, body, dashboard)
	if resp, _ := c.Get(dashboard); resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard after login: %d", resp.StatusCode)
	}

	t.Run("htmx logout", func(t *testing.T) {
		resp, _ := c.Post("/logout", nil, "HX-Request: true")
		if got := resp.Header.Get("HX-Redirect"); got != "/login" {
			t.Errorf("HX-Redirect = %q, want /login", got)
		}
		resp, body := c.Get(dashboard)
		checkRedirect(t, resp, body, "/login")
	})

	t.Run("signed-in visitors skip the forms", func(t *testing.T) {
		c := a.Signup(t, "lin2@example.com")
		for _, p := range []string{"/login", "/signup", "/"} {
			resp, body := c.Get(p)
			checkRedirect(t, resp, body, dashboard)
		}
	})
}

// Whether an account exists must not show: a wrong password, an unknown email and a
// malformed email get the same status and the same page.
func TestLoginFailuresLookAlike(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.Signup(t, "known@example.com")

	attempts := []struct{ name, email, password string }{
		{"wrong password", "known@example.com", "wrong-password"},
		{"unknown email", "nobody@example.com", "wrong-password"},
		{"unknown email, the right password of another account", "nobody@example.com", testapp.Password},
		{"malformed email", "nobody", "wrong-password"},
		{"empty password", "known@example.com", ""},
	}
	var first string
	for _, at := range attempts {
		resp, body := login(a.NewClient(t), at.email, at.password)
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401", at.name, resp.StatusCode)
		}
		if got, want := formError(body), "Incorrect email or password."; got != want {
			t.Errorf("%s: message %q, want %q", at.name, got, want)
		}
		if cookie(resp, sessionCookie) != "" {
			t.Errorf("%s: a failed login set a session cookie", at.name)
		}
		// The page echoes the typed email; apart from that it must be identical.
		page := strings.ReplaceAll(body, at.email, "EMAIL")
		if first == "" {
			first = page
		} else if page != first {
			t.Errorf("%s: the page differs from the first failure's page", at.name)
		}
		if at.password != "" && strings.Contains(body, at.password) {
			t.Errorf("%s: the page echoes the password", at.name)
		}
	}
}

// peerApp serves a's router on a second listener whose requests claim the TCP peer
// address given in X-Test-Peer, so a test can sign in from several IPs.
func peerApp(t *testing.T, a *testapp.App) *testapp.App {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.Header.Get("X-Test-Peer"); p != "" {
			r.RemoteAddr = net.JoinHostPort(p, "1234")
		}
		a.Echo.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b := *a
	b.URL = srv.URL
	return &b
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()

	t.Run("per email", func(t *testing.T) {
		t.Parallel()
		a := peerApp(t, testapp.New(t))
		a.Signup(t, "target@example.com")
		a.Signup(t, "bystander@example.com")
		c := a.NewClient(t)
		// Ten failures from ten addresses: only the email's count reaches the limit.
		for i := range 10 {
			resp, _ := login(c, "target@example.com", "wrong-password", "X-Test-Peer: 10.0.0."+strconv.Itoa(i+1))
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d, want 401", i+1, resp.StatusCode)
			}
		}
		resp, body := login(c, "target@example.com", testapp.Password, "X-Test-Peer: 10.0.1.1")
		checkThrottled(t, resp, body)
		resp, body = login(c, "TARGET@example.com", testapp.Password, "X-Test-Peer: 10.0.1.1")
		checkThrottled(t, resp, body)
		if got := resp.Header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After %q after the 10th failure, want 1 (a growing delay, not a lockout)", got)
		}
		// The same address is still free to sign in to another account.
		resp, body = login(a.NewClient(t), "bystander@example.com", testapp.Password, "X-Test-Peer: 10.0.1.1")
		checkRedirect(t, resp, body, dashboard)

		a.Clock.Advance(time.Second)
		resp, body = login(c, "target@example.com", testapp.Password, "X-Test-Peer: 10.0.1.1")
		checkRedirect(t, resp, body, dashboard)
	})

	t.Run("per IP", func(t *testing.T) {
		t.Parallel()
		a := peerApp(t, testapp.New(t))
		a.Signup(t, "victim@example.com")
		c := a.NewClient(t)
		// Ten failures for ten emails from one address; a forged X-Forwarded-For must
		// not spread them over several addresses.
		for i := range 10 {
			resp, _ := login(c, "guess"+strconv.Itoa(i)+"@example.com", "wrong-password",
				"X-Test-Peer: 192.0.2.7", "X-Forwarded-For: 198.51.100."+strconv.Itoa(i))
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("failure %d: status %d, want 401", i+1, resp.StatusCode)
			}
		}
		resp, body := login(c, "victim@example.com", testapp.Password, "X-Test-Peer: 192.0.2.7", "X-Forwarded-For: 198.51.100.99")
		checkThrottled(t, resp, body)
		// The account itself is not locked: another address signs in.
		resp, body = login(a.NewClient(t), "victim@example.com", testapp.Password, "X-Test-Peer: 192.0.2.8")
		checkRedirect(t, resp, body, dashboard)

		a.Clock.Advance(15*time.Minute + time.Second)
		resp, body = login(c, "victim@example.com", testapp.Password, "X-Test-Peer: 192.0.2.7")
		checkRedirect(t, resp, body, dashboard)
	})
}

func checkThrottled(t testing.TB, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429; message %q", resp.StatusCode, formError(body))
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if formError(body) == "" {
		t.Error("429 page has no message")
	}
	if cookie(resp, sessionCookie) != "" {
		t.Error("a throttled login set a session cookie")
	}
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "secure"}[secure], func(t *testing.T) {
			t.Parallel()
			a := testapp.New(t, func(c *app.Config) { c.SecureCookies = secure })
			resp, body := a.NewClient(t).Post("/signup", url.Values{"email": {"cookie@example.com"}, "password": {testapp.Password}})
			checkRedirect(t, resp, body, dashboard)
			var found bool
			for _, ck := range resp.Cookies() {
				if ck.Name != sessionCookie {
					continue
				}
				found = true
				if !ck.HttpOnly {
					t.Error("session cookie is not HttpOnly")
				}
				if ck.SameSite != http.SameSiteLaxMode {
					t.Errorf("SameSite = %v, want Lax", ck.SameSite)
				}
				if ck.Secure != secure {
					t.Errorf("Secure = %v with SecureCookies %v", ck.Secure, secure)
				}
				if ck.Path != "/" {
					t.Errorf("Path = %q, want /", ck.Path)
				}
				// scs runs on the real clock: the cookie lives for the 12 h idle timeout.
				if d := time.Duration(ck.MaxAge) * time.Second; d < 12*time.Hour-time.Minute || d > 12*time.Hour+time.Minute {
					t.Errorf("Max-Age = %v, want the 12 h idle timeout", d)
				}
			}
			if !found {
				t.Fatalf("signup set no %s cookie: %v", sessionCookie, resp.Header.Values("Set-Cookie"))
			}
		})
	}
}

// A session token changes at login and at logout, and a token that was replaced no
// longer signs anyone in.
func TestSessionTokenRenewal(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.NewClient(t)
	resp, body := c.Post("/signup", url.Values{"email": {"renew@example.com"}, "password": {testapp.Password}})
	checkRedirect(t, resp, body, dashboard)
	signedUp := cookie(resp, sessionCookie)

	resp, body = c.Post("/logout", nil)
	checkRedirect(t, resp, body, "/login")
	loggedOut := cookie(resp, sessionCookie)

	resp, body = login(c, "renew@example.com", testapp.Password)
	checkRedirect(t, resp, body, dashboard)
	loggedIn := cookie(resp, sessionCookie)

	if signedUp == "" || loggedOut == "" || loggedIn == "" {
		t.Fatalf("want a new session cookie at signup, logout and login; got %v, %v, %v", signedUp != "", loggedOut != "", loggedIn != "")
	}
	if signedUp == loggedOut || loggedOut == loggedIn || signedUp == loggedIn {
		t.Fatal("the session token was not renewed at logout and login")
	}

	replay := func(token string, headers ...string) (*http.Response, string) {
		return a.Request(t, http.MethodGet, dashboard, "", append(headers, "Cookie: "+sessionCookie+"="+token)...)
	}
	if resp, _ := replay(loggedIn); resp.StatusCode != http.StatusOK {
		t.Fatalf("the current session: status %d, want 200", resp.StatusCode)
	}
	// The signed-in token from before logout, and the pre-login token (a session an
	// attacker could have planted), are both dead.
	for name, token := range map[string]string{"before logout": signedUp, "before login": loggedOut} {
		resp, body := replay(token)
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("replaying the token from %s: status %d Location %q, want 303 to /login\n%.200s", name, resp.StatusCode, resp.Header.Get("Location"), body)
		}
		resp, _ = replay(token, "HX-Request: true")
		if got := resp.Header.Get("HX-Redirect"); got != "/login" {
			t.Errorf("replaying the token from %s with htmx: HX-Redirect %q, want /login", name, got)
		}
	}
}

func TestSignedOutRedirects(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "owner@example.com")
	key, id := owner.CreateKey("k")
	c := a.NewClient(t)

	resp, body := c.Get("/")
	checkRedirect(t, resp, body, "/login")
	resp, body = owner.Get("/")
	checkRedirect(t, resp, body, dashboard)

	for _, r := range []struct{ method, path string }{
		{"GET", "/dashboard"},
		{"GET", dashboard},
		{"GET", dashboard + "?status=active"},
		{"GET", dashboard + "/keys/new"},
		{"GET", dashboard + "/keys/" + id + "/revoke"},
		{"POST", dashboard + "/keys"},
		{"POST", dashboard + "/keys/" + id + "/revoke"},
		{"DELETE", dashboard + "/keys/" + id},
	} {
		form := url.Values{"name": {"sneaky"}, "scopes": {"products:read"}}
		resp, body := c.Do(r.method, r.path, form)
		if r.method == "GET" || r.method == "POST" {
			checkRedirect(t, resp, body, "/login")
		} else if resp.StatusCode < 300 {
			t.Errorf("%s %s signed out: status %d", r.method, r.path, resp.StatusCode)
		}
		resp, _ = c.Do(r.method, r.path, form, "HX-Request: true")
		if got := resp.Header.Get("HX-Redirect"); got != "/login" {
			t.Errorf("%s %s signed out, htmx: HX-Redirect %q, want /login", r.method, r.path, got)
		}
		if resp.StatusCode < 300 {
			t.Errorf("%s %s signed out, htmx: status %d", r.method, r.path, resp.StatusCode)
		}
	}
	if got, want := keyCount(t, a, "owner@example.com"), int64(1); got != want {
		t.Errorf("%d keys after signed-out requests, want %d", got, want)
	}
	resp, body = a.Request(t, http.MethodGet, "/api/products", "", "x-api-key: "+key)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the key stopped working after signed-out requests: %d %s", resp.StatusCode, body)
	}
}

func TestPruneLoginFailures(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.NewClient(t)
	for range 3 {
		if resp, _ := login(c, "someone@example.com", "wrong-password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", resp.StatusCode)
		}
	}
	kept := func() bool {
		t.Helper()
		_, err := a.Server.Read.GetThrottle(context.Background(), "email:someone@example.com")
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Fatal(err)
		}
		return err == nil
	}

	a.Clock.Advance(14 * time.Minute)
	if err := a.Server.PruneLoginFailures(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !kept() {
		t.Fatal("after 14 minutes the account's count was pruned; it still counts")
	}
	a.Clock.Advance(time.Minute)
	if err := a.Server.PruneLoginFailures(context.Background()); err != nil {
		t.Fatal(err)
	}
	if kept() {
		t.Fatal("after 15 minutes the account's count is still kept")
	}

	// Session rows go once the session's absolute lifetime (7 days) is over.
	a.Signup(t, "pruned@example.com")
	sessions := func() int {
		t.Helper()
		var n int
		if err := a.DB.Read.QueryRow("SELECT count(*) FROM user_sessions").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a.Clock.Advance(7*24*time.Hour - time.Minute)
	if err := a.Server.PruneLoginFailures(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sessions(); got != 1 {
		t.Fatalf("%d session rows within the lifetime, want 1", got)
	}
	a.Clock.Advance(time.Minute)
	if err := a.Server.PruneLoginFailures(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := sessions(); got != 0 {
		t.Fatalf("%d session rows after the lifetime, want 0", got)
	}
}
