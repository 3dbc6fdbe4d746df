package handlers_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"keyport/apikey"
	"keyport/org"
	"keyport/queries"
	"keyport/testapp"
)

const keysAPI = "/api/v1/keys"

type keyObject struct {
	ID, Name, Hint, Status, CreatedAt string
	Scopes                            []string
	CreatedBy                         *string
	ExpiresAt, LastUsedAt, RevokedAt  *string
	Key                               string
	PreviousKey                       *keyObject
}

// manage calls the key management API with root and decodes the key (or list) answered.
func manage(t *testing.T, a *testapp.App, method, path, root, body string, want int) (keyObject, string) {
	t.Helper()
	resp, out := a.API(t, method, path, root, body)
	if resp.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d\n%s", method, path, resp.StatusCode, want, out)
	}
	var k keyObject
	if want < 300 && !strings.HasPrefix(out, `{"data"`) {
		if err := json.Unmarshal([]byte(out), &k); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, out)
		}
	}
	return k, out
}

// auditEvents is the organization of email's audit log, newest first.
func auditEvents(t *testing.T, a *testapp.App, email string) []queries.AuditEvent {
	t.Helper()
	events, err := a.Server.Read.ListAuditEvents(t.Context(), queries.ListAuditEventsParams{
		OrgID: sql.NullString{String: orgID(t, a, email), Valid: true}, Before: 1 << 62, Limit: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	return events
}

func TestKeysAPICreate(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "create-api@example.com")
	admin, adminID := rootKey(c, "deployer", "keys:read", "keys:write")
	hint := keyHint(t, a, adminID)

	k, body := manage(t, a, http.MethodPost, keysAPI, admin,
		`{"name":"Billing","scopes":["billing:read","products:read"],"expiresInDays":30}`, http.StatusCreated)
	if !keyRE.MatchString(k.Key) || strings.Count(body, k.Key) != 1 {
		t.Fatalf("the create answer holds the key %q once? %s", k.Key, body)
	}
	if k.Name != "Billing" || k.Status != "active" || !slices.Equal(k.Scopes, []string{"products:read", "billing:read"}) ||
		k.Hint != apikey.Hint(k.Key) || k.CreatedBy != nil || k.RevokedAt != nil || k.LastUsedAt != nil {
		t.Errorf("created key = %+v", k)
	}
	if want := a.Clock.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339); k.ExpiresAt == nil || !strings.HasPrefix(*k.ExpiresAt, want[:19]) {
		t.Errorf("expiresAt = %v, want %s", k.ExpiresAt, want)
	}
	if resp, _ := a.API(t, http.MethodGet, "/api/products", k.Key, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("the new key cannot read products: %d", resp.StatusCode)
	}
	events := auditEvents(t, a, "create-api@example.com")
	if e := events[0]; e.Action != string(org.KeyCreated) || e.KeyID.String != k.ID || e.ActorID.Valid ||
		e.ActorEmail != "Root key “deployer” ("+hint+")" {
		t.Errorf("audit event = %+v, want key_created by the root key", e)
	}
	// The key is never shown again.
	if _, got := manage(t, a, http.MethodGet, keysAPI+"/"+k.ID, admin, "", http.StatusOK); strings.Contains(got, k.Key) || strings.Contains(got, `"key"`) {
		t.Errorf("GET shows the key: %s", got)
	}

	t.Run("bad bodies", func(t *testing.T) {
		for _, tt := range []struct{ body, code, msg string }{
			{`{"scopes":["products:read"]}`, "invalid_request", "Name is required."},
			{`{"name":"x"}`, "invalid_request", "Choose at least one scope."},
			{`{"name":"x","scopes":["products:read"],"expiresInDays":3}`, "invalid_request", ""},
			{`{"name":"x","scopes":["Bad Scope"]}`, "invalid_request", ""},
			{`{"name":"x","scopes":["keys:admin"]}`, "invalid_request", ""},
			{`{"name":"x","scopes":["products:read"],"extra":1}`, "invalid_request", ""},
			{`{"name":"x","scopes":"products:read"}`, "invalid_json", ""},
			{`{"name":1,"scopes":["products:read"]}`, "invalid_json", ""},
			{`{"name":"x",`, "invalid_json", ""},
		} {
			resp, out := a.API(t, http.MethodPost, keysAPI, admin, tt.body)
			checkAPIError(t, resp, out, http.StatusBadRequest, tt.code, tt.msg)
		}
	})
	t.Run("a root key grants no keys scope it lacks", func(t *testing.T) {
		resp, out := a.API(t, http.MethodPost, keysAPI, admin, `{"name":"x","scopes":["keys:verify"]}`)
		checkAPIError(t, resp, out, http.StatusForbidden, "insufficient_scope", "This API key cannot grant the keys:verify scope it lacks")
		k, _ := manage(t, a, http.MethodPost, keysAPI, admin, `{"name":"deputy","scopes":["keys:read"]}`, http.StatusCreated)
		if !slices.Equal(k.Scopes, []string{"keys:read"}) {
			t.Errorf("scopes %v", k.Scopes)
		}
		// A keys:read key manages nothing.
		resp, out = a.API(t, http.MethodPost, keysAPI, k.Key, `{"name":"x","scopes":["products:read"]}`)
		checkAPIError(t, resp, out, http.StatusForbidden, "insufficient_scope", "This API key lacks the keys:write scope")
	})
}

