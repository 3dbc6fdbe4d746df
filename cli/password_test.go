package cli_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport/testapp"
)

// `keyport user password` sets the password from stdin and ends every session of the
// user, also on a running server.
func TestUserPasswordEndsSessions(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "cli@example.com")
	if resp, _ := c.Get("/dashboard/integrations/api"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in: %d", resp.StatusCode)
	}
	if code, _, stderr := run(t, "password\n", "user", "password", "--email", "cli@example.com", "-db", a.DBPath); code == 0 || !strings.Contains(stderr, "too common") {
		t.Errorf("a common password: exit %d, stderr %q; want a refusal", code, stderr)
	}
	out := must(t, "a brand new passphrase\n", "user", "password", "--email", "CLI@example.com", "-db", a.DBPath)
	if !strings.Contains(out, "cli@example.com") {
		t.Errorf("output %q", out)
	}
	if resp, _ := c.Get("/dashboard/integrations/api"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the session after `user password`: status %d, want 303 to /login", resp.StatusCode)
	}
	login := func(pw string) int {
		resp, _ := a.NewClient(t).Post("/login", url.Values{"email": {"cli@example.com"}, "password": {pw}})
		return resp.StatusCode
	}
	if got := login(testapp.Password); got != http.StatusUnauthorized {
		t.Errorf("the old password: %d, want 401", got)
	}
	if got := login("a brand new passphrase"); got != http.StatusSeeOther {
		t.Errorf("the new password: %d, want 303", got)
	}
	if code, _, _ := run(t, "a brand new passphrase\n", "user", "password", "--email", "nobody@example.com", "-db", a.DBPath); code != 1 {
		t.Errorf("an unknown email: exit %d, want 1", code)
	}
}
