package org

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"keyport/database"
	"keyport/queries"
	"keyport/randid"
	"keyport/team"
)

// Errors of the member and invitation actions.
var (
	// ErrMemberNotFound: no such member in the organization (a user of another
	// organization included).
	ErrMemberNotFound = errors.New("member not found")
	// ErrLastOwner: the change would leave the organization without an owner.
	ErrLastOwner = errors.New("an organization needs at least one owner: make someone else an owner first")
	// ErrAlreadyMember: the invited or joining user is in the organization already.
	ErrAlreadyMember = errors.New("already a member")
	// ErrInvitationNotFound: no such invitation in the organization, or not pending.
	ErrInvitationNotFound = errors.New("invitation not found")
	// ErrInvitationInvalid: the token names no invitation, or one used, revoked or
	// expired. Callers show one generic page for all of these.
	ErrInvitationInvalid = errors.New("this invitation is not valid")
	// ErrWrongAccount: the invitation is for another email than the signed-in user's.
	ErrWrongAccount = errors.New("the invitation is for another email")
)

// Member is a user acting in an organization: the audit actor, checked against the role
// they have there when the write runs (not when the page was shown).
type Member struct {
	OrgID string
	Actor
}

// role reads m's current role inside the write's transaction; a user who is no longer a
// member has none, and the matrix allows them nothing.
func (m Member) role(ctx context.Context, q *queries.Queries) (team.Role, error) {
	r, err := q.GetMembership(ctx, queries.GetMembershipParams{OrgID: m.OrgID, UserID: m.UserID})
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return team.Role(r.Role), err
}

// target reads the member userID of m's organization.
func (m Member) target(ctx context.Context, q *queries.Queries, userID string) (queries.GetMembershipRow, error) {
	t, err := q.GetMembership(ctx, queries.GetMembershipParams{OrgID: m.OrgID, UserID: userID})
	if errors.Is(err, sql.ErrNoRows) {
		return t, ErrMemberNotFound
	}
	return t, err
}

// lastOwner reports whether taking away the owner role of a member whose role is from
// would leave the organization with none.
func lastOwner(ctx context.Context, q *queries.Queries, orgID string, from team.Role) (bool, error) {
	if from != team.Owner {
		return false, nil
	}
	n, err := q.CountOwners(ctx, orgID)
	return n <= 1, err
}

// NewInvitation is a validated invitation: Email as parse.Email returns it.
type NewInvitation struct {
	By    Member
	Email string
	Role  team.Role
	// FormToken, if set, is the form's one-time token (NewFormToken), used up by the
	// same transaction: a re-sent form fails with ErrFormResent and invites nobody.
	FormToken string
}

// Invitation is a created invitation. Token is the only copy there will ever be.
type Invitation struct {
	ID, Token string
}

// Invite creates an invitation to by's organization and records member_invited. The
// role must be one by may grant; a current member cannot be invited again.
func (w *Writer) Invite(ctx context.Context, in NewInvitation) (Invitation, error) {
	token, hash, err := team.NewInvitationToken()
	if err != nil {
		return Invitation{}, err
	}
	now := w.Now()
	inv := Invitation{ID: randid.New("inv"), Token: token}
	err = w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		role, err := in.By.role(ctx, q)
		if err != nil {
			return err
		}
		if err := role.CheckGrant("", in.Role); err != nil {
			return err
		}
		if err := useFormToken(ctx, q, in.By.UserID, in.FormToken, now); err != nil {
			return err
		}
		if u, err := q.GetUserByEmail(ctx, in.Email); err == nil {
			if _, err := in.By.target(ctx, q, u.ID); err == nil {
				return ErrAlreadyMember
			}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		if err := q.CreateInvitation(ctx, queries.CreateInvitationParams{
			ID: inv.ID, OrgID: in.By.OrgID, TokenHash: hash[:], Email: in.Email, Role: string(in.Role),
			InvitedBy: in.By.UserID, CreatedAt: now.UnixMilli(), ExpiresAt: now.Add(team.InvitationTTL).UnixMilli(),
		}); err != nil {
			return err
		}
		return audit(ctx, q, in.By.Actor, event{action: MemberInvited, orgID: in.By.OrgID, target: in.Email, detail: "as " + string(in.Role)}, now)
	})
	if err != nil {
		return Invitation{}, err
	}
	return inv, nil
}

