package team

import (
	"errors"
	"slices"
	"testing"
)

// The SPEC-teams.md table, row by row: which roles may do each action.
func TestMatrix(t *testing.T) {
	want := map[Action][]Role{
		View:          {Owner, Admin, Member, Viewer},
		CreateKey:     {Owner, Admin, Member},
		CreateRootKey: {Owner, Admin},
		ManageOwnKey:  {Owner, Admin, Member},
		ManageAnyKey:  {Owner, Admin},
		ManageMembers: {Owner, Admin},
		ManageOwners:  {Owner},
	}
	if len(want) != int(numActions) {
		t.Fatalf("the table lists %d actions, the package has %d", len(want), numActions)
	}
	for a, allowed := range want {
		for _, r := range append(slices.Clone(Roles), "", "root") {
			if got, want := r.Can(a), slices.Contains(allowed, r); got != want {
				t.Errorf("%q.Can(%d) = %v, want %v", r, a, got, want)
			}
			err := r.Check(a)
			if got, want := err == nil, slices.Contains(allowed, r); got != want {
				t.Errorf("%q.Check(%d) = %v", r, a, err)
			}
			if err != nil && (!errors.Is(err, ErrForbidden) || err.Error() == "") {
				t.Errorf("%q.Check(%d) = %v, want a *Forbidden with a message", r, a, err)
			}
		}
	}
	if Owner.Can(-1) || Owner.Can(numActions) {
		t.Error("an action outside the table is allowed")
	}
}

func TestCheckKey(t *testing.T) {
	for _, tc := range []struct {
		role      Role
		own, want bool
	}{
		{Owner, true, true}, {Owner, false, true},
		{Admin, true, true}, {Admin, false, true},
		{Member, true, true}, {Member, false, false},
		{Viewer, true, false}, {Viewer, false, false},
	} {
		err := tc.role.CheckKey(tc.own)
		if got := err == nil; got != tc.want || got != tc.role.CanManageKey(tc.own) {
			t.Errorf("%s.CheckKey(own=%v) = %v, want allowed=%v", tc.role, tc.own, err, tc.want)
		}
	}
	if got, want := Member.CheckKey(false).Error(), "As a member you cannot roll or revoke other members' keys."; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
}

func TestCheckGrantAndRemove(t *testing.T) {
	// allowed[actor] is every (from, to) the actor may make; from "" is an invitation.
	all := append([]Role{""}, Roles...)
	for _, actor := range Roles {
		for _, from := range all {
			for _, to := range Roles {
				want := actor == Owner || actor == Admin && from != Owner && to != Owner
				if got := actor.CheckGrant(from, to) == nil; got != want {
					t.Errorf("%s.CheckGrant(%q → %s) allowed = %v, want %v", actor, from, to, got, want)
				}
			}
		}
		for _, target := range Roles {
			want := actor == Owner || actor == Admin && target != Owner
			if got := actor.CheckRemove(target) == nil; got != want {
				t.Errorf("%s.CheckRemove(%s) allowed = %v, want %v", actor, target, got, want)
			}
		}
	}
	for actor, want := range map[Role][]Role{
		Owner: Roles, Admin: {Admin, Member, Viewer}, Member: nil, Viewer: nil,
	} {
		if got := actor.Grantable(); !slices.Equal(got, want) {
			t.Errorf("%s.Grantable() = %v, want %v", actor, got, want)
		}
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range Roles {
		if got, err := ParseRole(string(r)); got != r || err != nil {
			t.Errorf("ParseRole(%q) = %q, %v", r, got, err)
		}
	}
	for _, s := range []string{"", "Owner", "root", " admin"} {
		if _, err := ParseRole(s); !errors.Is(err, ErrUnknownRole) {
			t.Errorf("ParseRole(%q) error = %v, want ErrUnknownRole", s, err)
		}
	}
}
