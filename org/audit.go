package org

import (
	"context"
	"time"

	"keyport/queries"
)

// Action names an audited event, as stored in audit_events.action.
type Action string

// The audited actions.
const (
	Signup      Action = "signup"
	Login       Action = "login"
	LoginFailed Action = "login_failed"
	KeyCreated  Action = "key_created"
	KeyRolled   Action = "key_rolled"
	KeyRevoked  Action = "key_revoked"

	PasswordChanged     Action = "password_changed"
	SignedOutEverywhere Action = "signed_out_everywhere"

	MemberInvited      Action = "member_invited"
	InvitationRevoked  Action = "invitation_revoked"
	InvitationAccepted Action = "invitation_accepted"
	RoleChanged        Action = "role_changed"
	MemberRemoved      Action = "member_removed"
	MemberLeft         Action = "member_left"
	OrgCreated         Action = "org_created"
	OrgRenamed         Action = "org_renamed"
)

var actionLabels = map[Action]string{
	Signup:      "Signed up",
	Login:       "Signed in",
	LoginFailed: "Failed sign-in",
	KeyCreated:  "Created key",
	KeyRolled:   "Rolled key",
	KeyRevoked:  "Revoked key",

	PasswordChanged:     "Changed password",
	SignedOutEverywhere: "Signed out everywhere",

	MemberInvited:      "Invited member",
	InvitationRevoked:  "Revoked invitation",
	InvitationAccepted: "Joined",
	RoleChanged:        "Changed role",
	MemberRemoved:      "Removed member",
	MemberLeft:         "Left",
	OrgCreated:         "Created organization",
	OrgRenamed:         "Renamed organization",
}

// Label names the action for people; an action this version does not know is shown as
// stored.
func (a Action) Label() string {
	if l, ok := actionLabels[a]; ok {
		return l
	}
	return string(a)
}

// Actor is who makes a change, as the audit log records it.
type Actor struct {
	UserID string // "" when no signed-in user acted
	Email  string // the user's email, what was typed at a failed sign-in, or who else acted
	IP     string // "" on the command line
}

// event is one audit row's subject.
type event struct {
	action  Action
	orgID   string
	keyID   string
	keyName string
	target  string // the member a member event is about, by email
	detail  string
}

// audit records e, done by a at now: the one place an audit row is built.
func audit(ctx context.Context, q *queries.Queries, a Actor, e event, now time.Time) error {
	return q.CreateAuditEvent(ctx, queries.CreateAuditEventParams{
		OrgID: nullStr(e.orgID), ActorID: nullStr(a.UserID), ActorEmail: a.Email,
		Action: string(e.action), KeyID: nullStr(e.keyID), KeyName: e.keyName, TargetEmail: e.target, Detail: e.detail,
		IP: a.IP, CreatedAt: now.UnixMilli(),
	})
}
