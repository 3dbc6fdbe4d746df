// Package provision makes the writes that the dashboard and the command line share:
// an account with its organization, and an API key with its audit event. Callers
// validate input first (handlers/parse) and run these inside one write transaction.
package provision

import (
	"context"
	"database/sql"
	"time"

	"keyport/apikey"
	"keyport/queries"
	"keyport/randid"
	"keyport/team"
)

// InTx runs fn in one write transaction on db (BEGIN IMMEDIATE on the writer), with q
// bound to it; q must be prepared on db.
func InTx(ctx context.Context, db *sql.DB, q *queries.Queries, fn func(q *queries.Queries) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(q.WithTx(tx)); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// Actor is who makes a change, as the audit log records it.
type Actor struct {
	UserID string // "" when no user acted
	Email  string
	IP     string // "" for the command line
}

// NewAccount is a validated signup.
type NewAccount struct {
	Email        string
	PasswordHash string // bcrypt, hashed before the transaction starts
	OrgName      string
	IP           string
	Now          time.Time
}

// Account is a created user and the organization made for it.
type Account struct {
	UserID, OrgID string
}

// CreateAccount creates the organization, its first user as its owner and a signup
// audit event. A
// taken email fails with a UNIQUE violation (database.IsUniqueViolation).
func CreateAccount(ctx context.Context, q *queries.Queries, in NewAccount) (Account, error) {
	now := in.Now.UnixMilli()
	a := Account{UserID: randid.New("usr"), OrgID: randid.New("org")}
	if err := q.CreateOrganization(ctx, queries.CreateOrganizationParams{ID: a.OrgID, Name: in.OrgName, CreatedAt: now}); err != nil {
		return Account{}, err
	}
	if err := q.CreateUser(ctx, queries.CreateUserParams{
		ID: a.UserID, Email: in.Email, PasswordHash: in.PasswordHash, CreatedAt: now,
	}); err != nil {
		return Account{}, err
	}
	if err := q.CreateMembership(ctx, queries.CreateMembershipParams{
		OrgID: a.OrgID, UserID: a.UserID, Role: string(team.Owner), CreatedAt: now,
	}); err != nil {
		return Account{}, err
	}
	return a, q.CreateAuditEvent(ctx, queries.CreateAuditEventParams{
		OrgID: nullStr(a.OrgID), ActorID: nullStr(a.UserID), ActorEmail: in.Email,
		Action: "signup", IP: in.IP, CreatedAt: now,
	})
}

// NewKey is a validated key request.
type NewKey struct {
	OrgID     string
	Name      string
	Scopes    string        // space-separated, as parse.Scopes returns them
	ExpiresIn time.Duration // 0 means never
	Actor     Actor
	Detail    string // extra audit text
	Now       time.Time
}

// CreatedKey is a new key. Key is the only copy of the full key there will ever be.
type CreatedKey struct {
	ID, Key string
}

// Generate makes a new key and the row that stores it (its hash and hint, never the key).
func Generate(in NewKey) (key string, row queries.CreateAPIKeyParams, err error) {
	key, err = apikey.Generate()
	if err != nil {
		return "", row, err
	}
	hash := apikey.Hash(key)
	row = queries.CreateAPIKeyParams{
		ID: randid.New("key"), OrgID: in.OrgID, Name: in.Name, Hash: hash[:], Hint: apikey.Hint(key),
		Scopes: in.Scopes, CreatedAt: in.Now.UnixMilli(), CreatedBy: nullStr(in.Actor.UserID),
	}
	if in.ExpiresIn > 0 {
		row.ExpiresAt = sql.NullInt64{Int64: in.Now.Add(in.ExpiresIn).UnixMilli(), Valid: true}
	}
	return key, row, nil
}

// CreateKey generates a key, stores its row and records a key_created event.
func CreateKey(ctx context.Context, q *queries.Queries, in NewKey) (CreatedKey, error) {
	key, row, err := Generate(in)
	if err != nil {
		return CreatedKey{}, err
	}
	if err := q.CreateAPIKey(ctx, row); err != nil {
		return CreatedKey{}, err
	}
	if err := q.CreateAuditEvent(ctx, queries.CreateAuditEventParams{
		OrgID: nullStr(in.OrgID), ActorID: nullStr(in.Actor.UserID), ActorEmail: in.Actor.Email,
		Action: "key_created", KeyID: nullStr(row.ID), KeyName: in.Name, Detail: in.Detail,
		IP: in.Actor.IP, CreatedAt: in.Now.UnixMilli(),
	}); err != nil {
		return CreatedKey{}, err
	}
	return CreatedKey{ID: row.ID, Key: key}, nil
}

func nullStr(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
