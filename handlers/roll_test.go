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

	"keyport/queries"
	"keyport/testapp"
)

var fullKeyRE = regexp.MustCompile(`kp_[0-9A-Za-z]{49}`)

// rollKey rolls key id through the dashboard as htmx does and returns the new key.
func rollKey(t *testing.T, c *testapp.Client, id, grace string) string {
	t.Helper()
	resp, body := c.Post("/dashboard/integrations/api/keys/"+id+"/roll", url.Values{"grace": {grace}}, "HX-Request: true")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("roll %s: status %d, want 201\n%s", id, resp.StatusCode, body)
	}
	keys := fullKeyRE.FindAllString(body, -1)
	if len(keys) != 1 {
		t.Fatalf("roll %s: response shows %d full keys, want 1\n%s", id, len(keys), body)
	}
	return keys[0]
}

// keyRowHTML returns the table row of key id on the keys page.
func keyRowHTML(t *testing.T, c *testapp.Client, id string) string {
	t.Helper()
	_, body := c.Get("/dashboard/integrations/api")
	start := strings.Index(body, `<tr id="key-`+id+`"`)
	if start < 0 {
		t.Fatalf("no row for %s on the keys page", id)
	}
	end := strings.Index(body[start:], "</tr>")
	return body[start : start+end]
}

func apiStatus(t *testing.T, a *testapp.App, method, path, key, body string) (int, string) {
	t.Helper()
	resp, b := a.API(t, method, path, key, body)
	return resp.StatusCode, b
}

