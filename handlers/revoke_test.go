package handlers_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyport/database"
	"keyport/queries"
	"keyport/testapp"
)

// warm uses key until it is certainly cached by the verifier.
func warm(t testing.TB, a *testapp.App, key string) {
	t.Helper()
	for range 3 {
		if resp, body := a.API(t, http.MethodGet, "/api/products", key, ""); resp.StatusCode != http.StatusOK {
			t.Fatalf("using the key: %d %s", resp.StatusCode, body)
		}
	}
}

// Revoking in the dashboard takes effect on the very next API request, whichever way
// the key is presented.
func TestRevokeTakesEffectAtOnce(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "revoker@example.com")

	revokes := []struct {
		name   string
		revoke func(id string) *http.Response
	}{
		{"htmx DELETE", func(id string) *http.Response {
			resp, _ := c.Do(http.MethodDelete, dashboard+"/keys/"+id, nil, "HX-Request: true")
			return resp
		}},
		{"plain form POST", func(id string) *http.Response {
			resp, _ := c.Post(dashboard+"/keys/"+id+"/revoke", url.Values{})
			return resp
		}},
	}
	for _, r := range revokes {
		for _, auth := range authStyles {
			t.Run(r.name+" "+auth.name, func(t *testing.T) {
				key, id := c.CreateKey("doomed")
				other, _ := c.CreateKey("bystander")
				warm(t, a, key)
				warm(t, a, other)
				if resp := r.revoke(id); resp.StatusCode >= 400 {
					t.Fatalf("revoke: status %d", resp.StatusCode)
				}
				for _, route := range []struct{ method, path, body string }{
					{"GET", "/api/products", ""},
					{"POST", "/api/products", `{"name":"x","price":1}`},
					{"POST", "/api/products/create", `{"name":"x","price":1}`},
				} {
					resp, body := a.Request(t, route.method, route.path, route.body, auth.header(key))
					checkAPIError(t, resp, body, http.StatusForbidden, "api_key_revoked", "Invalid API Key")
				}
				if resp, body := a.Request(t, http.MethodGet, "/api/products", "", auth.header(other)); resp.StatusCode != http.StatusOK {
					t.Errorf("another key stopped working: %d %s", resp.StatusCode, body)
				}
			})
		}
	}
}

// A revocation by another process (the CLI) is noticed by the running server within
// the SPEC's 1 s.
func TestRevokeByAnotherConnection(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "cli@example.com")
	key, id := c.CreateKey("revoked elsewhere")
	other, _ := c.CreateKey("bystander")
	warm(t, a, key)
	warm(t, a, other)

	db, err := database.Open(context.Background(), a.DBPath, testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := queries.New(db.Write).RevokeAPIKeyByID(context.Background(), queries.RevokeAPIKeyByIDParams{
		Now: sql.NullInt64{Int64: a.Clock.Now().UnixMilli(), Valid: true}, ID: id,
	})
	if err != nil || n != 1 {
		t.Fatalf("revoke by id: %d rows, %v", n, err)
	}
	revokedAt := time.Now()

	for {
		resp, body := a.API(t, http.MethodGet, "/api/products", key, "")
		if resp.StatusCode == http.StatusForbidden {
			checkAPIError(t, resp, body, http.StatusForbidden, "api_key_revoked", "Invalid API Key")
			break
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("unexpected answer while waiting: %d %s", resp.StatusCode, body)
		}
		if waited := time.Since(revokedAt); waited > time.Second {
			t.Fatalf("the key still works %v after another connection revoked it", waited)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("noticed after %v", time.Since(revokedAt))
	if resp, body := a.API(t, http.MethodGet, "/api/products", other, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("another key stopped working: %d %s", resp.StatusCode, body)
	}
	// The dashboard shows it revoked, too.
	if _, body := c.Get(dashboard); rowStatus(body, id) != "revoked" {
		t.Errorf("dashboard row status %q, want revoked", rowStatus(body, id))
	}
}

// An expiry passing while the key is cached ends it on the next request too.
func TestExpiryWhileCached(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "expiry@example.com")
	key, _ := c.CreateKey("week", testapp.KeyOptions{ExpiresInDays: 7})
	warm(t, a, key)
	a.Clock.Advance(7*24*time.Hour - time.Second)
	warm(t, a, key)
	a.Clock.Advance(time.Second)
	resp, body := a.API(t, http.MethodGet, "/api/products", key, "")
	checkAPIError(t, resp, body, http.StatusForbidden, "api_key_expired", "Invalid API Key")
}

// An expired key is revoked by the same rule as its button: the row offers Revoke, the
// POST revokes it and the audit log records it; a revoked key offers neither action and
// shows when it was revoked instead of its expiry.
func TestRevokeExpiredKeyFollowsItsButton(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "expired@example.com")
	_, id := c.CreateKey("old", testapp.KeyOptions{ExpiresInDays: 7})
	a.Clock.Advance(8 * 24 * time.Hour)

	row := keyRowHTML(t, c, id)
	if !strings.Contains(row, ">Expired<") || !strings.Contains(row, `aria-label="Revoke old"`) || strings.Contains(row, `aria-label="Roll old"`) {
		t.Fatalf("expired row, want Expired with a Revoke button and no Roll button:\n%s", row)
	}
	resp, body := c.Do(http.MethodDelete, dashboard+"/keys/"+id, nil, "HX-Request: true")
	if resp.StatusCode != http.StatusOK || rowStatus(body, id) != "revoked" {
		t.Fatalf("revoking the expired key: %d, row status %q\n%s", resp.StatusCode, rowStatus(body, id), body)
	}
	if strings.Contains(body, `aria-label="Revoke old"`) || strings.Contains(body, `aria-label="Roll old"`) {
		t.Errorf("the revoked row still offers an action:\n%s", body)
	}
	if !regexp.MustCompile(`Revoked <time data-relative [^>]+>just now</time>`).MatchString(body) {
		t.Errorf("the revoked row does not say when it was revoked:\n%s", body)
	}
	if _, audit := c.Get("/dashboard/audit"); !strings.Contains(audit, "Revoked key") {
		t.Error("the audit log lacks the revocation")
	}
}
