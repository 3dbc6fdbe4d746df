package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"keyport/testapp"
)

// plainAndHTMX are the extra headers of a request sent as a plain form and as htmx.
var plainAndHTMX = [][]string{nil, {"HX-Request: true"}}

// Removing a member or lowering their role applies to the next request of every
// session they have; the keys they made keep working.
func TestRemovalMidSession(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "owner@example.com")
	link := owner.Invite("bob@example.com", "member")
	laptop := a.SignupFromInvite(t, link)
	phone := a.NewClient(t)
	if resp, _ := phone.Post("/login", url.Values{"email": {"bob@example.com"}, "password": {testapp.Password}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("second sign-in")
	}
	key, _ := laptop.CreateKey("bob-key")
	bob := userID(t, a, "bob@example.com")
	create := url.Values{"name": {"more"}, "expires_in_days": {"0"}, "scopes": {"products:read"}}

	// Lowered to viewer: both sessions are refused on their next request.
	if resp, _ := owner.Post(members+"/"+bob+"/role", url.Values{"role": {"viewer"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("lower")
	}
	for name, c := range map[string]*testapp.Client{"laptop": laptop, "phone": phone} {
		if resp, _ := c.Post("/dashboard/integrations/api/keys", create, "HX-Request: true"); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: create as viewer: %d, want 403", name, resp.StatusCode)
		}
	}

	// Removed: both sessions lose the organization on their next request.
	if resp, _ := owner.Post(members+"/"+bob+"/remove", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("remove")
	}
	for name, c := range map[string]*testapp.Client{"laptop": laptop, "phone": phone} {
		for _, path := range []string{"/dashboard/integrations/api", members} {
			resp, _ := c.Get(path)
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/dashboard/orgs" {
				t.Errorf("%s: GET %s after removal: %d to %q, want 303 to /dashboard/orgs", name, path, resp.StatusCode, resp.Header.Get("Location"))
			}
		}
		if resp, _ := c.Post("/dashboard/integrations/api/keys", create, "HX-Request: true"); resp.StatusCode == http.StatusCreated {
			t.Errorf("%s: created a key after removal", name)
		}
		if _, body := c.Get("/dashboard/orgs"); !strings.Contains(body, "You are not in any organization") {
			t.Errorf("%s: the organizations page does not say bob is in none", name)
		}
	}
	// The key belongs to the organization: it still works, and the keys table marks
	// that its creator left.
	if resp, body := a.API(t, http.MethodGet, "/api/products", key, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("bob's key after his removal: %d %s", resp.StatusCode, body)
	}
	if _, body := owner.Get("/dashboard/integrations/api"); !strings.Contains(body, "bob@example.com") || !strings.Contains(body, "left") {
		t.Error("the keys table does not show that bob-key's creator left")
	}
}

// The last owner cannot leave, be removed or be demoted; nothing changes.
func TestLastOwner(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "owner@example.com")
	a.Join(t, owner, "admin@example.com", "admin")
	org := orgID(t, a, "owner@example.com")
	id := userID(t, a, "owner@example.com")
	before := orgState(t, a, org)
	for _, r := range []struct {
		path string
		form url.Values
	}{
		{members + "/leave", nil},
		{members + "/" + id + "/remove", nil},
		{members + "/" + id + "/role", url.Values{"role": {"admin"}}},
	} {
		for _, h := range plainAndHTMX {
			resp, body := owner.Post(r.path, r.form, h...)
			if resp.StatusCode != http.StatusConflict || !strings.Contains(body, "at least one owner") {
				t.Errorf("POST %s %v: %d, want 409 saying why\n%s", r.path, h, resp.StatusCode, body)
			}
		}
	}
	if after := orgState(t, a, org); after != before {
		t.Errorf("the organization changed:\n%s\n%s", before, after)
	}
	// With a second owner, the first may step down.
	admin := userID(t, a, "admin@example.com")
	if resp, _ := owner.Post(members+"/"+admin+"/role", url.Values{"role": {"owner"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("make owner")
	}
	if resp, _ := owner.Post(members+"/leave", nil); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("leave with another owner: %d", resp.StatusCode)
	}
}