func TestRollKeepsOldKeyDuringGraceOnly(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "roll@example.com")
	oldKey, oldID := c.CreateKey("backend", testapp.KeyOptions{Scopes: []string{"products:read"}, ExpiresInDays: 30})
	a.Clock.Advance(24 * time.Hour)

	resp, body := c.Get("/dashboard/integrations/api/keys/"+oldID+"/roll", "HX-Request: true")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("roll dialog: status %d\n%s", resp.StatusCode, body)
	}
	for _, want := range []string{`hx-post="/dashboard/integrations/api/keys/` + oldID + `/roll"`, `value="0"`, `value="1h"`, `value="24h" checked`, `value="168h"`} {
		if !strings.Contains(body, want) {
			t.Errorf("roll dialog lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "<html") {
		t.Error("htmx roll dialog is a full page, want a fragment")
	}

	newKey := rollKey(t, c, oldID, "1h")
	if newKey == oldKey {
		t.Fatal("roll returned the old key")
	}
	_, body = c.Get("/dashboard/integrations/api")
	if strings.Contains(body, newKey) || strings.Contains(body, oldKey) {
		t.Fatal("the keys page shows a full key")
	}
	newID := regexp.MustCompile(`<tr id="key-(key_[0-9A-Za-z]+)"`).FindStringSubmatch(body)[1]
	if newID == oldID {
		t.Fatal("the newest row is the old key")
	}
	if row := keyRowHTML(t, c, oldID); !strings.Contains(row, "Rolled — expires in 1 hour") || strings.Contains(row, ">Roll<") {
		t.Errorf("old row during grace, want “Rolled — expires in 1 hour” and no Roll button:\n%s", row)
	}
	// Same name and scope, and the same 30-day period counted from the roll.
	newRow := keyRowHTML(t, c, newID)
	for _, want := range []string{"backend", "products:read", "in 30 days", ">Active<", ">Roll<"} {
		if !strings.Contains(newRow, want) {
			t.Errorf("new row lacks %q:\n%s", want, newRow)
		}
	}
	if strings.Contains(newRow, "products:write") {
		t.Errorf("new row has a scope the old key lacked:\n%s", newRow)
	}

	for _, k := range []string{oldKey, newKey} {
		if got, body := apiStatus(t, a, "GET", "/api/products", k, ""); got != http.StatusOK {
			t.Fatalf("during grace: status %d, want 200\n%s", got, body)
		}
		if got, body := apiStatus(t, a, "POST", "/api/products", k, `{"name":"x","price":1}`); got != http.StatusForbidden || !strings.Contains(body, "insufficient_scope") {
			t.Fatalf("write with a read-only key: status %d, want 403 insufficient_scope\n%s", got, body)
		}
	}

	a.Clock.Advance(time.Hour - time.Millisecond)
	if got, body := apiStatus(t, a, "GET", "/api/products", oldKey, ""); got != http.StatusOK {
		t.Fatalf("last moment of grace: status %d, want 200\n%s", got, body)
	}
	a.Clock.Advance(time.Millisecond)
	got, body := apiStatus(t, a, "GET", "/api/products", oldKey, "")
	if got != http.StatusForbidden || !strings.Contains(body, `"code":"api_key_expired"`) {
		t.Fatalf("after grace: status %d %s, want 403 api_key_expired", got, body)
	}
	if got, body := apiStatus(t, a, "GET", "/api/products", newKey, ""); got != http.StatusOK {
		t.Fatalf("new key after grace: status %d, want 200\n%s", got, body)
	}
	if row := keyRowHTML(t, c, oldID); !strings.Contains(row, ">Expired<") {
		t.Errorf("old row after grace, want Expired:\n%s", row)
	}

	events, err := a.Server.Read.ListAuditEvents(context.Background(), queries.ListAuditEventsParams{OrgID: sql.NullString{String: orgID(t, a, "roll@example.com"), Valid: true}, Before: 1 << 62, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := events[0].Action, "key_rolled"; got != want {
		t.Fatalf("newest audit event %q, want %q", got, want)
	}
	if got, want := events[0].KeyID.String, oldID; got != want {
		t.Errorf("key_rolled event names key %q, want %q", got, want)
	}
	if !strings.Contains(events[0].Detail, "1 hour") {
		t.Errorf("key_rolled detail %q does not name the grace period", events[0].Detail)
	}

	// A rolled key cannot be rolled again.
	if resp, body := c.Post("/dashboard/integrations/api/keys/"+oldID+"/roll", url.Values{"grace": {"0"}}, "HX-Request: true"); resp.StatusCode != http.StatusConflict {
		t.Errorf("rolling a rolled key: status %d, want 409\n%s", resp.StatusCode, body)
	}
}

func TestRollWithoutGraceStopsTheOldKeyAtOnce(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "now@example.com")
	oldKey, oldID := c.CreateKey("ci")
	newKey := rollKey(t, c, oldID, "0")
	if got, body := apiStatus(t, a, "GET", "/api/products", oldKey, ""); got != http.StatusForbidden || !strings.Contains(body, "api_key_expired") {
		t.Fatalf("old key right after a roll without grace: %d %s, want 403 api_key_expired", got, body)
	}
	if got, _ := apiStatus(t, a, "POST", "/api/products", newKey, `{"name":"x","price":1}`); got != http.StatusCreated {
		t.Fatalf("new key: status %d, want 201", got)
	}
	// The old key never expired, so neither does the new one.
	_, body := c.Get("/dashboard/integrations/api")
	newID := regexp.MustCompile(`<tr id="key-(key_[0-9A-Za-z]+)"`).FindStringSubmatch(body)[1]
	if row := keyRowHTML(t, c, newID); !strings.Contains(row, "Never") {
		t.Errorf("new key of a never-expiring key, want it never to expire:\n%s", row)
	}
}

func TestRollErrors(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "err@example.com")
	_, id := c.CreateKey("mine")
	other := a.Signup(t, "other@example.com")
	_, revokedID := c.CreateKey("revoked")
	if resp, _ := c.Post("/dashboard/integrations/api/keys/"+revokedID+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: status %d", resp.StatusCode)
	}

	tests := []struct {
		name   string
		client *testapp.Client
		method string
		id     string
		grace  string
		status int
		body   string
	}{
		{"another organization's key (dialog)", other, "GET", id, "", http.StatusNotFound, ""},
		{"another organization's key", other, "POST", id, "1h", http.StatusNotFound, ""},
		{"unknown key", c, "POST", "key_nope", "1h", http.StatusNotFound, ""},
		{"revoked key (dialog)", c, "GET", revokedID, "", http.StatusConflict, "can no longer be rolled"},
		{"revoked key", c, "POST", revokedID, "1h", http.StatusConflict, "can no longer be rolled"},
		{"grace not offered", c, "POST", id, "2h", http.StatusUnprocessableEntity, "Choose a grace period"},
		{"grace missing", c, "POST", id, "", http.StatusUnprocessableEntity, "Choose a grace period"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var form url.Values
			if tt.method == "POST" {
				form = url.Values{"grace": {tt.grace}}
			}
			resp, body := tt.client.Do(tt.method, "/dashboard/integrations/api/keys/"+tt.id+"/roll", form)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			if !strings.Contains(body, tt.body) {
				t.Errorf("body lacks %q:\n%s", tt.body, body)
			}
			if fullKeyRE.MatchString(body) {
				t.Errorf("a failed roll shows a key:\n%s", body)
			}
		})
	}
	// Nothing above created a key.
	_, body := c.Get("/dashboard/integrations/api")
	if got, want := strings.Count(body, `class="key-row"`), 2; got != want {
		t.Errorf("%d key rows, want %d", got, want)
	}
}

// Without JavaScript the dialog is a page and the roll answers with a full page.
func TestRollWithoutJavaScript(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "nojs@example.com")
	_, id := c.CreateKey("plain")
	resp, body := c.Get("/dashboard/integrations/api/keys/" + id + "/roll")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<html") || !strings.Contains(body, `action="/dashboard/integrations/api/keys/`+id+`/roll"`) {
		t.Fatalf("roll page: status %d, want a full page with the form\n%s", resp.StatusCode, body)
	}
	resp, body = c.Post("/dashboard/integrations/api/keys/"+id+"/roll", url.Values{"grace": {"168h"}})
	if resp.StatusCode != http.StatusCreated || !strings.Contains(body, "<html") || !fullKeyRE.MatchString(body) {
		t.Fatalf("roll: status %d, want 201 and a full page with the new key\n%s", resp.StatusCode, body)
	}
	if got := resp.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if !regexp.MustCompile(`stops working <time [^>]+>in 7 days</time>`).MatchString(body) {
		t.Errorf("the page does not say when the old key stops:\n%s", body)
	}
}
