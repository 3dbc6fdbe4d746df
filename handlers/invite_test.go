package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyport/app"
	"keyport/handlers"
	"keyport/testapp"
)

const invalidInvitation = "This invitation is not valid."

// checkInvalid checks the one page every unusable link gets.
func checkInvalid(t *testing.T, c *testapp.Client, link string) {
	t.Helper()
	resp, body := c.Get(link)
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, invalidInvitation) {
		t.Errorf("GET %s: %d, want 404 %q\n%s", link, resp.StatusCode, invalidInvitation, body)
	}
	if strings.Contains(body, "Acme") || strings.Contains(body, "ada@example.com") {
		t.Errorf("GET %s: the invalid page names the organization or the inviter", link)
	}
	for _, path := range []string{link, link + "/signup"} {
		if resp, _ := c.Post(path, url.Values{"password": {testapp.Password}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s: %d, want 404", path, resp.StatusCode)
		}
	}
}

func TestInvitationStates(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	ada := a.NewClient(t)
	if resp, _ := ada.Post("/signup", url.Values{"email": {"ada@example.com"}, "password": {testapp.Password}, "org": {"Acme"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("signup")
	}
	org := orgID(t, a, "ada@example.com")

	t.Run("pending, signed out, new account", func(t *testing.T) {
		link := ada.Invite("Bea@Example.com", "member")
		visitor := a.NewClient(t)
		resp, body := visitor.Get(link)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET: %d\n%s", resp.StatusCode, body)
		}
		for _, want := range []string{"Join Acme", "ada@example.com", "bea@example.com", "a member", `action="` + link + `/signup"`, "readonly"} {
			if !strings.Contains(body, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		// The form's email is ignored: the account gets the invited one.
		resp, _ = visitor.Post(link+"/signup", url.Values{"email": {"mallory@example.com"}, "password": {testapp.Password}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign up: %d", resp.StatusCode)
		}
		if got := orgID(t, a, "bea@example.com"); got != org {
			t.Errorf("bea is in %s, want %s", got, org)
		}
		if _, body := visitor.Get(members); !strings.Contains(body, "bea@example.com") || !strings.Contains(body, `data-role="member"`) {
			t.Error("bea is not listed as a member")
		}
		orgs, err := a.Server.Read.ListUserOrganizations(t.Context(), userID(t, a, "bea@example.com"))
		if err != nil || len(orgs) != 1 {
			t.Errorf("bea is in %d organizations (%v), want only Acme: no organization of her own", len(orgs), err)
		}
		// Used.
		checkInvalid(t, a.NewClient(t), link)
	})

	t.Run("pending, signed out, existing account", func(t *testing.T) {
		a.Signup(t, "cid@example.com")
		link := ada.Invite("cid@example.com", "viewer")
		visitor := a.NewClient(t)
		_, body := visitor.Get(link)
		if !strings.Contains(body, `name="invite" value="`+strings.TrimPrefix(link, "/invite/")+`"`) || !strings.Contains(body, "Sign in and join") {
			t.Fatalf("no sign-in form for an existing account:\n%s", body)
		}
		resp, _ := visitor.Post("/login", url.Values{"email": {"cid@example.com"}, "password": {testapp.Password}, "invite": {strings.TrimPrefix(link, "/invite/")}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in: %d", resp.StatusCode)
		}
		_, body = visitor.Get(members)
		if !strings.Contains(body, "Acme") || !strings.Contains(body, "You are a viewer") {
			t.Errorf("cid did not join Acme as a viewer and switch to it:\n%s", body)
		}
	})

	t.Run("signed in as the invited email", func(t *testing.T) {
		dee := a.Signup(t, "dee@example.com")
		link := ada.Invite("dee@example.com", "admin")
		_, body := dee.Get(link)
		if !strings.Contains(body, `<form method="post" action="`+link+`">`) || !strings.Contains(body, "Join Acme") {
			t.Fatalf("no Join button:\n%s", body)
		}
		if resp, _ := dee.Post(link, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("join: %d", resp.StatusCode)
		}
		if _, body := dee.Get(members); !strings.Contains(body, "You are an admin") {
			t.Error("dee is not an admin of Acme")
		}
	})

	t.Run("signed in as someone else", func(t *testing.T) {
		eve := a.Signup(t, "eve@example.com")
		link := ada.Invite("fay@example.com", "member")
		before := orgState(t, a, org)
		resp, body := eve.Get(link)
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, "You are signed in as eve@example.com") ||
			!strings.Contains(body, `action="/logout"`) || !strings.Contains(body, `name="next" value="`+link+`"`) {
			t.Fatalf("the page does not say whose invitation it is and offer to sign out:\n%s", body)
		}
		if resp, _ := eve.Post(link, nil); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != link {
			t.Errorf("accept as someone else: %d to %q, want 303 back to the link", resp.StatusCode, resp.Header.Get("Location"))
		}
		if after := orgState(t, a, org); after != before {
			t.Errorf("the organization changed:\n%s\n%s", before, after)
		}
		// Signing out comes back to the link, which now offers to sign up.
		resp, _ = eve.Post("/logout", url.Values{"next": {link}})
		if got := resp.Header.Get("Location"); got != link {
			t.Errorf("sign out goes to %q, want %q", got, link)
		}
		if _, body := eve.Get(link); !strings.Contains(body, "Create account and join") {
			t.Error("after signing out the link does not offer to sign up")
		}
	})

	t.Run("already a member", func(t *testing.T) {
		hal := a.Signup(t, "hal@example.com")
		first := ada.Invite("hal@example.com", "viewer")
		second := ada.Invite("hal@example.com", "admin")
		if resp, _ := hal.Post(first, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatal("join")
		}
		// An invitation to a current member is refused when made...
		resp, body := ada.Post(members+"/invitations", url.Values{"email": {"hal@example.com"}, "role": {"admin"}}, "HX-Request: true")
		if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "already a member") {
			t.Errorf("inviting a member: %d\n%s", resp.StatusCode, body)
		}
		// ...and one made before he joined changes nothing, and says so.
		before := orgState(t, a, org)
		if resp, _ := hal.Post(second, nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("second accept: %d", resp.StatusCode)
		}
		_, body = hal.Get(members)
		if !strings.Contains(body, "already a member") || !strings.Contains(body, "You are a viewer") {
			t.Errorf("the second invitation did not say so, or changed the role:\n%s", body)
		}
		after := orgState(t, a, org)
		if strings.Count(after, "member hal@example.com") != 1 || !strings.Contains(after, "member hal@example.com viewer") {
			t.Errorf("a duplicate or a role change:\n%s\n%s", before, after)
		}
	})

	t.Run("revoked", func(t *testing.T) {
		link := ada.Invite("ivy@example.com", "member")
		_, body := ada.Get(members)
		id := regexpFind(t, body, `id="invitation-(inv_[0-9A-Za-z]+)"[^>]*>\s*<td[^>]*><span[^>]*>ivy@example.com`)
		if resp, _ := ada.Post(members+"/invitations/"+id+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatal("revoke")
		}
		if _, body := ada.Get(members); strings.Contains(body, "ivy@example.com") {
			t.Error("a revoked invitation is still listed")
		}
		checkInvalid(t, a.NewClient(t), link)
		if resp, _ := ada.Post(members+"/invitations/"+id+"/revoke", nil); resp.StatusCode != http.StatusNotFound {
			t.Errorf("revoking twice: %d, want 404", resp.StatusCode)
		}
	})

	t.Run("expired", func(t *testing.T) {
		link := ada.Invite("jo@example.com", "member")
		a.Clock.Advance(7*24*time.Hour - time.Millisecond)
		if resp, _ := a.NewClient(t).Get(link); resp.StatusCode != http.StatusOK {
			t.Fatalf("just before 7 days: %d", resp.StatusCode)
		}
		a.Clock.Advance(time.Millisecond)
		checkInvalid(t, a.NewClient(t), link)
		if _, body := ada.Get(members); strings.Contains(body, "jo@example.com") {
			t.Error("an expired invitation is still listed as pending")
		}
	})

	t.Run("unknown and malformed", func(t *testing.T) {
		for _, link := range []string{
			"/invite/kpi_" + strings.Repeat("A", 43), "/invite/kpi_short", "/invite/" + strings.Repeat("x", 300),
		} {
			checkInvalid(t, a.NewClient(t), link)
		}
	})
}

// regexpFind returns the first group of pattern's first match in s.
func regexpFind(t *testing.T, s, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("no match for %s", pattern)
	}
	return m[1]
}

// hostTransport sends every request with Host set to host, as a proxy in front would.
type hostTransport struct {
	base http.RoundTripper
	host string
}

func (h hostTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Host = h.host
	return h.base.RoundTrip(r)
}

// With -public-url, the invitation link starts with it, whatever the request says.
func TestInviteLinkUsesPublicURL(t *testing.T) {
	t.Parallel()
	public, err := handlers.ParsePublicURL("http://keys.example.com")
	if err != nil {
		t.Fatal(err)
	}
	a := testapp.New(t, func(c *app.Config) { c.PublicURL = public })
	owner := a.NewClient(t)
	owner.Client.Transport = hostTransport{base: a.HTTP.Client().Transport, host: "keys.example.com"}
	if resp, body := owner.Post("/signup", url.Values{"email": {"ada@example.com"}, "password": {testapp.Password}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signup: %d\n%s", resp.StatusCode, body)
	}
	// A forwarded header saying otherwise does not change it.
	_, body := owner.Post(members+"/invitations", url.Values{"email": {"bea@example.com"}, "role": {"member"}}, "X-Forwarded-Proto: https")
	if !regexp.MustCompile(`>http://keys\.example\.com/invite/kpi_[0-9A-Za-z]{43}<`).MatchString(body) {
		t.Errorf("the link does not start with the public URL:\n%s", body)
	}
}