// Another organization's members, invitations and the organization itself are not found,
// never forbidden; nothing changes.
func TestOtherOrganizationIDs(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	alice := a.Signup(t, "alice@example.com")
	a.Join(t, alice, "amy@example.com", "member")
	alice.Invite("pending@example.com", "member")
	mallory := a.Signup(t, "mallory@example.com")
	org := orgID(t, a, "alice@example.com")
	_, body := alice.Get(members)
	inv := regexpFind(t, body, `id="invitation-(inv_[0-9A-Za-z]+)"`)
	amy := userID(t, a, "amy@example.com")
	before := orgState(t, a, org)
	for _, r := range []struct{ method, path string }{
		{"POST", members + "/" + amy + "/role"},
		{"GET", members + "/" + amy + "/remove"},
		{"POST", members + "/" + amy + "/remove"},
		{"POST", members + "/invitations/" + inv + "/revoke"},
		{"POST", "/dashboard/orgs/" + org + "/switch"},
		{"POST", "/dashboard/orgs/" + org + "/rename"},
	} {
		for _, h := range plainAndHTMX {
			resp, _ := mallory.Do(r.method, r.path, url.Values{"role": {"viewer"}, "name": {"Mine"}}, h...)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s %v: %d, want 404", r.method, r.path, h, resp.StatusCode)
			}
		}
	}
	if after := orgState(t, a, org); after != before {
		t.Errorf("alice's organization changed:\n%s\n%s", before, after)
	}
}