// RevokeInvitation revokes a pending invitation of by's organization and records
// invitation_revoked.
func (w *Writer) RevokeInvitation(ctx context.Context, by Member, id string) error {
	now := w.Now()
	return w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		inv, err := q.GetInvitation(ctx, queries.GetInvitationParams{OrgID: by.OrgID, ID: id})
		if errors.Is(err, sql.ErrNoRows) {
			return ErrInvitationNotFound
		}
		if err != nil {
			return err
		}
		role, err := by.role(ctx, q)
		if err != nil {
			return err
		}
		if err := role.CheckGrant("", team.Role(inv.Role)); err != nil {
			return err
		}
		n, err := q.RevokeInvitation(ctx, queries.RevokeInvitationParams{OrgID: by.OrgID, ID: id, Now: nullMs(now)})
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrInvitationNotFound
		}
		return audit(ctx, q, by.Actor, event{action: InvitationRevoked, orgID: by.OrgID, target: inv.Email, detail: "as " + inv.Role}, now)
	})
}

// LookupInvitation finds the pending invitation of a token; every other case is
// ErrInvitationInvalid.
func LookupInvitation(ctx context.Context, q *queries.Queries, token string, now int64) (queries.GetInvitationByHashRow, error) {
	hash, err := team.HashInvitationToken(token)
	if err != nil {
		return queries.GetInvitationByHashRow{}, ErrInvitationInvalid
	}
	inv, err := q.GetInvitationByHash(ctx, hash[:])
	if errors.Is(err, sql.ErrNoRows) || err == nil && !pending(inv.AcceptedAt, inv.RevokedAt, inv.ExpiresAt, now) {
		return queries.GetInvitationByHashRow{}, ErrInvitationInvalid
	}
	return inv, err
}

func pending(accepted, revoked sql.NullInt64, expires, now int64) bool {
	return !accepted.Valid && !revoked.Valid && now < expires
}

// Joined is the outcome of accepting an invitation.
type Joined struct {
	OrgID   string
	Already bool // the user was a member already: nothing changed but the invitation is used
}

// AcceptInvitation makes the signed-in user by a member of the token's organization
// with the invited role and records invitation_accepted. The invitation is single use
// and bound to its email (case-insensitive).
func (w *Writer) AcceptInvitation(ctx context.Context, by Actor, token string) (Joined, error) {
	now := w.Now()
	var j Joined
	err := w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		var err error
		j, err = accept(ctx, q, by, token, now)
		return err
	})
	return j, err
}

func accept(ctx context.Context, q *queries.Queries, by Actor, token string, now time.Time) (Joined, error) {
	inv, err := LookupInvitation(ctx, q, token, now.UnixMilli())
	if err != nil {
		return Joined{}, err
	}
	if !strings.EqualFold(inv.Email, by.Email) {
		return Joined{}, ErrWrongAccount
	}
	j := Joined{OrgID: inv.OrgID}
	n, err := q.AcceptInvitation(ctx, queries.AcceptInvitationParams{ID: inv.ID, UserID: nullStr(by.UserID), Now: nullMs(now)})
	if err != nil {
		return j, err
	}
	if n == 0 {
		return j, ErrInvitationInvalid // another request used it first
	}
	if _, err := q.GetMembership(ctx, queries.GetMembershipParams{OrgID: inv.OrgID, UserID: by.UserID}); err == nil {
		j.Already = true
		return j, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return j, err
	}
	if err := q.CreateMembership(ctx, queries.CreateMembershipParams{
		OrgID: inv.OrgID, UserID: by.UserID, Role: inv.Role, CreatedAt: now.UnixMilli(),
	}); err != nil {
		return j, err
	}
	return j, audit(ctx, q, by, event{action: InvitationAccepted, orgID: inv.OrgID, target: by.Email, detail: "as " + inv.Role}, now)
}

// ChangeRole gives the member userID of by's organization the role to and records
// role_changed (from → to). Owners only by owners; never the last owner's.
func (w *Writer) ChangeRole(ctx context.Context, by Member, userID string, to team.Role) error {
	now := w.Now()
	return w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		t, err := by.target(ctx, q, userID)
		if err != nil {
			return err
		}
		from := team.Role(t.Role)
		role, err := by.role(ctx, q)
		if err != nil {
			return err
		}
		if err := role.CheckGrant(from, to); err != nil {
			return err
		}
		if from == to {
			return nil
		}
		if last, err := lastOwner(ctx, q, by.OrgID, from); err != nil || last {
			return errors.Join(err, lastOwnerErr(last))
		}
		if _, err := q.SetMemberRole(ctx, queries.SetMemberRoleParams{OrgID: by.OrgID, UserID: userID, Role: string(to)}); err != nil {
			return err
		}
		return audit(ctx, q, by.Actor, event{action: RoleChanged, orgID: by.OrgID, target: t.Email, detail: string(from) + " → " + string(to)}, now)
	})
}

