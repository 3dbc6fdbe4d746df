package handlers_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"keyport/queries"
	"keyport/testapp"
)

// checkAPIError checks an API error response: status, JSON content type, and exactly
// the SPEC's {"message","code"} shape. msg "" skips the message comparison.
func checkAPIError(t testing.TB, resp *http.Response, body string, status int, code, msg string) {
	t.Helper()
	if got := resp.StatusCode; got != status {
		t.Errorf("status = %d, want %d; body %s", got, status, body)
	}
	if got := resp.Header.Get("WWW-Authenticate"); (status == http.StatusUnauthorized) != (got != "") {
		t.Errorf("status %d with WWW-Authenticate %q: a 401 names its scheme, other answers do not", status, got)
	}
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var e map[string]any
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body is not JSON: %v\n%s", err, body)
	}
	if len(e) != 2 {
		t.Errorf("error body has fields %v, want exactly message and code", e)
	}
	if got, _ := e["code"].(string); got != code {
		t.Errorf("code = %q, want %q; body %s", got, code, body)
	}
	m, ok := e["message"].(string)
	if !ok || m == "" {
		t.Errorf("message = %v, want a non-empty string", e["message"])
	}
	if msg != "" && m != msg {
		t.Errorf("message = %q, want %q", m, msg)
	}
}

// checkEncodingJSON checks an API answer byte for byte against what encoding/json's
// Encoder (which Echo's c.JSON uses) writes for the same value, decoded from it into v
// (escapes, field order, trailing newline), indented by indent as c.JSON does for ?pretty.
func checkEncodingJSON(t testing.TB, resp *http.Response, body string, v any, indent string) {
	t.Helper()
	if got := resp.Header.Values("Content-Type"); len(got) != 1 || got[0] != "application/json" {
		t.Errorf("Content-Type %q, want [application/json]", got)
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		t.Fatalf("%v\n%s", err, body)
	}
	var want strings.Builder
	enc := json.NewEncoder(&want)
	enc.SetIndent("", indent)
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	if body != want.String() {
		t.Errorf("answer is not encoding/json's:\n got %q\nwant %q", body, want.String())
	}
}

// orgID returns the organization of the account with email.
func orgID(t testing.TB, a *testapp.App, email string) string {
	t.Helper()
	ctx := context.Background()
	u, err := a.Server.Read.GetUserByEmail(ctx, email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	m, err := a.Server.Read.GetSessionMember(ctx, queries.GetSessionMemberParams{UserID: u.ID})
	if err != nil {
		t.Fatalf("organization of %s: %v", email, err)
	}
	return m.OrgID
}

// keyCount is how many keys (of any state) the organization of email has.
func keyCount(t testing.TB, a *testapp.App, email string) int64 {
	t.Helper()
	keys, err := a.Server.Read.ListAPIKeys(context.Background(), queries.ListAPIKeysParams{
		OrgID: orgID(t, a, email), Before: math.MaxInt64, IncludeRevoked: 1, Limit: math.MaxInt64,
	})
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(keys))
}

// cookie returns the value of the named cookie set by resp, "" if none.
func cookie(resp *http.Response, name string) string {
	for _, c := range resp.Cookies() {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

const sessionCookie = "keyport_session"

var dataStatusRE = regexp.MustCompile(`data-status="([a-z]+)"`)

// rowStatus is the data-status of the keys table row for key id, "" if there is no row.
func rowStatus(html, id string) string {
	tag := regexp.MustCompile(`<tr[^>]*\sid="key-` + regexp.QuoteMeta(id) + `"[^>]*>`).FindString(html)
	if m := dataStatusRE.FindStringSubmatch(tag); m != nil {
		return m[1]
	}
	return ""
}