// A user in several organizations switches between them; each shows its own keys.
func TestSwitchOrganization(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	ann := a.Signup(t, "ann@example.com")
	ann.CreateKey("first-org-key")
	first := orgID(t, a, "ann@example.com")
	a.Clock.Advance(time.Second)
	resp, _ := ann.Post("/dashboard/orgs", url.Values{"name": {"Second"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create org: %d", resp.StatusCode)
	}
	_, body := ann.Get("/dashboard/integrations/api")
	if strings.Contains(body, "first-org-key") || !strings.Contains(body, "Second") {
		t.Error("after creating Second, the dashboard is not Second's")
	}
	if !strings.Contains(body, `action="/dashboard/orgs/`+first+`/switch"`) {
		t.Error("the header offers no switch back to the first organization")
	}
	if resp, _ := ann.Post("/dashboard/orgs/"+first+"/switch", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatal("switch")
	}
	if _, body := ann.Get("/dashboard/integrations/api"); !strings.Contains(body, "first-org-key") {
		t.Error("after switching back, the first organization's key is not shown")
	}
	if resp, body := ann.Post("/dashboard/orgs", url.Values{"name": {" "}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "Enter a name") {
		t.Errorf("an empty name: %d", resp.StatusCode)
	}
	// The owner renames it; the header and the audit log say so.
	if resp, _ := ann.Post("/dashboard/orgs/"+first+"/rename", url.Values{"name": {"First, renamed"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("rename: %d", resp.StatusCode)
	}
	if _, body := ann.Get("/dashboard/audit"); !strings.Contains(body, `class="org-current"`) || !strings.Contains(body, "First, renamed</summary>") || !strings.Contains(body, "Renamed organization") {
		t.Error("after renaming, the header or the audit log does not show it")
	}
}

// Every member change leaves an audit event naming the actor, the member and the change.
func TestMemberAudit(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "owner@example.com")
	a.Join(t, owner, "bob@example.com", "member")
	cat := a.Join(t, owner, "cat@example.com", "admin")
	owner.Invite("dan@example.com", "viewer")
	_, body := owner.Get(members)
	inv := regexpFind(t, body, `id="invitation-(inv_[0-9A-Za-z]+)"`)
	for _, r := range []struct {
		c    *testapp.Client
		path string
		form url.Values
	}{
		{owner, members + "/invitations/" + inv + "/revoke", nil},
		{owner, members + "/" + userID(t, a, "bob@example.com") + "/role", url.Values{"role": {"viewer"}}},
		{cat, members + "/" + userID(t, a, "bob@example.com") + "/remove", nil},
		{cat, members + "/leave", nil},
	} {
		if resp, body := r.c.Post(r.path, r.form); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("POST %s: %d\n%s", r.path, resp.StatusCode, body)
		}
	}
	_, body = owner.Get("/dashboard/audit")
	// Each row as its action and its cells' text.
	var rows []string
	for _, m := range regexp.MustCompile(`(?s)data-action="([a-z_]+)"(.*?)</tr>`).FindAllStringSubmatch(body, -1) {
		text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[2], " ")
		rows = append(rows, m[1]+": "+strings.Join(strings.Fields(text[strings.Index(text, " "):]), " "))
	}
	for _, want := range []string{
		`member_invited: .* owner@example.com Invited member bob@example.com as member`,
		`invitation_accepted: .* cat@example.com Joined cat@example.com as admin`,
		`invitation_revoked: .* owner@example.com Revoked invitation dan@example.com as viewer`,
		`role_changed: .* owner@example.com Changed role bob@example.com member → viewer`,
		`member_removed: .* cat@example.com Removed member bob@example.com was viewer`,
		`member_left: .* cat@example.com Left cat@example.com was admin`,
	} {
		re := regexp.MustCompile("^" + want + " 127.0.0.1$")
		if !slices.ContainsFunc(rows, re.MatchString) {
			t.Errorf("the audit log has no row matching %s:\n%s", want, strings.Join(rows, "\n"))
		}
	}
}

// A re-sent invite form (a reload of the page with the link) invites nobody a second time.
func TestInviteFormResent(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "owner@example.com")
	_, form := owner.Get(members + "/invitations/new")
	token := regexpFind(t, form, `name="form_token" value="([^"]+)"`)
	post := url.Values{"email": {"new@example.com"}, "role": {"member"}, "form_token": {token}}
	if resp, body := owner.Post(members+"/invitations", post); resp.StatusCode != http.StatusCreated || !strings.Contains(body, "/invite/kpi_") {
		t.Fatalf("first post: %d", resp.StatusCode)
	}
	resp, body := owner.Post(members+"/invitations", post)
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(body, "/invite/kpi_") {
		t.Errorf("re-sent post: %d, want 303 and no link", resp.StatusCode)
	}
	if state := orgState(t, a, orgID(t, a, "owner@example.com")); strings.Count(state, "invitation new@example.com") != 1 {
		t.Errorf("want one invitation:\n%s", state)
	}
}

// The key form offers root scopes only to roles that may create root keys.
func TestRootScopesOnlyForAdmins(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "owner@example.com")
	admin := a.Join(t, owner, "admin@example.com", "admin")
	member := a.Join(t, owner, "member@example.com", "member")
	for name, c := range map[string]*testapp.Client{"owner": owner, "admin": admin, "member": member} {
		_, body := c.Get("/dashboard/integrations/api/keys/new")
		if got, want := strings.Contains(body, `value="keys:read"`), name != "member"; got != want {
			t.Errorf("%s: the form offers keys:read = %v, want %v", name, got, want)
		}
	}
}

// Two owners leaving at the same moment: the writes are serialized, so exactly one
// leaves and the organization keeps an owner.
func TestLastOwnerRace(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	first := a.Signup(t, "first@example.com")
	second := a.Join(t, first, "second@example.com", "owner")
	org := orgID(t, a, "first@example.com")
	codes := make(chan int, 2)
	for _, c := range []*testapp.Client{first, second} {
		go func() {
			resp, _ := c.Post(members+"/leave", nil)
			codes <- resp.StatusCode
		}()
	}
	got := map[int]int{}
	for range 2 {
		got[<-codes]++
	}
	if got[http.StatusSeeOther] != 1 || got[http.StatusConflict] != 1 {
		t.Errorf("statuses %v, want one 303 and one 409", got)
	}
	if state := orgState(t, a, org); strings.Count(state, " owner\n") != 1 {
		t.Errorf("owners after the race:\n%s", state)
	}
}