// RemoveMember removes the member userID from by's organization and records
// member_removed. Their keys stay: they belong to the organization.
func (w *Writer) RemoveMember(ctx context.Context, by Member, userID string) error {
	now := w.Now()
	return w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		t, err := by.target(ctx, q, userID)
		if err != nil {
			return err
		}
		role, err := by.role(ctx, q)
		if err != nil {
			return err
		}
		if err := role.CheckRemove(team.Role(t.Role)); err != nil {
			return err
		}
		if last, err := lastOwner(ctx, q, by.OrgID, team.Role(t.Role)); err != nil || last {
			return errors.Join(err, lastOwnerErr(last))
		}
		if _, err := q.DeleteMembership(ctx, queries.DeleteMembershipParams{OrgID: by.OrgID, UserID: userID}); err != nil {
			return err
		}
		return audit(ctx, q, by.Actor, event{action: MemberRemoved, orgID: by.OrgID, target: t.Email, detail: "was " + t.Role}, now)
	})
}

// Leave takes by out of their organization and records member_left; the last owner
// cannot leave.
func (w *Writer) Leave(ctx context.Context, by Member) error {
	now := w.Now()
	return w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		t, err := by.target(ctx, q, by.UserID)
		if err != nil {
			return err
		}
		if last, err := lastOwner(ctx, q, by.OrgID, team.Role(t.Role)); err != nil || last {
			return errors.Join(err, lastOwnerErr(last))
		}
		if _, err := q.DeleteMembership(ctx, queries.DeleteMembershipParams{OrgID: by.OrgID, UserID: by.UserID}); err != nil {
			return err
		}
		return audit(ctx, q, by.Actor, event{action: MemberLeft, orgID: by.OrgID, target: by.Email, detail: "was " + t.Role}, now)
	})
}

func lastOwnerErr(last bool) error {
	if last {
		return ErrLastOwner
	}
	return nil
}

// SignupInvited creates an account from an invitation link and joins the invitation's
// organization in one transaction: no organization of its own, and the email is the
// invitation's, whatever the form said.
func (w *Writer) SignupInvited(ctx context.Context, in NewAccount, token string) (Account, error) {
	now := w.Now()
	a := Account{UserID: randid.New("usr")}
	err := w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		inv, err := LookupInvitation(ctx, q, token, now.UnixMilli())
		if err != nil {
			return err
		}
		if err := q.CreateUser(ctx, queries.CreateUserParams{
			ID: a.UserID, Email: inv.Email, PasswordHash: in.PasswordHash, CreatedAt: now.UnixMilli(),
		}); err != nil {
			return err
		}
		if err := signedUp(ctx, q, a.UserID, in, now); err != nil {
			return err
		}
		actor := Actor{UserID: a.UserID, Email: inv.Email, IP: in.IP}
		if err := audit(ctx, q, actor, event{action: Signup, orgID: inv.OrgID}, now); err != nil {
			return err
		}
		j, err := accept(ctx, q, actor, token, now)
		a.OrgID = j.OrgID
		return err
	})
	if database.IsUniqueViolation(err) {
		return Account{}, ErrEmailTaken
	}
	if err != nil {
		return Account{}, err
	}
	return a, nil
}

// signedUp notes that a signup from the dashboard signs the new user in (the command line,
// with no IP, does not) and gives the client's throttle reservation back.
func signedUp(ctx context.Context, q *queries.Queries, userID string, in NewAccount, now time.Time) error {
	if in.IP != "" {
		if err := q.SetLastSignIn(ctx, queries.SetLastSignInParams{ID: userID, Now: nullMs(now)}); err != nil {
			return err
		}
	}
	return in.Attempt.succeeded(ctx, q)
}

// CreateOrganization creates an organization with by as its owner and records
// org_created there.
func (w *Writer) CreateOrganization(ctx context.Context, by Actor, name string) (string, error) {
	now := w.Now()
	id := randid.New("org")
	err := w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		if err := q.CreateOrganization(ctx, queries.CreateOrganizationParams{ID: id, Name: name, CreatedAt: now.UnixMilli()}); err != nil {
			return err
		}
		if err := q.CreateMembership(ctx, queries.CreateMembershipParams{
			OrgID: id, UserID: by.UserID, Role: string(team.Owner), CreatedAt: now.UnixMilli(),
		}); err != nil {
			return err
		}
		return audit(ctx, q, by, event{action: OrgCreated, orgID: id, detail: name}, now)
	})
	return id, err
}

// RenameOrganization renames by's organization and records org_renamed (old → new);
// owners only.
func (w *Writer) RenameOrganization(ctx context.Context, by Member, name string) error {
	now := w.Now()
	return w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		role, err := by.role(ctx, q)
		if err != nil {
			return err
		}
		if err := role.Check(team.ManageOwners); err != nil {
			return err
		}
		o, err := q.GetOrganization(ctx, by.OrgID)
		if err != nil {
			return err
		}
		if o.Name == name {
			return nil
		}
		if err := q.RenameOrganization(ctx, queries.RenameOrganizationParams{ID: by.OrgID, Name: name}); err != nil {
			return err
		}
		return audit(ctx, q, by.Actor, event{action: OrgRenamed, orgID: by.OrgID, detail: o.Name + " → " + name}, now)
	})
}
