package org

import (
	"context"

	"keyport/queries"
	"keyport/randid"
)

// A signed-in session is a row in user_sessions, named in the scs session data. A
// request is signed in only while its row exists, so deleting rows ends sessions for
// good: a request still in flight that writes the scs data back cannot revive one.

// StartSession makes a session row for userID and returns its id.
func (w *Writer) StartSession(ctx context.Context, userID string) (string, error) {
	id := randid.New("ses")
	return id, w.Queries.CreateUserSession(ctx, queries.CreateUserSessionParams{
		ID: id, UserID: userID, CreatedAt: w.Now().UnixMilli(),
	})
}

// EndSession ends one session.
func (w *Writer) EndSession(ctx context.Context, id string) error {
	return w.Queries.DeleteUserSession(ctx, id)
}

// SignOutEverywhere ends every session of the user and records it.
func (w *Writer) SignOutEverywhere(ctx context.Context, a Actor, orgID string) error {
	now := w.Now()
	return w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		if _, err := q.DeleteUserSessionsExcept(ctx, queries.DeleteUserSessionsExceptParams{UserID: a.UserID, Keep: ""}); err != nil {
			return err
		}
		return audit(ctx, q, a, event{action: SignedOutEverywhere, orgID: orgID}, now)
	})
}

// ChangePassword sets a new password hash (bcrypt, hashed before) and ends every session
// of the user but keep ("" ends them all, as the command line does), and records it. at
// is the reservation taken to check the current password (zero on the command line).
func (w *Writer) ChangePassword(ctx context.Context, a Actor, orgID, hash, keep string, at Attempt) error {
	now := w.Now()
	return w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		if err := at.succeeded(ctx, q); err != nil {
			return err
		}
		if err := q.SetPasswordHash(ctx, queries.SetPasswordHashParams{ID: a.UserID, PasswordHash: hash}); err != nil {
			return err
		}
		if _, err := q.DeleteUserSessionsExcept(ctx, queries.DeleteUserSessionsExceptParams{UserID: a.UserID, Keep: keep}); err != nil {
			return err
		}
		return audit(ctx, q, a, event{action: PasswordChanged, orgID: orgID}, now)
	})
}
