// Package team holds the rules of organizations as teams: the roles, who may do what
// (one table, used by the dashboard to hide what a role cannot use and by every write to
// refuse it), and the invitation token format. It touches no database.
package team

import (
	"errors"
	"fmt"
)

// Role is a member's role in one organization.
type Role string

// The roles, most powerful first.
const (
	Owner  Role = "owner"
	Admin  Role = "admin"
	Member Role = "member"
	Viewer Role = "viewer"
)

// Roles lists every role, most powerful first (the order of role pickers).
var Roles = []Role{Owner, Admin, Member, Viewer}

// ParseRole reads a role from a form or flag.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Owner, Admin, Member, Viewer:
		return r, nil
	}
	return "", ErrUnknownRole
}

// Label is the role's name for people.
func (r Role) Label() string {
	switch r {
	case Owner:
		return "Owner"
	case Admin:
		return "Admin"
	case Member:
		return "Member"
	case Viewer:
		return "Viewer"
	}
	return string(r)
}

// Action is something a member may or may not do.
type Action int

// The actions of SPEC-teams.md's table.
const (
	// View: see keys, products, members and the audit log.
	View Action = iota
	// CreateKey: create keys with product or custom scopes.
	CreateKey
	// CreateRootKey: create keys with keys:* scopes, which manage other keys.
	CreateRootKey
	// ManageOwnKey: roll or revoke a key the member created.
	ManageOwnKey
	// ManageAnyKey: roll or revoke anyone's key.
	ManageAnyKey
	// ManageMembers: invite, remove and change the roles of admins, members and viewers.
	ManageMembers
	// ManageOwners: make or unmake owners, rename the organization.
	ManageOwners
	numActions
)

// may is the role matrix: may[role] lists the actions the role allows.
var may = map[Role][numActions]bool{
	Owner:  {View: true, CreateKey: true, CreateRootKey: true, ManageOwnKey: true, ManageAnyKey: true, ManageMembers: true, ManageOwners: true},
	Admin:  {View: true, CreateKey: true, CreateRootKey: true, ManageOwnKey: true, ManageAnyKey: true, ManageMembers: true},
	Member: {View: true, CreateKey: true, ManageOwnKey: true},
	Viewer: {View: true},
}

// Can reports whether role r may do a. An unknown role may do nothing.
func (r Role) Can(a Action) bool {
	return a >= 0 && a < numActions && may[r][a]
}

// CanManageKey reports whether r may roll or revoke a key; own says whether the member
// created it.
func (r Role) CanManageKey(own bool) bool {
	return r.Can(ManageAnyKey) || own && r.Can(ManageOwnKey)
}

// Forbidden is a refusal by the role matrix; its message says what the role cannot do
// and is shown as it is.
type Forbidden struct{ msg string }

func (f *Forbidden) Error() string { return f.msg }

// ErrForbidden matches every *Forbidden with errors.Is.
var ErrForbidden = errors.New("forbidden")

// Is makes errors.Is(f, ErrForbidden) true.
func (f *Forbidden) Is(target error) bool { return target == ErrForbidden }

func forbid(format string, args ...any) error {
	return &Forbidden{msg: fmt.Sprintf(format, args...)}
}

// ErrUnknownRole is a role that is none of Roles.
var ErrUnknownRole = errors.New("choose a role: owner, admin, member or viewer")

// Check returns nil when r may do a, otherwise a *Forbidden saying so.
func (r Role) Check(a Action) error {
	if r.Can(a) {
		return nil
	}
	return forbid("As %s you cannot %s.", r.Indefinite(), what[a])
}

var what = [numActions]string{
	View:          "see this organization",
	CreateKey:     "create API keys",
	CreateRootKey: "create keys with keys:* scopes",
	ManageOwnKey:  "roll or revoke API keys",
	ManageAnyKey:  "roll or revoke other members' keys",
	ManageMembers: "invite or remove members or change their roles",
	ManageOwners:  "make or unmake owners or rename the organization",
}

// Indefinite is the role with its article, as in "you are an admin".
func (r Role) Indefinite() string {
	if r == Owner || r == Admin {
		return "an " + string(r)
	}
	return "a " + string(r)
}

// CheckKey returns nil when r may roll or revoke a key; own says whether the member
// created it.
func (r Role) CheckKey(own bool) error {
	switch {
	case r.CanManageKey(own):
		return nil
	case own || !r.Can(ManageOwnKey):
		return r.Check(ManageOwnKey)
	}
	return r.Check(ManageAnyKey)
}

// CheckGrant returns nil when r may give a member (or an invitation) the role to, taking
// it from from ("" for someone new): managing members at all, and owners only by owners.
func (r Role) CheckGrant(from, to Role) error {
	if err := r.Check(ManageMembers); err != nil {
		return err
	}
	if from == Owner || to == Owner {
		return r.Check(ManageOwners)
	}
	return nil
}

// CheckRemove returns nil when r may remove a member whose role is target.
func (r Role) CheckRemove(target Role) error {
	if err := r.Check(ManageMembers); err != nil {
		return err
	}
	if target == Owner {
		return r.Check(ManageOwners)
	}
	return nil
}

// Grantable lists the roles r may give, most powerful first (the choices of its role
// pickers); none when r cannot manage members.
func (r Role) Grantable() []Role {
	var out []Role
	for _, to := range Roles {
		if r.CheckGrant("", to) == nil {
			out = append(out, to)
		}
	}
	return out
}
