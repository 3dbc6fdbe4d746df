package handlers_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport/app"
	"keyport/handlers"
	"keyport/testapp"
)

// Finding 5: there was no Host check, so a page on an attacker's name that resolves to
// 127.0.0.1 (DNS rebinding) reached a local keyport as same-origin.
func TestPublicURL(t *testing.T) {
	t.Parallel()
	public, err := handlers.ParsePublicURL("https://Keys.Example.com")
	if err != nil {
		t.Fatal(err)
	}
	a := testapp.New(t, func(c *app.Config) { c.PublicURL = public })
	send := func(method, host, path string, form url.Values) *http.Response {
		t.Helper()
		var body io.Reader
		if form != nil {
			body = strings.NewReader(form.Encode())
		}
		req, err := http.NewRequest(method, a.URL+path, body)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = host
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, host := range []string{"rebind.attacker.example", "127.0.0.1", "keys.example.com:8443", "keys.example.com.evil"} {
		for _, path := range []string{"/login", "/dashboard/integrations/api", "/api/products", "/metrics"} {
			if resp := send(http.MethodGet, host, path, nil); resp.StatusCode != http.StatusMisdirectedRequest {
				t.Errorf("GET %s for Host %s: status %d, want 421", path, host, resp.StatusCode)
			}
		}
		if resp := send(http.MethodGet, host, "/healthz", nil); resp.StatusCode != http.StatusOK {
			t.Errorf("GET /healthz for Host %s: status %d, want 200", host, resp.StatusCode)
		}
	}
	for _, host := range []string{"keys.example.com", "KEYS.example.com:443", "keys.example.com."} {
		resp := send(http.MethodGet, host, "/login", nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /login for Host %s: status %d, want 200", host, resp.StatusCode)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); !strings.HasPrefix(got, "max-age=") {
			t.Errorf("Host %s: Strict-Transport-Security %q", host, got)
		}
	}
	resp := send(http.MethodPost, "keys.example.com", "/signup", url.Values{"email": {"host@example.com"}, "password": {testapp.Password}})
	var found bool
	for _, ck := range resp.Cookies() {
		if ck.Name == "keyport_session" {
			t.Error("the session cookie lacks the __Host- prefix")
		}
		if ck.Name == "__Host-keyport_session" {
			found = true
			if !ck.Secure || ck.Path != "/" || ck.Domain != "" || !ck.HttpOnly {
				t.Errorf("cookie Secure %v Path %q Domain %q HttpOnly %v; want Secure, Path=/, no Domain, HttpOnly", ck.Secure, ck.Path, ck.Domain, ck.HttpOnly)
			}
		}
	}
	if !found {
		t.Errorf("signup set no __Host-keyport_session cookie (status %d): %v", resp.StatusCode, resp.Header.Values("Set-Cookie"))
	}

	for _, bad := range []string{"keys.example.com", "ftp://keys.example.com", "https://keys.example.com/keyport", "https://"} {
		if _, err := handlers.ParsePublicURL(bad); err == nil {
			t.Errorf("ParsePublicURL(%q) accepted", bad)
		}
	}
}
