package handlers_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"keyport/handlers"
	"keyport/testapp"
)

const verifyPath = "/api/v1/keys/verify"

// rootKey makes a root key with scopes (keys:verify by default) for c's organization.
func rootKey(c *testapp.Client, name string, scopes ...string) (key, id string) {
	if len(scopes) == 0 {
		scopes = []string{"keys:verify"}
	}
	return c.CreateKey(name, testapp.KeyOptions{Scopes: scopes})
}

type verifyAnswer struct {
	Valid     bool
	Code      string
	KeyID     *string
	Name      string
	Scopes    []string
	ExpiresAt *string
	RateLimit *struct{ Limit, Remaining, Reset int }
	fields    map[string]any
}

// verify asks the verify API, with root, about key (and scopes), expecting 200.
func verify(t *testing.T, a *testapp.App, root, key string, scopes ...string) verifyAnswer {
	t.Helper()
	body := map[string]any{"key": key}
	if scopes != nil {
		body["scopes"] = scopes
	}
	b, _ := json.Marshal(body)
	resp, out := a.API(t, http.MethodPost, verifyPath, root, string(b))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("verify: status %d, want 200\n%s", resp.StatusCode, out)
	}
	if strings.Contains(out, `"keyId":null`) {
		checkEncodingJSON(t, resp, out, &handlers.NotFound{}, "")
	} else {
		checkEncodingJSON(t, resp, out, &handlers.Verification{}, "")
	}
	var v verifyAnswer
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
	if err := json.Unmarshal([]byte(out), &v.fields); err != nil {
		t.Fatal(err)
	}
	if v.Valid != (v.Code == "VALID") {
		t.Errorf("verify: valid %v with code %s", v.Valid, v.Code)
	}
	return v
}

