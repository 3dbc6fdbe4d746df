package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"keyport/testapp"
)

const forwardAuthPath = "/api/v1/forward-auth"

// forwardAuth asks forward auth as a proxy would: root in X-Keyport-Root-Key and the
// client's headers.
func forwardAuth(t *testing.T, a *testapp.App, root, scopes string, client ...string) (*http.Response, string) {
	t.Helper()
	path := forwardAuthPath
	if scopes != "" {
		path += "?scopes=" + url.QueryEscape(scopes)
	}
	headers := client
	if root != "" {
		headers = append(headers, "X-Keyport-Root-Key: "+root)
	}
	return a.Request(t, http.MethodGet, path, "", headers...)
}

func TestForwardAuthPassesAGoodKey(t *testing.T) {
	a := testapp.New(t, withRateLimit(5))
	c := a.Signup(t, "fa@example.com")
	root, _ := rootKey(c, "nginx")
	key, id := c.CreateKey("Café 100% <ok>", testapp.KeyOptions{Scopes: []string{"products:read", "billing:read"}})

	for _, header := range []string{"x-api-key: " + key, "Authorization: Bearer " + key} {
		resp, body := forwardAuth(t, a, root, "billing:read,products:read", header)
		if resp.StatusCode != http.StatusNoContent || body != "" {
			t.Fatalf("%s: %d %q, want 204 and no body", header[:9], resp.StatusCode, body)
		}
		want := map[string]string{
			"X-Keyport-Key-Id":   id,
			"X-Keyport-Key-Name": "Caf%C3%A9 100%25 <ok>",
			"X-Keyport-Org-Id":   orgID(t, a, "fa@example.com"),
			"X-Keyport-Scopes":   "products:read billing:read",
			"RateLimit-Limit":    "5",
			"X-Keyport-Error":    "",
		}
		for h, v := range want {
			if got := resp.Header.Get(h); got != v {
				t.Errorf("%s = %q, want %q", h, got, v)
			}
		}
	}
	resp, _ := forwardAuth(t, a, root, "", "x-api-key: "+key)
	if got, want := resp.Header.Get("RateLimit-Remaining"), "2"; resp.StatusCode != http.StatusNoContent || got != want {
		t.Errorf("no scopes asked: %d, RateLimit-Remaining %s, want 204 with %s (it counts against the key)", resp.StatusCode, got, want)
	}
	flushUsage(t, a)
	if lastUsed(t, a.Server.Read, id) == 0 {
		t.Error("forward auth did not mark the key used")
	}
}

