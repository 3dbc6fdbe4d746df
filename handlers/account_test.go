package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport/testapp"
)

// Finding 5: there was no password change and no "sign out everywhere".
func TestChangePassword(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.Signup(t, "change@example.com")
	c1, t1 := signIn(t, a, "change@example.com")
	_, t2 := signIn(t, a, "change@example.com")
	if _, body := c1.Get("/dashboard/account"); !strings.Contains(body, "3 sessions are signed in") {
		t.Errorf("the account page does not count the 3 sessions:\n%.400s", body)
	}
	change := func(current, next string) (*http.Response, string) {
		return c1.Post("/dashboard/account/password", url.Values{"current_password": {current}, "new_password": {next}})
	}
	const next = "a new and better passphrase"
	for _, tt := range []struct{ name, current, next, msg string }{
		{"wrong current password", "wrong-password", next, "current password is incorrect"},
		{"common new password", testapp.Password, "Password123", "too common"},
		{"short new password", testapp.Password, "short", "8 to 72 bytes"},
	} {
		resp, body := change(tt.current, tt.next)
		if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(formError(body), tt.msg) {
			t.Errorf("%s: status %d, message %q; want 422 with %q", tt.name, resp.StatusCode, formError(body), tt.msg)
		}
	}
	resp, body := change(testapp.Password, next)
	checkRedirect(t, resp, body, "/dashboard/account")
	if resp, _ := c1.Get(dashboard); resp.StatusCode != http.StatusOK {
		t.Errorf("the session that changed the password: status %d, want 200 (it stays signed in)", resp.StatusCode)
	}
	if got := cookie(resp, sessionCookie); got == "" || got == t1 {
		t.Error("the changing session's token was not renewed")
	}
	checkSignedOut(t, a, t1, "the changing session's old token")
	checkSignedOut(t, a, t2, "another session after the password change")
	if resp, _ := login(a.NewClient(t), "change@example.com", testapp.Password); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password: status %d, want 401", resp.StatusCode)
	}
	resp, body = login(a.NewClient(t), "change@example.com", next)
	checkRedirect(t, resp, body, dashboard)
	if n := auditCount(t, a, "password_changed"); n != 1 {
		t.Errorf("%d password_changed events, want 1", n)
	}
	if _, body := c1.Get("/dashboard/audit"); !strings.Contains(body, "Changed password") {
		t.Error("the audit log does not show the password change")
	}
}

func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.Signup(t, "everywhere@example.com")
	c1, t1 := signIn(t, a, "everywhere@example.com")
	_, t2 := signIn(t, a, "everywhere@example.com")
	a.Signup(t, "bystander@example.com")
	_, t3 := signIn(t, a, "bystander@example.com")
	resp, body := c1.Post("/dashboard/account/sign-out-everywhere", url.Values{})
	checkRedirect(t, resp, body, "/login")
	checkSignedOut(t, a, t1, "this session")
	checkSignedOut(t, a, t2, "another session")
	if resp := withToken(t, a, t3, dashboard); resp.StatusCode != http.StatusOK {
		t.Errorf("another user's session: status %d, want 200", resp.StatusCode)
	}
	if resp, _ := c1.Get(dashboard); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the browser that signed out everywhere: status %d, want 303", resp.StatusCode)
	}
}
