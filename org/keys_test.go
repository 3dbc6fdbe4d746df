package org_test

import (
	"context"
	"database/sql"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"keyport/apikey"
	"keyport/database"
	"keyport/groupcommit"
	"keyport/org"
	"keyport/queries"
	"keyport/testapp"
)

// fixture is a Writer on a fresh database, on a clock the test moves, with one account.
type fixture struct {
	w       *org.Writer
	q       *queries.Queries
	now     time.Time
	changed int // KeysChanged calls
	orgID   string
	actor   org.Actor
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, filepath.Join(t.TempDir(), "org.db"), testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &fixture{q: queries.New(db.Write), now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	commit := groupcommit.New(db.Write, f.q, nil)
	t.Cleanup(commit.Close)
	f.w = &org.Writer{Commit: commit, Queries: f.q, Now: func() time.Time { return f.now }, KeysChanged: func() { f.changed++ }}
	acct, err := f.w.Signup(ctx, org.NewAccount{Email: "owner@example.com", PasswordHash: "x", OrgName: "Acme"})
	if err != nil {
		t.Fatal(err)
	}
	f.orgID = acct.OrgID
	f.actor = org.Actor{UserID: acct.UserID, Email: "owner@example.com", IP: "192.0.2.1"}
	return f
}

func (f *fixture) createKey(t *testing.T, expiresIn time.Duration) org.CreatedKey {
	t.Helper()
	k, err := f.w.CreateKey(context.Background(), org.NewKey{
		OrgID: f.orgID, Name: "backend", Scopes: "products:read", ExpiresIn: expiresIn, Actor: f.actor,
	})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// audit is the organization's audit trail, oldest first, as actions.
func (f *fixture) audit(t *testing.T) []org.Action {
	t.Helper()
	events, err := f.q.ListAuditEvents(context.Background(), queries.ListAuditEventsParams{
		OrgID: sql.NullString{String: f.orgID, Valid: true}, Before: math.MaxInt64, Limit: 100,
	})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]org.Action, len(events))
	for i, e := range events {
		out[len(events)-1-i] = org.Action(e.Action)
	}
	return out
}

// stored reads key id as the database has it.
func (f *fixture) stored(t *testing.T, id string) queries.ApiKey {
	t.Helper()
	k, err := f.q.GetAPIKeyByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// The roll returns the old and new rows as stored, without reading them back; only a key
// whose state allows it can be rolled.
func TestRollKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	old := f.createKey(t, 30*24*time.Hour)
	f.now = f.now.Add(time.Hour)

	r, err := f.w.RollKey(ctx, org.Roll{OrgID: f.orgID, ID: old.Row.ID, Grace: 24 * time.Hour, GraceLabel: "24 hours", Actor: f.actor})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Old, f.stored(t, old.Row.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("returned old row\n%+v\nstored\n%+v", got, want)
	}
	if got, want := r.New.Row, f.stored(t, r.New.Row.ID); got.ID != want.ID || got.Hint != want.Hint || got.ExpiresAt != want.ExpiresAt || got.CreatedAt != want.CreatedAt || got.Scopes != want.Scopes {
		t.Errorf("returned new row\n%+v\nstored\n%+v", got, want)
	}
	if got, want := time.UnixMilli(r.Old.ExpiresAt.Int64), f.now.Add(24*time.Hour); !got.Equal(want) {
		t.Errorf("old key expires %v, want the grace end %v", got, want)
	}
	if got, want := time.UnixMilli(r.New.Row.ExpiresAt.Int64), f.now.Add(30*24*time.Hour); !got.Equal(want) {
		t.Errorf("new key expires %v, want its 30-day period from now, %v", got, want)
	}
	if got := org.KeyState(r.Old, f.now); got != apikey.Rolled {
		t.Errorf("old key is %v, want rolled", got)
	}
	if f.changed != 1 {
		t.Errorf("KeysChanged called %d times, want 1", f.changed)
	}

	// Each refusal leaves no trace.
	revoked := f.createKey(t, 0)
	if _, err := f.w.RevokeKey(ctx, org.Revoke{OrgID: f.orgID, ID: revoked.Row.ID, Actor: f.actor}); err != nil {
		t.Fatal(err)
	}
	other := newFixture(t)
	before := f.audit(t)
	for _, tt := range []struct {
		name, orgID, id string
		want            error
	}{
		{"already rolled", f.orgID, old.Row.ID, org.ErrNotRollable},
		{"revoked", f.orgID, revoked.Row.ID, org.ErrNotRollable},
		{"unknown", f.orgID, "key_nope", org.ErrKeyNotFound},
		{"another organization's", other.orgID, r.New.Row.ID, org.ErrKeyNotFound},
	} {
		if _, err := f.w.RollKey(ctx, org.Roll{OrgID: tt.orgID, ID: tt.id, Grace: time.Hour, Actor: f.actor}); !errors.Is(err, tt.want) {
			t.Errorf("rolling the %s key: %v, want %v", tt.name, err, tt.want)
		}
	}
	if got := f.audit(t); len(got) != len(before) {
		t.Errorf("refused rolls wrote audit events: %v", got[len(before):])
	}
}

// An expired key may be revoked (apikey.State.CanRevoke); a revoked one is left as it
// is, and the command line (no organization) revokes any organization's key.
func TestRevokeKey(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	k := f.createKey(t, 7*24*time.Hour)
	f.now = f.now.Add(8 * 24 * time.Hour)
	if got := org.KeyState(k.Row, f.now); got != apikey.Expired {
		t.Fatalf("key is %v, want expired", got)
	}

	r, err := f.w.RevokeKey(ctx, org.Revoke{OrgID: f.orgID, ID: k.Row.ID, Actor: f.actor})
	if err != nil || r.Already {
		t.Fatalf("revoking the expired key: %+v, %v", r, err)
	}
	if got, want := r.Row, f.stored(t, k.Row.ID); !reflect.DeepEqual(got, want) {
		t.Errorf("returned row\n%+v\nstored\n%+v", got, want)
	}
	f.now = f.now.Add(time.Minute)
	again, err := f.w.RevokeKey(ctx, org.Revoke{ID: k.Row.ID, Actor: org.Actor{Email: "keyport CLI"}})
	if err != nil || !again.Already || again.Row.RevokedAt != r.Row.RevokedAt {
		t.Errorf("revoking again: %+v, %v; want Already and the first revocation's time", again, err)
	}
	other := newFixture(t)
	if _, err := other.w.RevokeKey(ctx, org.Revoke{OrgID: other.orgID, ID: f.createKey(t, 0).Row.ID, Actor: other.actor}); !errors.Is(err, org.ErrKeyNotFound) {
		t.Errorf("revoking another organization's key: %v, want ErrKeyNotFound", err)
	}
	want := []org.Action{org.Signup, org.KeyCreated, org.KeyRevoked, org.KeyCreated}
	if got := f.audit(t); !slices.Equal(got, want) {
		t.Errorf("audit trail %v, want %v", got, want)
	}
	if f.changed != 2 {
		t.Errorf("KeysChanged called %d times, want 2 (once per revoke)", f.changed)
	}
}
