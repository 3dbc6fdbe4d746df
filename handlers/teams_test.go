package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"keyport/queries"
	"keyport/testapp"
)

const members = "/dashboard/members"

// userID is the id of the account with email.
func userID(t testing.TB, a *testapp.App, email string) string {
	t.Helper()
	u, err := a.Server.Read.GetUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatalf("user %s: %v", email, err)
	}
	return u.ID
}

// orgState is everything a member action could change in the organization, printed:
// two equal states mean nothing changed.
func orgState(t testing.TB, a *testapp.App, org string) string {
	t.Helper()
	ctx := context.Background()
	q := a.Server.Read
	ms, err := q.ListMembers(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	invs, err := q.ListPendingInvitations(ctx, queries.ListPendingInvitationsParams{OrgID: org})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := q.ListAPIKeys(ctx, queries.ListAPIKeysParams{OrgID: org, Before: 1 << 62, IncludeRevoked: 1, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	events, err := q.ListAuditEvents(ctx, queries.ListAuditEventsParams{OrgID: sql.NullString{String: org, Valid: true}, Before: 1 << 62, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	o, err := q.GetOrganization(ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "organization %s\n", o.Name)
	for _, m := range ms {
		fmt.Fprintf(&b, "member %s %s\n", m.Email, m.Role)
	}
	for _, i := range invs {
		fmt.Fprintf(&b, "invitation %s %s\n", i.Email, i.Role)
	}
	for _, k := range keys {
		fmt.Fprintf(&b, "key %s %s revoked=%v rolled=%v\n", k.ApiKey.Name, k.ApiKey.Scopes, k.ApiKey.RevokedAt.Valid, k.ApiKey.RolledTo.Valid)
	}
	fmt.Fprintf(&b, "%d audit events\n", len(events))
	return b.String()
}

// teamFixture is an organization with a member of each kind, a key by the owner, a key
// by the actor and a pending invitation.
type teamFixture struct {
	a                           *testapp.App
	org                         string
	owner, actor                *testapp.Client
	actorID, targetID, owner2ID string
	ownerKeyID, actorKeyID      string
	invitationID                string
}

// newTeam makes the fixture with the actor in role. The organization has two owners,
// so no action is refused for leaving it without one.
func newTeam(t *testing.T, role string) *teamFixture {
	t.Helper()
	a := testapp.New(t)
	f := &teamFixture{a: a}
	f.owner = a.Signup(t, "owner@example.com")
	f.org = orgID(t, a, "owner@example.com")
	a.Join(t, f.owner, "owner2@example.com", "owner")
	a.Join(t, f.owner, "target@example.com", "member")
	// The actor creates their key as a member, then gets their role.
	f.actor = a.Join(t, f.owner, "actor@example.com", "member")
	_, f.actorKeyID = f.actor.CreateKey("actor-key")
	f.actorID = userID(t, a, "actor@example.com")
	if role != "member" {
		if resp, body := f.owner.Post(members+"/"+f.actorID+"/role", url.Values{"role": {role}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("make the actor %s: %d\n%s", role, resp.StatusCode, body)
		}
	}
	_, f.ownerKeyID = f.owner.CreateKey("owner-key")
	f.targetID = userID(t, a, "target@example.com")
	f.owner2ID = userID(t, a, "owner2@example.com")
	f.owner.Invite("pending@example.com", "member")
	invs, err := a.Server.Read.ListPendingInvitations(context.Background(), queries.ListPendingInvitationsParams{OrgID: f.org})
	if err != nil || len(invs) != 1 {
		t.Fatalf("pending invitations: %v, %v", invs, err)
	}
	f.invitationID = invs[0].ID
	return f
}

// The whole role matrix of SPEC-teams.md, through the real router: each role × each
// action, allowed (something changed) or refused (403, a toast, nothing changed).
func TestRoleMatrix(t *testing.T) {
	t.Parallel()
	type request struct {
		method, path string
		form         url.Values
	}
	keys := "/dashboard/integrations/api/keys"
	actions := []struct {
		name    string
		req     func(f *teamFixture) request
		allowed string // the roles that may, initials: o a m v
	}{
		{"create key", func(f *teamFixture) request {
			return request{"POST", keys, url.Values{"name": {"new"}, "expires_in_days": {"0"}, "scopes": {"products:read"}}}
		}, "oam"},
		{"create root key", func(f *teamFixture) request {
			return request{"POST", keys, url.Values{"name": {"root"}, "expires_in_days": {"0"}, "scopes": {"keys:read"}}}
		}, "oa"},
		{"roll own key", func(f *teamFixture) request {
			return request{"POST", keys + "/" + f.actorKeyID + "/roll", url.Values{"grace": {"0"}}}
		}, "oam"},
		{"revoke own key", func(f *teamFixture) request { return request{"DELETE", keys + "/" + f.actorKeyID, nil} }, "oam"},
		{"roll another's key", func(f *teamFixture) request {
			return request{"POST", keys + "/" + f.ownerKeyID + "/roll", url.Values{"grace": {"0"}}}
		}, "oa"},
		{"revoke another's key", func(f *teamFixture) request { return request{"DELETE", keys + "/" + f.ownerKeyID, nil} }, "oa"},
		{"invite a member", func(f *teamFixture) request {
			return request{"POST", members + "/invitations", url.Values{"email": {"new@example.com"}, "role": {"member"}}}
		}, "oa"},
		{"invite an admin", func(f *teamFixture) request {
			return request{"POST", members + "/invitations", url.Values{"email": {"new@example.com"}, "role": {"admin"}}}
		}, "oa"},
		{"invite an owner", func(f *teamFixture) request {
			return request{"POST", members + "/invitations", url.Values{"email": {"new@example.com"}, "role": {"owner"}}}
		}, "o"},
		{"revoke an invitation", func(f *teamFixture) request {
			return request{"POST", members + "/invitations/" + f.invitationID + "/revoke", nil}
		}, "oa"},
		{"lower a member to viewer", func(f *teamFixture) request {
			return request{"POST", members + "/" + f.targetID + "/role", url.Values{"role": {"viewer"}}}
		}, "oa"},
		{"make a member admin", func(f *teamFixture) request {
			return request{"POST", members + "/" + f.targetID + "/role", url.Values{"role": {"admin"}}}
		}, "oa"},
		{"make an owner", func(f *teamFixture) request {
			return request{"POST", members + "/" + f.targetID + "/role", url.Values{"role": {"owner"}}}
		}, "o"},
		{"unmake an owner", func(f *teamFixture) request {
			return request{"POST", members + "/" + f.owner2ID + "/role", url.Values{"role": {"admin"}}}
		}, "o"},
		{"remove a member", func(f *teamFixture) request { return request{"POST", members + "/" + f.targetID + "/remove", nil} }, "oa"},
		{"remove an owner", func(f *teamFixture) request { return request{"POST", members + "/" + f.owner2ID + "/remove", nil} }, "o"},
		{"leave", func(f *teamFixture) request { return request{"POST", members + "/leave", nil} }, "oamv"},
		{"rename the organization", func(f *teamFixture) request {
			return request{"POST", "/dashboard/orgs/" + f.org + "/rename", url.Values{"name": {"Renamed"}}}
		}, "o"},
	}
	for _, role := range []string{"owner", "admin", "member", "viewer"} {
		for _, act := range actions {
			t.Run(role+"/"+act.name, func(t *testing.T) {
				t.Parallel()
				f := newTeam(t, role)
				for _, page := range []string{"/dashboard/integrations/api", "/dashboard/integrations/api/keys/" + f.ownerKeyID, "/dashboard/products", members, "/dashboard/audit", "/dashboard/orgs"} {
					if resp, _ := f.actor.Get(page); resp.StatusCode != http.StatusOK {
						t.Errorf("GET %s: %d, every role may see it", page, resp.StatusCode)
					}
				}
				before := orgState(t, f.a, f.org)
				r := act.req(f)
				resp, body := f.actor.Do(r.method, r.path, r.form, "HX-Request: true")
				after := orgState(t, f.a, f.org)
				if strings.Contains(act.allowed, role[:1]) {
					if resp.StatusCode >= 400 {
						t.Fatalf("allowed, but status %d\n%s", resp.StatusCode, body)
					}
					if after == before {
						t.Errorf("allowed (status %d), but nothing changed", resp.StatusCode)
					}
					return
				}
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("refused: status %d, want 403\n%s", resp.StatusCode, body)
				}
				if trig := resp.Header.Get("HX-Trigger"); !strings.Contains(trig, `"kind":"error"`) || !strings.Contains(trig, "As a") {
					t.Errorf("refused: HX-Trigger %q, want an error toast saying what the role cannot do", trig)
				}
				if after != before {
					t.Errorf("refused, but the organization changed:\nbefore:\n%s\nafter:\n%s", before, after)
				}
			})
		}
	}
}

var buttonRE = regexp.MustCompile(`>(Create new key|Invite member|Roll|Revoke|Remove|Change|Rename)<`)

// Each role sees only the buttons it may use.
func TestButtonsFollowRole(t *testing.T) {
	t.Parallel()
	for role, want := range map[string][]string{
		"owner":  {"Create new key", "Invite member", "Roll", "Revoke", "Remove", "Change", "Rename"},
		"admin":  {"Create new key", "Invite member", "Roll", "Revoke", "Remove", "Change"},
		"member": {"Create new key", "Roll", "Revoke"}, // only on their own key
		"viewer": nil,
	} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			f := newTeam(t, role)
			seen := map[string]int{}
			for _, page := range []string{"/dashboard/integrations/api", members, "/dashboard/orgs"} {
				_, body := f.actor.Get(page)
				for _, m := range buttonRE.FindAllStringSubmatch(body, -1) {
					seen[m[1]]++
				}
			}
			for _, b := range want {
				if seen[b] == 0 {
					t.Errorf("no %q button", b)
				}
				delete(seen, b)
			}
			if len(seen) > 0 {
				t.Errorf("buttons the role may not use: %v", seen)
			}
			if role == "member" {
				_, body := f.actor.Get("/dashboard/integrations/api")
				if strings.Contains(body, `aria-label="Revoke owner-key"`) || strings.Contains(body, `aria-label="Roll owner-key"`) {
					t.Error("a member is offered to roll or revoke the owner's key")
				}
			}
		})
	}
}
