package org

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"keyport/queries"
	"keyport/randid"
)

// A form that creates something carries a one-time token: the first post with it does
// the work, a re-sent one (a reload of the result page, a double click without
// JavaScript) finds it used and does nothing. The full key is never kept anywhere to be
// shown again, so this is what keeps a reload from making a second key.
const formTokenTTL = 24 * time.Hour

// Errors of a form's one-time token.
var (
	ErrFormResent  = errors.New("form already sent")
	ErrFormExpired = errors.New("form token expired or unknown")
)

// NewFormToken issues a one-time token for userID's next form post.
func (w *Writer) NewFormToken(ctx context.Context, userID string) (string, error) {
	token := randid.New("ft")
	err := w.Queries.CreateFormToken(ctx, queries.CreateFormTokenParams{
		Token: token, UserID: userID, CreatedAt: w.Now().UnixMilli(),
	})
	return token, err
}

// useFormToken marks token used, inside the transaction that does the form's work, so a
// failed write leaves it usable. An empty token (a script posting the form directly)
// is let through: only a form keyport rendered can be re-sent by a browser.
func useFormToken(ctx context.Context, q *queries.Queries, userID, token string, now time.Time) error {
	if token == "" {
		return nil
	}
	n, err := q.UseFormToken(ctx, queries.UseFormTokenParams{
		Now: sql.NullInt64{Int64: now.UnixMilli(), Valid: true}, Token: token, UserID: userID,
		NotBefore: now.Add(-formTokenTTL).UnixMilli(),
	})
	if err != nil || n == 1 {
		return err
	}
	used, err := q.FormTokenUsed(ctx, queries.FormTokenUsedParams{Token: token, UserID: userID})
	if err != nil {
		return err
	}
	if used {
		return ErrFormResent
	}
	return ErrFormExpired
}

// PruneFormTokens forgets tokens too old to be used.
func (w *Writer) PruneFormTokens(ctx context.Context) error {
	return w.Queries.DeleteFormTokensBefore(ctx, w.Now().Add(-formTokenTTL).UnixMilli())
}