// keyHint is the stored hint of key id.
func keyHint(t *testing.T, a *testapp.App, id string) string {
	t.Helper()
	k, err := a.Server.Read.GetAPIKeyByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return k.Hint
}

func TestKeysAPIListAndGet(t *testing.T) {
	a := testapp.New(t, withRateLimit(0))
	c := a.Signup(t, "list-api@example.com")
	admin, adminID := rootKey(c, "admin", "keys:read")
	var ids []string
	for i := range 5 {
		_, id := c.CreateKey(fmt.Sprintf("key %d", i))
		ids = append(ids, id)
	}
	other := a.Signup(t, "list-api-other@example.com")
	_, foreignID := other.CreateKey("foreign")

	var got []string
	cursor := ""
	for page := 0; ; page++ {
		_, body := manage(t, a, http.MethodGet, keysAPI+"?limit=2"+cursor, admin, "", http.StatusOK)
		var list struct {
			Data       []keyObject
			NextCursor *string
		}
		if err := json.Unmarshal([]byte(body), &list); err != nil {
			t.Fatal(err)
		}
		if len(list.Data) > 2 {
			t.Fatalf("page %d has %d keys, want at most 2", page, len(list.Data))
		}
		for _, k := range list.Data {
			got = append(got, k.ID)
		}
		if list.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *list.NextCursor
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0], adminID}
	if !slices.Equal(got, want) {
		t.Errorf("listed %v, want newest first %v", got, want)
	}
	if slices.Contains(got, foreignID) {
		t.Error("another organization's key is listed")
	}

	k, _ := manage(t, a, http.MethodGet, keysAPI+"/"+ids[0], admin, "", http.StatusOK)
	if k.ID != ids[0] || k.Name != "key 0" || k.Status != "active" || k.CreatedBy == nil || *k.CreatedBy == "" {
		t.Errorf("GET = %+v", k)
	}
	for _, id := range []string{foreignID, "key_missing"} {
		resp, out := a.API(t, http.MethodGet, keysAPI+"/"+id, admin, "")
		checkAPIError(t, resp, out, http.StatusNotFound, "not_found", "")
	}
	for _, q := range []string{"?status=rolled", "?limit=0", "?cursor=nope!"} {
		resp, out := a.API(t, http.MethodGet, keysAPI+q, admin, "")
		checkAPIError(t, resp, out, http.StatusBadRequest, "invalid_request", "")
	}
}

