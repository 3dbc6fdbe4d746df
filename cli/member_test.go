package cli_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"keyport/testapp"
)

var inviteLine = regexp.MustCompile(`^https://keys\.example\.com/invite/kpi_[0-9A-Za-z]{43}\n$`)

func TestMemberCommands(t *testing.T) {
	a := testapp.New(t)
	ids := must(t, "a long password\n", "user", "create", "--email", "ops@example.com", "--org", "Ops Inc", "-db", a.DBPath)
	orgID := strings.Fields(ids)[1]

	// The link alone on stdout; by name or by id.
	link := must(t, "", "invite", "create", "-org", "Ops Inc", "-email", "Dev@Example.com", "-role", "admin",
		"-public-url", "https://keys.example.com/", "-db", a.DBPath)
	if !inviteLine.MatchString(link) {
		t.Fatalf("invite create printed %q, want the link alone", link)
	}
	dev := a.SignupFromInvite(t, strings.TrimPrefix(strings.TrimSpace(link), "https://keys.example.com"))
	if _, body := dev.Get("/dashboard/members"); !strings.Contains(body, "You are an admin") || !strings.Contains(body, "Ops Inc") {
		t.Errorf("dev did not join Ops Inc as an admin")
	}

	table := must(t, "", "member", "list", "-org", orgID, "-db", a.DBPath)
	for _, want := range []string{"EMAIL", "LAST SIGN-IN", "ops@example.com", "owner", "dev@example.com", "admin", "never"} {
		if !strings.Contains(table, want) {
			t.Errorf("member list does not show %q:\n%s", want, table)
		}
	}

	must(t, "", "member", "remove", "-org", "Ops Inc", "-email", "dev@example.com", "-db", a.DBPath)
	if table := must(t, "", "member", "list", "-org", "Ops Inc", "-db", a.DBPath); strings.Contains(table, "dev@example.com") {
		t.Errorf("dev is still listed after member remove:\n%s", table)
	}
	if resp, _ := dev.Get("/dashboard/members"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("dev's session after member remove: %d, want 303 away from the members page", resp.StatusCode)
	}

	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"member", "remove", "-org", "Ops Inc", "-email", "ops@example.com"}, 1, "last owner"},
		{[]string{"member", "remove", "-org", "Ops Inc", "-email", "dev@example.com"}, 1, "not a member"},
		{[]string{"member", "list", "-org", "Nope"}, 1, `no organization with id or name "Nope"`},
		{[]string{"member", "list"}, 2, "-org is required"},
		{[]string{"invite", "create", "-org", "Ops Inc", "-email", "x@example.com", "-role", "root"}, 2, "-role"},
		{[]string{"invite", "create", "-org", "Ops Inc", "-email", "ops@example.com"}, 1, "already a member"},
	} {
		code, stdout, stderr := run(t, "", append(tc.args, "-db", a.DBPath)...)
		if code != tc.code || !strings.Contains(stderr, tc.stderr) || stdout != "" {
			t.Errorf("keyport %s: exit %d, stdout %q, stderr %q; want exit %d and %q", strings.Join(tc.args, " "), code, stdout, stderr, tc.code, tc.stderr)
		}
	}

	// Two organizations with one name: the id decides.
	twin := a.NewClient(t)
	twin.Post("/signup", url.Values{"email": {"twin2@example.com"}, "password": {testapp.Password}, "org": {"Ops Inc"}})
	if code, _, stderr := run(t, "", "member", "list", "-org", "Ops Inc", "-db", a.DBPath); code != 1 || !strings.Contains(stderr, "give an id") || !strings.Contains(stderr, orgID) {
		t.Errorf("an ambiguous name: exit %d, %q", code, stderr)
	}

	// A user in two organizations names one for key create.
	ops := a.NewClient(t)
	ops.Post("/login", url.Values{"email": {"ops@example.com"}, "password": {"a long password"}})
	if resp, _ := ops.Post("/dashboard/orgs", url.Values{"name": {"Second"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create Second: %d", resp.StatusCode)
	}
	if code, _, stderr := run(t, "", "key", "create", "--email", "ops@example.com", "--name", "k", "-db", a.DBPath); code != 2 || !strings.Contains(stderr, "-org") {
		t.Errorf("key create for a user in two organizations without -org: exit %d, %q", code, stderr)
	}
	if out := must(t, "", "key", "create", "--email", "ops@example.com", "--name", "k", "-org", "Second", "-db", a.DBPath); !keyLine.MatchString(out) {
		t.Errorf("key create -org Second printed %q", out)
	}
	if keys := listJSON(t, "--org", "Second", "-db", a.DBPath); len(keys) != 1 || keys[0].Name != "k" {
		t.Errorf("Second's keys = %+v, want k", keys)
	}
}
