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
	// DB is the writer connection; each action runs in one transaction on it.
	DB *sql.DB
	// Queries are bound to DB (prepared on it or not).
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

// inTx runs fn in one write transaction (BEGIN IMMEDIATE: the connection string sets
// _txlock), with q bound to it.
func (w *Writer) inTx(ctx context.Context, fn func(q *queries.Queries) error) error {
	tx, err := w.DB.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(w.Queries.WithTx(tx)); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
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