// The root keys have the same rate limit as every key: these tests move the clock on a
// minute before a verification when the limit is not what they test.
func TestVerifyEveryCode(t *testing.T) {
	a := testapp.New(t, withRateLimit(3))
	c := a.Signup(t, "verify@example.com")
	root, _ := rootKey(c, "gateway")
	root2, _ := rootKey(c, "gateway 2")
	good, goodID := c.CreateKey("Checkout", testapp.KeyOptions{Scopes: []string{"products:read", "billing:read"}, ExpiresInDays: 30})
	revoked, revokedID := c.CreateKey("revoked")
	c.Do(http.MethodDelete, dashboard+"/keys/"+revokedID, nil, "HX-Request: true")
	expired, expiredID := c.CreateKey("expired", testapp.KeyOptions{ExpiresInDays: 7})
	limited, limitedID := c.CreateKey("limited")
	a.Clock.Advance(8 * 24 * time.Hour)
	other := a.Signup(t, "verify-other@example.com")
	foreign, _ := other.CreateKey("foreign")

	t.Run("VALID", func(t *testing.T) {
		v := verify(t, a, root, good, "products:read", "billing:read")
		if v.Code != "VALID" || *v.KeyID != goodID || v.Name != "Checkout" || !slices.Equal(v.Scopes, []string{"products:read", "billing:read"}) {
			t.Errorf("verify = %+v", v)
		}
		if want := a.Clock.Now().Add(22 * 24 * time.Hour).UTC().Format(time.RFC3339); v.ExpiresAt == nil || !strings.HasPrefix(*v.ExpiresAt, want[:19]) {
			t.Errorf("expiresAt = %v, want %s", v.ExpiresAt, want)
		}
		if v.RateLimit == nil || v.RateLimit.Limit != 3 || v.RateLimit.Remaining != 2 || v.RateLimit.Reset != 20 {
			t.Errorf("ratelimit = %+v, want 3, 2 left, full again in 20 s", v.RateLimit)
		}
		if v := verify(t, a, root, good); v.Code != "VALID" {
			t.Errorf("without scopes: %s", v.Code)
		}
	})
	t.Run("INSUFFICIENT_SCOPE", func(t *testing.T) {
		a.Clock.Advance(time.Minute)
		v := verify(t, a, root, good, "products:read", "products:write")
		if v.Code != "INSUFFICIENT_SCOPE" || *v.KeyID != goodID || v.RateLimit == nil {
			t.Errorf("verify = %+v", v)
		}
	})
	t.Run("NOT_FOUND", func(t *testing.T) {
		for name, key := range map[string]string{
			"empty":               "",
			"malformed":           "not a key",
			"wrong checksum":      good[:len(good)-1] + string(good[len(good)-1]^1),
			"unknown":             "kp_" + strings.Repeat("0", 43) + "000000",
			"other organization":  foreign,
			"other org, scoped":   foreign + " ",
			"with a bearer label": "Bearer " + good,
		} {
			a.Clock.Advance(time.Minute)
			v := verify(t, a, root, key, "products:read")
			if v.Code != "NOT_FOUND" || v.KeyID != nil || len(v.fields) != 3 {
				t.Errorf("%s: verify = %v, want only valid false, code NOT_FOUND and keyId null", name, v.fields)
			}
		}
	})
	t.Run("REVOKED", func(t *testing.T) {
		a.Clock.Advance(time.Minute)
		v := verify(t, a, root, revoked)
		if v.Code != "REVOKED" || *v.KeyID != revokedID || v.Name != "revoked" || v.RateLimit != nil {
			t.Errorf("verify = %+v", v)
		}
	})
	t.Run("EXPIRED", func(t *testing.T) {
		a.Clock.Advance(time.Minute)
		v := verify(t, a, root, expired, "products:read")
		if v.Code != "EXPIRED" || *v.KeyID != expiredID || v.RateLimit != nil {
			t.Errorf("verify = %+v", v)
		}
	})
	t.Run("RATE_LIMITED", func(t *testing.T) {
		a.Clock.Advance(time.Minute)
		for i := range 3 {
			if v := verify(t, a, root, limited); v.Code != "VALID" {
				t.Fatalf("verification %d: %s", i+1, v.Code)
			}
		}
		// Rate limit before scopes: a fourth check lacking a scope is still RATE_LIMITED.
		v := verify(t, a, root2, limited, "keys:write")
		if v.Code != "RATE_LIMITED" || *v.KeyID != limitedID || v.RateLimit == nil || v.RateLimit.Remaining != 0 {
			t.Errorf("verify = %+v", v)
		}
	})
	t.Run("revoked before expired", func(t *testing.T) {
		k, id := c.CreateKey("both", testapp.KeyOptions{ExpiresInDays: 7})
		c.Do(http.MethodDelete, dashboard+"/keys/"+id, nil, "HX-Request: true")
		a.Clock.Advance(8 * 24 * time.Hour)
		if v := verify(t, a, root, k); v.Code != "REVOKED" {
			t.Errorf("revoked and expired: %s, want REVOKED", v.Code)
		}
	})
}

// TestVerifyOtherOrganizationLeavesNoTrace: another organization's key is not found, and
// asking about it neither spends its rate limit nor marks it used.
func TestVerifyOtherOrganizationLeavesNoTrace(t *testing.T) {
	a := testapp.New(t, withRateLimit(2))
	c := a.Signup(t, "mine@example.com")
	root, _ := rootKey(c, "gateway")
	other := a.Signup(t, "theirs@example.com")
	foreign, foreignID := other.CreateKey("foreign")
	for range 2 {
		if v := verify(t, a, root, foreign); v.Code != "NOT_FOUND" {
			t.Fatalf("verify = %s", v.Code)
		}
	}
	flushUsage(t, a)
	if got := lastUsed(t, a.Server.Read, foreignID); got != 0 {
		t.Errorf("the other organization's key was marked used at %d", got)
	}
	if resp, _ := a.API(t, http.MethodGet, "/api/products", foreign, ""); resp.StatusCode != http.StatusOK || resp.Header.Get("RateLimit-Remaining") != "1" {
		t.Errorf("its own call: %d, %s remaining; want 200 with 1 of 2 left", resp.StatusCode, resp.Header.Get("RateLimit-Remaining"))
	}
}

