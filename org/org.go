// Package org makes every write that changes an organization's accounts and keys, and
// records each in the audit trail in the same transaction: signup, sign-in and its
// failures, and creating, rolling and revoking keys. The dashboard and the command line
// call one action each; the rules those writes obey (what a key's state allows) are
// checked here, not by their callers.
package org

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"keyport/groupcommit"
	"keyport/queries"
)

// Errors the actions return; callers map them with errors.Is.
var (
	// ErrEmailTaken: a user with this email already exists.
	ErrEmailTaken = errors.New("email taken")
	// ErrKeyNotFound: no such key in the organization (another organization's key
	// included: it is never reported as forbidden).
	ErrKeyNotFound = errors.New("key not found")
	// ErrNotRollable: the key's state does not allow a roll (revoked, expired or rolled).
	ErrNotRollable = errors.New("key cannot be rolled")
)

// Writer makes the audited writes. Build it once; it is safe for concurrent use.
type Writer struct {
	// Commit runs each action in a transaction on the writer connection, together with
	// the other writes that arrive at the same time.
	Commit *groupcommit.Committer
	// Queries are on the writer connection, for single-statement writes.
	Queries *queries.Queries
	// Now is the clock.
	Now func() time.Time
	// KeysChanged, if set, is called after every roll or revoke, committed or not,
	// before the action returns: the caller's cache of verified keys must not outlive
	// the change.
	KeysChanged func()
	// KeyIssued, if set, is called with each new key (created or rolled in) once it is
	// committed, before the action returns: the caller's filter of stored keys must hold
	// it before anyone can send it.
	KeyIssued func(key string)
}

// inTx runs fn as one job of a group commit: in a write transaction, with q bound to it,
// atomically and alone in effect (a failing job takes none of the batch down with it).
// fn may run more than once and must use the ctx it is given (see groupcommit.Job).
func (w *Writer) inTx(ctx context.Context, fn groupcommit.Job) error {
	return w.Commit.Do(ctx, fn)
}

func (w *Writer) keyIssued(key string) {
	if w.KeyIssued != nil {
		w.KeyIssued(key)
	}
}

func (w *Writer) keysChanged() {
	if w.KeysChanged != nil {
		w.KeysChanged()
	}
}

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func nullMs(t time.Time) sql.NullInt64 { return sql.NullInt64{Int64: t.UnixMilli(), Valid: true} }
