package org

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"keyport/apikey"
	"keyport/queries"
	"keyport/randid"
)

// KeyState is the state of the stored key k at now.
func KeyState(k queries.ApiKey, now time.Time) apikey.State {
	return apikey.Life{
		CreatedAt: k.CreatedAt, ExpiresAt: k.ExpiresAt.Int64, RevokedAt: k.RevokedAt.Int64, Rolled: k.RolledTo.Valid,
	}.State(now)
}

// NewKey is a validated key request.
type NewKey struct {
	OrgID     string
	Name      string
	Scopes    string        // space-separated, as input.Scopes returns them
	ExpiresIn time.Duration // 0 means never
	Actor     Actor
	Detail    string // extra audit text
	// FormToken, if set, is the form's one-time token (NewFormToken) and is used up by
	// the same transaction: a re-sent form fails with ErrFormResent and creates nothing.
	FormToken string
}

// CreatedKey is a new key and its stored row. Key is the only copy of the full key there
// will ever be.
type CreatedKey struct {
	Key string
	Row queries.ApiKey
}

// CreateKey generates a key, stores it (its hash and hint, never the key) and records a
// key_created event. It fails with ErrFormResent or ErrFormExpired for a bad FormToken.
func (w *Writer) CreateKey(ctx context.Context, in NewKey) (CreatedKey, error) {
	now := w.Now()
	var created CreatedKey
	err := w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		if err := useFormToken(ctx, q, in.Actor.UserID, in.FormToken, now); err != nil {
			return err
		}
		var err error
		created, err = createKey(ctx, q, in, now)
		if err != nil {
			return err
		}
		return audit(ctx, q, in.Actor, event{
			action: KeyCreated, orgID: in.OrgID, keyID: created.Row.ID, keyName: in.Name, detail: in.Detail,
		}, now)
	})
	if err != nil {
		return CreatedKey{}, err
	}
	w.keyIssued(created.Key)
	return created, nil
}

// createKey stores a new key and returns it with the row as stored (but for seq, which
// only paging reads).
func createKey(ctx context.Context, q *queries.Queries, in NewKey, now time.Time) (CreatedKey, error) {
	key, err := apikey.Generate()
	if err != nil {
		return CreatedKey{}, err
	}
	hash := apikey.Hash(key)
	p := queries.CreateAPIKeyParams{
		ID: randid.New("key"), OrgID: in.OrgID, Name: in.Name, Hash: hash[:], Hint: apikey.Hint(key),
		Scopes: in.Scopes, CreatedAt: now.UnixMilli(), CreatedBy: nullStr(in.Actor.UserID),
	}
	if in.ExpiresIn > 0 {
		p.ExpiresAt = nullMs(now.Add(in.ExpiresIn))
	}
	if err := q.CreateAPIKey(ctx, p); err != nil {
		return CreatedKey{}, err
	}
	return CreatedKey{Key: key, Row: queries.ApiKey{
		ID: p.ID, OrgID: p.OrgID, Name: p.Name, Hash: p.Hash, Hint: p.Hint, Scopes: p.Scopes,
		CreatedAt: p.CreatedAt, CreatedBy: p.CreatedBy, ExpiresAt: p.ExpiresAt,
	}}, nil
}

// Roll asks for key ID of organization OrgID to be replaced.
type Roll struct {
	OrgID, ID string
	// Grace is how long the old key keeps working (never past its own expiry);
	// GraceLabel names it in the audit log.
	Grace      time.Duration
	GraceLabel string
	Actor      Actor
	// Check, if set, decides inside the transaction, from the key as read, whether the
	// actor may change it (a member's role may allow only the keys they created); its
	// error is returned as it is.
	Check func(queries.ApiKey) error
}

// RolledKey is the new key and the old one as it is after the roll.
type RolledKey struct {
	New CreatedKey
	Old queries.ApiKey
}