// TestVerifySharesTheKeysRateLimit: a key's own API calls and its verifications draw
// from one limiter, both ways round.
func TestVerifySharesTheKeysRateLimit(t *testing.T) {
	a := testapp.New(t, withRateLimit(3))
	c := a.Signup(t, "shared@example.com")
	root, _ := rootKey(c, "gateway")
	key, id := c.CreateKey("client")

	for range 2 {
		if resp, _ := a.API(t, http.MethodGet, "/api/products", key, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("own call: %d", resp.StatusCode)
		}
	}
	if v := verify(t, a, root, key); v.Code != "VALID" || v.RateLimit.Remaining != 0 {
		t.Fatalf("third use by verify: %s, %+v remaining; want VALID with 0 left", v.Code, v.RateLimit)
	}
	if resp, body := a.API(t, http.MethodGet, "/api/products", key, ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("own call after the verification spent the limit: %d, want 429\n%s", resp.StatusCode, body)
	}
	if v := verify(t, a, root, key); v.Code != "RATE_LIMITED" {
		t.Errorf("verify after the limit: %s", v.Code)
	}

	a.Clock.Advance(time.Minute)
	for range 3 {
		verify(t, a, root, key)
	}
	if resp, _ := a.API(t, http.MethodGet, "/api/products", key, ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("own call after three verifications: %d, want 429", resp.StatusCode)
	}

	// The verifications marked the key used.
	flushUsage(t, a)
	if got := lastUsed(t, a.Server.Read, id); got != a.Clock.Now().UnixMilli() {
		t.Errorf("last used %d, want %d", got, a.Clock.Now().UnixMilli())
	}
}

func TestVerifyRootKeyProblems(t *testing.T) {
	a := testapp.New(t, withRateLimit(2))
	c := a.Signup(t, "root@example.com")
	root, rootID := rootKey(c, "gateway")
	key, _ := c.CreateKey("client")
	noVerify, _ := rootKey(c, "reader", "keys:read")
	body := `{"key":"` + key + `"}`

	resp, out := a.API(t, http.MethodPost, verifyPath, "", body)
	checkAPIError(t, resp, out, http.StatusUnauthorized, "api_key_required", "API Key required")
	resp, out = a.API(t, http.MethodPost, verifyPath, key, body)
	checkAPIError(t, resp, out, http.StatusForbidden, "insufficient_scope", "This API key lacks the keys:verify scope")
	resp, out = a.API(t, http.MethodPost, verifyPath, noVerify, body)
	checkAPIError(t, resp, out, http.StatusForbidden, "insufficient_scope", "")

	for _, tt := range []struct{ body, code string }{
		{`{}`, "invalid_request"},
		{`{"key":42}`, "invalid_request"},
		{`{"key":"` + key + `","scopes":"products:read"}`, "invalid_request"},
		{`{"key":`, "invalid_json"},
	} {
		a.Clock.Advance(time.Minute)
		resp, out := a.API(t, http.MethodPost, verifyPath, root, tt.body)
		checkAPIError(t, resp, out, http.StatusBadRequest, tt.code, "")
	}

	a.Clock.Advance(time.Minute)
	verify(t, a, root, key)
	verify(t, a, root, key)
	resp, out = a.API(t, http.MethodPost, verifyPath, root, body)
	checkAPIError(t, resp, out, http.StatusTooManyRequests, "rate_limited", "")

	c.Do(http.MethodDelete, dashboard+"/keys/"+rootID, nil, "HX-Request: true")
	a.Clock.Advance(time.Minute)
	resp, out = a.API(t, http.MethodPost, verifyPath, root, body)
	checkAPIError(t, resp, out, http.StatusForbidden, "api_key_revoked", "Invalid API Key")
}