// TestListKeysStatusFilterMatchesState: the list's ?status= filter, decided in SQL, puts
// every key where apikey.State puts it.
func TestListKeysStatusFilterMatchesState(t *testing.T) {
	a := testapp.New(t, withRateLimit(0))
	c := a.Signup(t, "status-api@example.com")
	admin, _ := rootKey(c, "admin", "keys:read", "keys:write")
	c.CreateKey("active")
	c.CreateKey("expires in 7 days", testapp.KeyOptions{ExpiresInDays: 7})
	c.CreateKey("expires in 30 days", testapp.KeyOptions{ExpiresInDays: 30})
	_, revoked := c.CreateKey("revoked")
	manage(t, a, http.MethodPost, keysAPI+"/"+revoked+"/revoke", admin, "", http.StatusOK)
	_, rolled := c.CreateKey("rolled")
	manage(t, a, http.MethodPost, keysAPI+"/"+rolled+"/roll", admin, `{"grace":"168h"}`, http.StatusCreated)
	_, rolledNow := c.CreateKey("rolled now")
	manage(t, a, http.MethodPost, keysAPI+"/"+rolledNow+"/roll", admin, `{"grace":"0"}`, http.StatusCreated)
	_, expiredRevoked := c.CreateKey("expired, then revoked", testapp.KeyOptions{ExpiresInDays: 7})

	for _, at := range []time.Duration{0, 4 * 24 * time.Hour, 8 * 24 * time.Hour, 31 * 24 * time.Hour} {
		a.Clock.Advance(at)
		if at == 8*24*time.Hour {
			manage(t, a, http.MethodPost, keysAPI+"/"+expiredRevoked+"/revoke", admin, "", http.StatusOK)
		}
		all, err := a.Server.Read.ListAPIKeys(t.Context(), queries.ListAPIKeysParams{
			OrgID: orgID(t, a, "status-api@example.com"), Before: 1 << 62, IncludeRevoked: 1, Limit: 100,
		})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]string{}
		for _, r := range all {
			k := r.ApiKey
			switch st := org.KeyState(k, a.Clock.Now()); {
			case st == apikey.Revoked:
				want["revoked"] = append(want["revoked"], k.ID)
			case st == apikey.Expired:
				want["expired"] = append(want["expired"], k.ID)
			default:
				want["active"] = append(want["active"], k.ID)
			}
		}
		for _, status := range []string{"active", "revoked", "expired"} {
			_, body := manage(t, a, http.MethodGet, keysAPI+"?limit=100&status="+status, admin, "", http.StatusOK)
			var list struct{ Data []keyObject }
			json.Unmarshal([]byte(body), &list)
			var got []string
			for _, k := range list.Data {
				got = append(got, k.ID)
				if st := map[string][]string{"active": {"active", "expiring"}}[status]; st != nil && !slices.Contains(st, k.Status) || st == nil && k.Status != status {
					t.Errorf("after %v, ?status=%s lists %s as %s", at, status, k.Name, k.Status)
				}
			}
			if !slices.Equal(got, want[status]) {
				t.Errorf("after %v, ?status=%s lists %v, want %v", at, status, got, want[status])
			}
		}
	}
}

func TestKeysAPIRevoke(t *testing.T) {
	a := testapp.New(t, withRateLimit(0))
	c := a.Signup(t, "revoke-api@example.com")
	admin, _ := rootKey(c, "ops", "keys:write")
	key, id := c.CreateKey("doomed")
	other := a.Signup(t, "revoke-api-other@example.com")
	foreign, foreignID := other.CreateKey("foreign")

	k, _ := manage(t, a, http.MethodPost, keysAPI+"/"+id+"/revoke", admin, "", http.StatusOK)
	if k.Status != "revoked" || k.RevokedAt == nil || k.ID != id {
		t.Errorf("revoke = %+v", k)
	}
	if resp, _ := a.API(t, http.MethodGet, "/api/products", key, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the revoked key still works: %d", resp.StatusCode)
	}
	again, _ := manage(t, a, http.MethodPost, keysAPI+"/"+id+"/revoke", admin, "", http.StatusOK)
	if again.Status != "revoked" || *again.RevokedAt != *k.RevokedAt {
		t.Errorf("revoking twice = %+v, want the same revoked key", again)
	}
	var revokes int
	for _, e := range auditEvents(t, a, "revoke-api@example.com") {
		if e.Action == string(org.KeyRevoked) {
			revokes++
			if !strings.HasPrefix(e.ActorEmail, "Root key “ops” (kp_") || e.KeyID.String != id {
				t.Errorf("audit event = %+v", e)
			}
		}
	}
	if revokes != 1 {
		t.Errorf("%d key_revoked events, want 1", revokes)
	}

	for _, target := range []string{foreignID, "key_missing"} {
		resp, out := a.API(t, http.MethodPost, keysAPI+"/"+target+"/revoke", admin, "")
		checkAPIError(t, resp, out, http.StatusNotFound, "not_found", "")
	}
	if resp, _ := a.API(t, http.MethodGet, "/api/products", foreign, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("another organization's key stopped working: %d", resp.StatusCode)
	}
}

