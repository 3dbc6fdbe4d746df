package org

import (
	"context"

	"keyport/database"
	"keyport/queries"
	"keyport/randid"
	"keyport/team"
)

// NewAccount is a validated signup.
type NewAccount struct {
	Email        string
	PasswordHash string // bcrypt, hashed before the transaction starts
	OrgName      string
	IP           string // "" on the command line
	// Attempt is the client's reservation (ReserveSignIn with no account), given back
	// when the signup succeeds; a taken email keeps it as a failure. Zero on the
	// command line.
	Attempt Attempt
}

// Account is a created user and the organization made for it.
type Account struct {
	UserID, OrgID string
}

// Signup creates an organization, its first user as its owner and a signup event. A taken email
// fails with ErrEmailTaken.
func (w *Writer) Signup(ctx context.Context, in NewAccount) (Account, error) {
	now := w.Now()
	a := Account{UserID: randid.New("usr"), OrgID: randid.New("org")}
	err := w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		if err := q.CreateOrganization(ctx, queries.CreateOrganizationParams{ID: a.OrgID, Name: in.OrgName, CreatedAt: now.UnixMilli()}); err != nil {
			return err
		}
		if err := q.CreateUser(ctx, queries.CreateUserParams{
			ID: a.UserID, Email: in.Email, PasswordHash: in.PasswordHash, CreatedAt: now.UnixMilli(),
		}); err != nil {
			return err
		}
		if err := q.CreateMembership(ctx, queries.CreateMembershipParams{
			OrgID: a.OrgID, UserID: a.UserID, Role: string(team.Owner), CreatedAt: now.UnixMilli(),
		}); err != nil {
			return err
		}
		if err := signedUp(ctx, q, a.UserID, in, now); err != nil {
			return err
		}
		return audit(ctx, q, Actor{UserID: a.UserID, Email: in.Email, IP: in.IP}, event{action: Signup, orgID: a.OrgID}, now)
	})
	if database.IsUniqueViolation(err) {
		return Account{}, ErrEmailTaken
	}
	if err != nil {
		return Account{}, err
	}
	return a, nil
}

// SignIn is a sign-in attempt, as the audit log records it.
type SignIn struct {
	Email  string // what was typed; on success, the user's email
	IP     string
	UserID string // the account the email names, "" when none does
	OrgID  string // the organization the user's sessions start in, "" when none
	// Attempt is the reservation ReserveSignIn took for this sign-in.
	Attempt Attempt
}

// RecordLogin records a successful sign-in, notes its time on the user and gives the
// attempt's reservation back.
func (w *Writer) RecordLogin(ctx context.Context, in SignIn) error {
	now := w.Now()
	return w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		if err := in.Attempt.succeeded(ctx, q); err != nil {
			return err
		}
		if err := q.SetLastSignIn(ctx, queries.SetLastSignInParams{ID: in.UserID, Now: nullMs(now)}); err != nil {
			return err
		}
		return audit(ctx, q, Actor{UserID: in.UserID, Email: in.Email, IP: in.IP}, event{action: Login, orgID: in.OrgID}, now)
	})
}

// RecordLoginFailure records a failed sign-in; its reservation stays counted, and past
// the free failures the account's next attempt must wait.
func (w *Writer) RecordLoginFailure(ctx context.Context, in SignIn) error {
	now := w.Now()
	return w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		if err := in.Attempt.failed(ctx, q, now); err != nil {
			return err
		}
		return audit(ctx, q, Actor{UserID: in.UserID, Email: in.Email, IP: in.IP}, event{action: LoginFailed, orgID: in.OrgID}, now)
	})
}
