package handlers_test

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"keyport/testapp"
)

// Dashboard state changes from another origin are refused and change nothing.
func TestCrossOriginRefused(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "owner@example.com")
	key, id := owner.CreateKey("target")

	for _, origin := range []struct{ name, header string }{
		{"Sec-Fetch-Site cross-site", "Sec-Fetch-Site: cross-site"},
		{"Sec-Fetch-Site same-site", "Sec-Fetch-Site: same-site"},
		{"foreign Origin", "Origin: http://evil.example"},
	} {
		t.Run(origin.name, func(t *testing.T) {
			stranger := a.NewClient(t)
			for _, r := range []struct {
				name   string
				c      *testapp.Client
				method string
				path   string
				form   url.Values
				htmx   bool
			}{
				{"create key", owner, "POST", dashboard + "/keys", url.Values{"name": {"evil"}, "scopes": {"products:read"}}, false},
				{"create key (htmx)", owner, "POST", dashboard + "/keys", url.Values{"name": {"evil"}, "scopes": {"products:read"}}, true},
				{"revoke", owner, "POST", dashboard + "/keys/" + id + "/revoke", url.Values{}, false},
				{"revoke (htmx)", owner, "DELETE", dashboard + "/keys/" + id, nil, true},
				{"roll", owner, "POST", dashboard + "/keys/" + id + "/roll", url.Values{"grace": {"0"}}, false},
				{"roll (htmx)", owner, "POST", dashboard + "/keys/" + id + "/roll", url.Values{"grace": {"1h"}}, true},
				{"logout", owner, "POST", "/logout", url.Values{}, false},
				{"login", stranger, "POST", "/login", url.Values{"email": {"owner@example.com"}, "password": {testapp.Password}}, false},
				{"signup", stranger, "POST", "/signup", url.Values{"email": {"planted@example.com"}, "password": {testapp.Password}}, false},
			} {
				headers := []string{origin.header}
				if r.htmx {
					headers = append(headers, "HX-Request: true")
				}
				resp, _ := r.c.Do(r.method, r.path, r.form, headers...)
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s: status %d, want 403", r.name, resp.StatusCode)
				}
				if r.c == stranger && cookie(resp, sessionCookie) != "" {
					t.Errorf("%s: a refused request set a session cookie", r.name)
				}
			}

			if got, want := keyCount(t, a, "owner@example.com"), int64(1); got != want {
				t.Errorf("%d keys, want %d", got, want)
			}
			if resp, body := a.API(t, http.MethodGet, "/api/products", key, ""); resp.StatusCode != http.StatusOK {
				t.Errorf("the key stopped working: %d %s", resp.StatusCode, body)
			}
			if resp, _ := owner.Get(dashboard); resp.StatusCode != http.StatusOK {
				t.Errorf("the owner was signed out: dashboard %d", resp.StatusCode)
			}
			if resp, body := stranger.Get(dashboard); resp.StatusCode != http.StatusSeeOther {
				t.Errorf("the cross-origin login signed the stranger in: dashboard %d\n%.200s", resp.StatusCode, body)
			}
			if _, err := a.Server.Read.GetUserByEmail(context.Background(), "planted@example.com"); !errors.Is(err, sql.ErrNoRows) {
				t.Errorf("the cross-origin signup created an account: %v", err)
			}
		})
	}

	t.Run("same origin and navigation are allowed", func(t *testing.T) {
		form := url.Values{"name": {"ok"}, "scopes": {"products:read"}}
		for _, h := range []string{"Sec-Fetch-Site: same-origin", "Origin: " + a.URL} {
			if resp, body := owner.Post(dashboard+"/keys", form, h); resp.StatusCode != http.StatusCreated {
				t.Errorf("create with %q: %d\n%.200s", h, resp.StatusCode, body)
			}
		}
		// Following a link from another site is a GET and must work.
		if resp, _ := owner.Get(dashboard, "Sec-Fetch-Site: cross-site"); resp.StatusCode != http.StatusOK {
			t.Errorf("cross-site GET of the dashboard: %d", resp.StatusCode)
		}
	})
}