func TestKeysAPIRoll(t *testing.T) {
	a := testapp.New(t, withRateLimit(0))
	c := a.Signup(t, "roll-api@example.com")
	admin, _ := rootKey(c, "ops", "keys:write")
	old, id := c.CreateKey("rotating", testapp.KeyOptions{Scopes: []string{"products:read"}, ExpiresInDays: 90})
	_, foreignID := a.Signup(t, "roll-api-other@example.com").CreateKey("foreign")

	k, body := manage(t, a, http.MethodPost, keysAPI+"/"+id+"/roll", admin, `{"grace":"1h"}`, http.StatusCreated)
	if !keyRE.MatchString(k.Key) || strings.Count(body, k.Key) != 1 || strings.Contains(body, old) {
		t.Fatalf("roll answer: %s", body)
	}
	if k.ID == id || k.Name != "rotating" || !slices.Equal(k.Scopes, []string{"products:read"}) || k.Status != "active" {
		t.Errorf("new key = %+v", k)
	}
	if want := a.Clock.Now().Add(90 * 24 * time.Hour).UTC().Format(time.RFC3339); k.ExpiresAt == nil || !strings.HasPrefix(*k.ExpiresAt, want[:19]) {
		t.Errorf("new key expires %v, want the same 90 days from now, %s", k.ExpiresAt, want)
	}
	prev := k.PreviousKey
	if want := a.Clock.Now().Add(time.Hour).UTC().Format(time.RFC3339); prev == nil || prev.ID != id || prev.Status != "expiring" ||
		prev.ExpiresAt == nil || !strings.HasPrefix(*prev.ExpiresAt, want[:19]) {
		t.Errorf("previous key = %+v, want it expiring at %s", prev, want)
	}
	for _, key := range []string{old, k.Key} {
		if resp, _ := a.API(t, http.MethodGet, "/api/products", key, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("during the grace period a key is refused: %d", resp.StatusCode)
		}
	}
	a.Clock.Advance(time.Hour)
	if resp, _ := a.API(t, http.MethodGet, "/api/products", old, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("after the grace period the old key works: %d", resp.StatusCode)
	}
	if e := auditEvents(t, a, "roll-api@example.com")[0]; e.Action != string(org.KeyRolled) || e.KeyID.String != id ||
		!strings.HasPrefix(e.ActorEmail, "Root key “ops”") || !strings.Contains(e.Detail, "1 hour") {
		t.Errorf("audit event = %+v", e)
	}

	resp, out := a.API(t, http.MethodPost, keysAPI+"/"+id+"/roll", admin, `{"grace":"0"}`)
	checkAPIError(t, resp, out, http.StatusConflict, "key_not_rollable", "")
	for _, target := range []string{foreignID, "key_missing"} {
		resp, out := a.API(t, http.MethodPost, keysAPI+"/"+target+"/roll", admin, `{"grace":"0"}`)
		checkAPIError(t, resp, out, http.StatusNotFound, "not_found", "")
	}
	resp, out = a.API(t, http.MethodPost, keysAPI+"/"+k.ID+"/roll", admin, `{"grace":"2h"}`)
	checkAPIError(t, resp, out, http.StatusBadRequest, "invalid_request", "")

	// No body: the dashboard's default grace period, 24 hours.
	r, _ := manage(t, a, http.MethodPost, keysAPI+"/"+k.ID+"/roll", admin, "", http.StatusCreated)
	if want := a.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339); !strings.HasPrefix(*r.PreviousKey.ExpiresAt, want[:19]) {
		t.Errorf("default grace: old key expires %s, want %s", *r.PreviousKey.ExpiresAt, want)
	}
}

// TestKeysAPIRootKeyRefused: a revoked or expired root key, or one without the route's
// scope, manages nothing.
func TestKeysAPIRootKeyRefused(t *testing.T) {
	a := testapp.New(t, withRateLimit(0))
	c := a.Signup(t, "root-refused@example.com")
	admin, adminID := rootKey(c, "admin", "keys:read", "keys:write")
	expiring, _ := c.CreateKey("expiring admin", testapp.KeyOptions{Scopes: []string{"keys:read", "keys:write"}, ExpiresInDays: 7})
	verifier, _ := rootKey(c, "verifier")
	_, target := c.CreateKey("target")
	routes := []struct{ method, path, body string }{
		{http.MethodGet, keysAPI, ""},
		{http.MethodPost, keysAPI, `{"name":"x","scopes":["products:read"]}`},
		{http.MethodGet, keysAPI + "/" + target, ""},
		{http.MethodPost, keysAPI + "/" + target + "/roll", `{"grace":"0"}`},
		{http.MethodPost, keysAPI + "/" + target + "/revoke", ""},
	}
	for _, r := range routes {
		resp, out := a.API(t, r.method, r.path, verifier, r.body)
		checkAPIError(t, resp, out, http.StatusForbidden, "insufficient_scope", "")
	}
	manage(t, a, http.MethodPost, keysAPI+"/"+adminID+"/revoke", admin, "", http.StatusOK)
	a.Clock.Advance(8 * 24 * time.Hour)
	for _, r := range routes {
		resp, out := a.API(t, r.method, r.path, admin, r.body)
		checkAPIError(t, resp, out, http.StatusForbidden, "api_key_revoked", "Invalid API Key")
		resp, out = a.API(t, r.method, r.path, expiring, r.body)
		checkAPIError(t, resp, out, http.StatusForbidden, "api_key_expired", "Invalid API Key")
	}
	if k, err := a.Server.Read.GetAPIKeyByID(t.Context(), target); err != nil || k.RevokedAt.Valid || k.RolledTo.Valid {
		t.Errorf("a refused root key changed the target: %+v, %v", k, err)
	}
}