// TestForwardAuthRefusesAsTheProductsAPI: each refusal is the products API's answer to the
// same key: status, body and rate-limit headers, with the body also in X-Keyport-Error.
func TestForwardAuthRefusesAsTheProductsAPI(t *testing.T) {
	a := testapp.New(t, withRateLimit(2))
	c := a.Signup(t, "refuse@example.com")
	root, _ := rootKey(c, "nginx")
	writer, _ := c.CreateKey("writer", testapp.KeyOptions{Scopes: []string{"products:write"}})
	revoked, revokedID := c.CreateKey("revoked")
	c.Do(http.MethodDelete, dashboard+"/keys/"+revokedID, nil, "HX-Request: true")
	expired, _ := c.CreateKey("expired", testapp.KeyOptions{ExpiresInDays: 7})
	limited, _ := c.CreateKey("limited")
	a.Clock.Advance(8 * 24 * time.Hour)
	foreign, _ := a.Signup(t, "refuse-other@example.com").CreateKey("foreign")

	tests := []struct {
		name, key string
		status    int
		code      string
		asKey     string // the key the products API's answer is compared with, if not key
	}{
		{"no key", "", http.StatusUnauthorized, "api_key_required", ""},
		{"malformed", "kp_nope", http.StatusForbidden, "invalid_api_key", ""},
		{"other organization", foreign, http.StatusForbidden, "invalid_api_key", "kp_nope"},
		{"revoked", revoked, http.StatusForbidden, "api_key_revoked", ""},
		{"expired", expired, http.StatusForbidden, "api_key_expired", ""},
		{"insufficient scope", writer, http.StatusForbidden, "insufficient_scope", ""},
		{"rate limited", limited, http.StatusTooManyRequests, "rate_limited", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var client []string
			if tt.key != "" {
				client = append(client, "x-api-key: "+tt.key)
			}
			if tt.code == "rate_limited" {
				for range 2 {
					a.API(t, http.MethodGet, "/api/products", tt.key, "")
				}
			}
			resp, body := forwardAuth(t, a, root, "products:read", client...)
			checkAPIError(t, resp, body, tt.status, tt.code, "")
			if got := resp.Header.Get("X-Keyport-Error"); got != strings.TrimSpace(body) {
				t.Errorf("X-Keyport-Error = %q, want the body %q", got, body)
			}
			if resp.Header.Get("X-Keyport-Key-Id") != "" {
				t.Error("a refusal names a key")
			}
			asKey := tt.key
			if tt.asKey != "" {
				asKey = tt.asKey
			}
			api, apiBody := a.API(t, http.MethodGet, "/api/products", asKey, "")
			if api.StatusCode != resp.StatusCode || apiBody != body {
				t.Errorf("forward auth %d %s; the products API %d %s", resp.StatusCode, body, api.StatusCode, apiBody)
			}
			for _, h := range []string{"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
				if tt.code != "insufficient_scope" && resp.Header.Get(h) != api.Header.Get(h) {
					t.Errorf("%s: forward auth %q, the products API %q", h, resp.Header.Get(h), api.Header.Get(h))
				}
			}
			if tt.code == "rate_limited" && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
		})
	}

	t.Run("another organization's key is not spent", func(t *testing.T) {
		if resp, _ := a.API(t, http.MethodGet, "/api/products", foreign, ""); resp.Header.Get("RateLimit-Remaining") != "1" {
			t.Errorf("after its first call, %s remaining, want 1 of 2: forward auth spent it", resp.Header.Get("RateLimit-Remaining"))
		}
	})
}

func TestForwardAuthRootKey(t *testing.T) {
	a := testapp.New(t, withRateLimit(2))
	c := a.Signup(t, "fa-root@example.com")
	root, rootID := rootKey(c, "nginx")
	manager, _ := rootKey(c, "manager", "keys:read", "keys:write")
	key, _ := c.CreateKey("client")
	client := "x-api-key: " + key

	resp, body := forwardAuth(t, a, "", "products:read", client)
	checkAPIError(t, resp, body, http.StatusUnauthorized, "root_key_required", "")
	for name, bad := range map[string]string{
		"malformed":        "kp_nope",
		"a key without it": key,
		"no keys:verify":   manager,
	} {
		resp, body := forwardAuth(t, a, bad, "products:read", client)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"code":"invalid_root_key"`) {
			t.Errorf("%s: %d %s, want 403 invalid_root_key", name, resp.StatusCode, body)
		}
	}

	// Another organization's root key is a good root key, for whom this client key does
	// not exist.
	theirs, _ := rootKey(a.Signup(t, "fa-root-other@example.com"), "theirs")
	resp, body = forwardAuth(t, a, theirs, "products:read", client)
	checkAPIError(t, resp, body, http.StatusForbidden, "invalid_api_key", "")

	// The root key comes with every request to the proxy: it has no limit of its own here.
	for range 5 {
		a.Clock.Advance(time.Minute)
		if resp, body := forwardAuth(t, a, root, "products:read", client); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("root key used past its limit: %d %s", resp.StatusCode, body)
		}
	}

	resp, body = forwardAuth(t, a, root, "products:read,Bad Scope", client)
	checkAPIError(t, resp, body, http.StatusBadRequest, "invalid_request", "")
	if h := resp.Header.Get("X-Keyport-Error"); strings.ContainsFunc(h, func(r rune) bool { return r > 127 }) || !strings.Contains(h, `\u201cBad Scope\u201d`) {
		t.Errorf("X-Keyport-Error = %q, want the body with non-ASCII escaped", h)
	}

	c.Do(http.MethodDelete, dashboard+"/keys/"+rootID, nil, "HX-Request: true")
	resp, body = forwardAuth(t, a, root, "products:read", client)
	checkAPIError(t, resp, body, http.StatusForbidden, "invalid_root_key", "Invalid root key")
}