// User input is escaped wherever it is shown.
func TestUserInputEscaped(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	const xss = `<script>alert(1)</script>`
	const escaped = `&lt;script&gt;alert(1)&lt;/script&gt;`
	c := a.NewClient(t)
	resp, body := c.Post("/signup", url.Values{"email": {"xss@example.com"}, "password": {testapp.Password}, "org": {`<img src=x onerror=alert(2)>`}})
	checkRedirect(t, resp, body, dashboard)

	_, id := c.CreateKey(xss)
	pages := map[string]string{}
	_, pages["key created (htmx)"] = c.Post(dashboard+"/keys", url.Values{"name": {xss}, "scopes": {"products:read"}}, "HX-Request: true")
	_, pages["key created"] = c.Post(dashboard+"/keys", url.Values{"name": {xss}, "scopes": {"products:read"}})
	_, pages["dashboard"] = c.Get(dashboard)
	_, pages["revoke dialog"] = c.Get(dashboard + "/keys/" + id + "/revoke")
	_, pages["form error"] = c.Post(dashboard+"/keys", url.Values{"name": {xss}, "expires_in_days": {"3"}, "scopes": {"products:read"}})
	resp, pages["revoked row (htmx)"] = c.Do(http.MethodDelete, dashboard+"/keys/"+id, nil, "HX-Request: true")
	if trig := resp.Header.Get("HX-Trigger"); strings.Contains(trig, "<") {
		t.Errorf("HX-Trigger carries raw markup: %s", trig)
	}
	_, id2 := c.CreateKey(xss)
	c.Post(dashboard+"/keys/"+id2+"/revoke", url.Values{})
	_, pages["dashboard with flash"] = c.Get(dashboard)
	_, pages["login form"] = a.NewClient(t).Post("/login", url.Values{"email": {`"><script>alert(3)</script>`}, "password": {"x"}})

	for name, body := range pages {
		if strings.Contains(body, "<script>alert") || strings.Contains(body, "<img src=x") {
			t.Errorf("%s: user input rendered as markup", name)
		}
		if name != "login form" && !strings.Contains(body, escaped) {
			t.Errorf("%s: the key name is not shown escaped", name)
		}
	}
	if !strings.Contains(pages["dashboard"], "&lt;img src=x onerror=alert(2)&gt;") {
		t.Error("the organization name is not shown escaped")
	}
	if !strings.Contains(pages["dashboard with flash"], "revoked") {
		t.Error("the revoke flash is missing")
	}
}

var (
	inlineScriptRE = regexp.MustCompile(`<script(?:\s[^>]*)?>`)
	inlineStyleRE  = regexp.MustCompile(`(?i)<style|\sstyle=|\son[a-z]+=`)
)

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "headers@example.com")
	key, id := c.CreateKey("k")

	check := func(t *testing.T, name string, resp *http.Response) {
		t.Helper()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", name, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows inline or eval: %q", name, csp)
		}
		if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options = %q", name, got)
		}
		if got := h.Get("Referrer-Policy"); got != "same-origin" {
			t.Errorf("%s: Referrer-Policy = %q", name, got)
		}
	}
	t.Run("pages", func(t *testing.T) {
		anon := a.NewClient(t)
		for _, p := range []struct {
			name string
			c    *testapp.Client
			path string
		}{
			{"login", anon, "/login"},
			{"signup", anon, "/signup"},
			{"home redirect", anon, "/"},
			{"dashboard", c, dashboard},
			{"new key form", c, dashboard + "/keys/new"},
			{"revoke dialog", c, dashboard + "/keys/" + id + "/revoke"},
			{"not found page", c, "/nope"},
			{"healthz", anon, "/healthz"},
			{"static file", anon, "/static/app.css"},
		} {
			resp, body := p.c.Get(p.path)
			check(t, p.name, resp)
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
				continue
			}
			// The CSP only holds if the pages need no inline script or style.
			for _, tag := range inlineScriptRE.FindAllString(body, -1) {
				if !strings.Contains(tag, " src=") {
					t.Errorf("%s: inline script %s", p.name, tag)
				}
			}
			if m := inlineStyleRE.FindString(body); m != "" {
				t.Errorf("%s: inline style or handler %q", p.name, m)
			}
		}
		resp, body := c.Post(dashboard+"/keys", url.Values{"name": {"x"}, "scopes": {"products:read"}})
		check(t, "key created", resp)
		if m := inlineStyleRE.FindString(body); m != "" {
			t.Errorf("key created: inline style or handler %q", m)
		}
	})
	t.Run("api", func(t *testing.T) {
		for _, r := range []struct{ name, method, path, key string }{
			{"list", "GET", "/api/products", key},
			{"no key", "GET", "/api/products", ""},
			{"bad key", "GET", "/api/products", "kp_bad"},
			{"not found", "GET", "/api/products/prod_x", key},
			{"unknown route", "GET", "/api/nope", ""},
			{"wrong method", "DELETE", "/api/products", key},
		} {
			resp, _ := a.API(t, r.method, r.path, r.key, "")
			check(t, r.name, resp)
		}
	})
	t.Run("the key is never cached", func(t *testing.T) {
		for _, headers := range [][]string{nil, {"HX-Request: true"}} {
			resp, body := c.Post(dashboard+"/keys", url.Values{"name": {"fresh"}, "scopes": {"products:read"}}, headers...)
			if resp.StatusCode != http.StatusCreated || !keyRE.MatchString(body) {
				t.Fatalf("create (%v): %d", headers, resp.StatusCode)
			}
			if got := resp.Header.Get("Cache-Control"); !strings.Contains(got, "no-store") {
				t.Errorf("create (%v): Cache-Control = %q, want no-store", headers, got)
			}
		}
	})
}

var keyRE = regexp.MustCompile(`kp_[0-9A-Za-z]{49}`)