// RollKey replaces a key with a new one of the same name, scopes and expiry period
// (counted from now); the old key keeps working for the grace period and then expires.
// It fails with ErrKeyNotFound or ErrNotRollable.
func (w *Writer) RollKey(ctx context.Context, in Roll) (RolledKey, error) {
	defer w.keysChanged()
	now := w.Now()
	var r RolledKey
	err := w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		old, err := getKey(ctx, q, in.OrgID, in.ID)
		if err != nil {
			return err
		}
		if err := check(in.Check, old); err != nil {
			return err
		}
		if !KeyState(old, now).CanRoll() {
			return ErrNotRollable
		}
		var period time.Duration
		if old.ExpiresAt.Valid {
			period = time.Duration(old.ExpiresAt.Int64-old.CreatedAt) * time.Millisecond
		}
		r.New, err = createKey(ctx, q, NewKey{
			OrgID: old.OrgID, Name: old.Name, Scopes: old.Scopes, ExpiresIn: period, Actor: in.Actor,
		}, now)
		if err != nil {
			return err
		}
		graceEnd := now.Add(in.Grace).UnixMilli()
		n, err := q.SetAPIKeyRolled(ctx, queries.SetAPIKeyRolledParams{
			RolledTo: nullStr(r.New.Row.ID), GraceEnd: sql.NullInt64{Int64: graceEnd, Valid: true},
			OrgID: old.OrgID, ID: old.ID,
		})
		if err != nil {
			return err
		}
		if n == 0 { // cannot happen inside this transaction, which read the key as rollable
			return ErrNotRollable
		}
		// What SetAPIKeyRolled wrote, without reading it back.
		old.RolledTo = nullStr(r.New.Row.ID)
		if !old.ExpiresAt.Valid || old.ExpiresAt.Int64 > graceEnd {
			old.ExpiresAt = sql.NullInt64{Int64: graceEnd, Valid: true}
		}
		r.Old = old
		return audit(ctx, q, in.Actor, event{
			action: KeyRolled, orgID: old.OrgID, keyID: old.ID, keyName: old.Name,
			detail: "New key " + r.New.Row.Hint + "; grace period: " + in.GraceLabel,
		}, now)
	})
	if err != nil {
		return RolledKey{}, err
	}
	w.keyIssued(r.New.Key)
	return r, nil
}

// Revoke asks for key ID to be revoked. OrgID "" means any organization's key: the
// command line names keys by id alone.
type Revoke struct {
	OrgID, ID string
	Actor     Actor
	Detail    string // extra audit text
	// Check is as for Roll.
	Check func(queries.ApiKey) error
}

// RevokedKey is the key as it is after the revoke. Already is set when it had been
// revoked before, and nothing changed.
type RevokedKey struct {
	Row     queries.ApiKey
	Already bool
}

// RevokeKey revokes a key, whatever its state but revoked (see apikey.State.CanRevoke),
// and records a key_revoked event. It fails with ErrKeyNotFound.
func (w *Writer) RevokeKey(ctx context.Context, in Revoke) (RevokedKey, error) {
	defer w.keysChanged()
	now := w.Now()
	var r RevokedKey
	err := w.inTx(ctx, func(ctx context.Context, q *queries.Queries) error {
		k, err := getKey(ctx, q, in.OrgID, in.ID)
		if err != nil {
			return err
		}
		if err := check(in.Check, k); err != nil {
			return err
		}
		r.Row = k
		if r.Already = !KeyState(k, now).CanRevoke(); r.Already {
			return nil
		}
		if _, err := q.RevokeAPIKeyByID(ctx, queries.RevokeAPIKeyByIDParams{Now: nullMs(now), ID: k.ID}); err != nil {
			return err
		}
		r.Row.RevokedAt = nullMs(now)
		return audit(ctx, q, in.Actor, event{
			action: KeyRevoked, orgID: k.OrgID, keyID: k.ID, keyName: k.Name, detail: in.Detail,
		}, now)
	})
	if err != nil {
		return RevokedKey{}, err
	}
	return r, nil
}

func check(c func(queries.ApiKey) error, k queries.ApiKey) error {
	if c == nil {
		return nil
	}
	return c(k)
}

// getKey reads key id; orgID "" accepts any organization's key.
func getKey(ctx context.Context, q *queries.Queries, orgID, id string) (queries.ApiKey, error) {
	k, err := q.GetAPIKeyByID(ctx, id)
	if errors.Is(err, sql.ErrNoRows) || err == nil && orgID != "" && k.OrgID != orgID {
		return queries.ApiKey{}, ErrKeyNotFound
	}
	return k, err
}
