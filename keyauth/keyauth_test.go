package keyauth_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"keyport/apikey"
	"keyport/database"
	"keyport/keyauth"
	"keyport/queries"
	"keyport/testapp"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

type fixture struct {
	db       *database.DB
	write    *queries.Queries
	verifier *keyauth.Verifier
	// other is a second connection to the same file, like the CLI in another process.
	other   *queries.Queries
	otherDB *sql.DB
}

func setup(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	path := testapp.MigratedDB(t, testapp.Assets(t).Migrations)
	db, err := database.Open(ctx, path, testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	other, err := database.Open(ctx, path, testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	f := &fixture{db: db, write: queries.New(db.Write), verifier: keyauth.NewVerifier(queries.New(db.Read)), other: queries.New(other.Write), otherDB: other.Write}
	if err := f.write.CreateOrganization(ctx, queries.CreateOrganizationParams{ID: "org_1", Name: "One", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	if err := f.verifier.CheckEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// newKey stores a key as this process does (the row, then Issued) and returns it.
func (f *fixture) newKey(t *testing.T, id, scopes string, expiresAt time.Time) string {
	t.Helper()
	key := storeKey(t, f.write, id, scopes, expiresAt)
	f.verifier.Issued(key)
	return key
}

// storeKey stores a key through q without telling the verifier, as another process does.
func storeKey(t *testing.T, q *queries.Queries, id, scopes string, expiresAt time.Time) string {
	t.Helper()
	key, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	h := apikey.Hash(key)
	p := queries.CreateAPIKeyParams{ID: id, OrgID: "org_1", Name: id, Hash: h[:], Hint: apikey.Hint(key), Scopes: scopes, CreatedAt: now.UnixMilli()}
	if !expiresAt.IsZero() {
		p.ExpiresAt = sql.NullInt64{Int64: expiresAt.UnixMilli(), Valid: true}
	}
	if err := q.CreateAPIKey(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return key
}

func TestVerify(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	valid := f.newKey(t, "key_valid", "products:read", time.Time{})
	expiring := f.newKey(t, "key_expiring", "products:read products:write", now.Add(time.Hour))
	revoked := f.newKey(t, "key_revoked", "products:read", time.Time{})
	if _, err := f.write.RevokeAPIKeyByID(ctx, queries.RevokeAPIKeyByIDParams{Now: sql.NullInt64{Int64: 1, Valid: true}, ID: "key_revoked"}); err != nil {
		t.Fatal(err)
	}
	unknown, _ := apikey.Generate()

	tests := []struct {
		name    string
		raw     string
		at      time.Time
		wantErr error
		wantID  string
	}{
		{"valid", valid, now, nil, "key_valid"},
		{"missing", "", now, keyauth.ErrMissing, ""},
		{"malformed", "kp_short", now, keyauth.ErrInvalid, ""},
		{"unknown", unknown, now, keyauth.ErrInvalid, ""},
		{"revoked", revoked, now, keyauth.ErrRevoked, "key_revoked"},
		{"before expiry", expiring, now.Add(time.Hour - time.Millisecond), nil, "key_expiring"},
		{"at expiry", expiring, now.Add(time.Hour), keyauth.ErrExpired, "key_expiring"},
	}
	for _, tt := range tests {
		// Twice: the second answer comes from the cache and must agree.
		for range 2 {
			k, err := f.verifier.Verify(ctx, tt.raw, tt.at)
			if !errors.Is(err, tt.wantErr) || k.ID != tt.wantID {
				t.Errorf("%s: Verify = %q, %v; want %q, %v", tt.name, k.ID, err, tt.wantID, tt.wantErr)
			}
		}
	}
	k, _ := f.verifier.Verify(ctx, expiring, now)
	if !k.HasScope(keyauth.ScopeProductsWrite) || !k.HasScope(keyauth.ScopeProductsRead) || k.HasScope("products") {
		t.Errorf("scopes %q: HasScope answers wrongly", k.Scopes)
	}
}

// A revocation by another connection reaches a verifier that has the key cached once
// the epoch is checked, which the server does whenever PRAGMA data_version moves.
func TestRevokeByOtherConnection(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	key := f.newKey(t, "key_1", "products:read", time.Time{})
	if _, err := f.verifier.Verify(ctx, key, now); err != nil {
		t.Fatal(err)
	}
	n, err := f.other.RevokeAPIKeyByID(ctx, queries.RevokeAPIKeyByIDParams{Now: sql.NullInt64{Int64: now.UnixMilli(), Valid: true}, ID: "key_1"})
	if err != nil || n != 1 {
		t.Fatalf("revoke: %d, %v", n, err)
	}
	if err := f.verifier.CheckEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.verifier.Verify(ctx, key, now); !errors.Is(err, keyauth.ErrRevoked) {
		t.Errorf("after the epoch check: %v, want ErrRevoked", err)
	}
}

// With caching disabled every verification reads the database.
func TestDisable(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	key := f.newKey(t, "key_1", "products:read", time.Time{})
	f.verifier.Disable()
	if _, err := f.verifier.Verify(ctx, key, now); err != nil {
		t.Fatal(err)
	}
	if _, err := f.other.RevokeAPIKeyByID(ctx, queries.RevokeAPIKeyByIDParams{Now: sql.NullInt64{Int64: 1, Valid: true}, ID: "key_1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.verifier.Verify(ctx, key, now); !errors.Is(err, keyauth.ErrRevoked) {
		t.Errorf("with caching disabled: %v, want ErrRevoked", err)
	}
}

// The key epoch moves on every change to a key's validity and on nothing else, so
// product writes and last-used updates do not empty the cache.
func TestKeyEpoch(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	f.newKey(t, "key_1", "products:read", time.Time{})
	f.newKey(t, "key_2", "products:read", time.Time{})
	epoch := func() int64 {
		t.Helper()
		n, err := f.write.GetKeyEpoch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	steps := []struct {
		name  string
		do    func() error
		moves bool
	}{
		{"create key", func() error { f.newKey(t, "key_3", "products:read", time.Time{}); return nil }, false},
		{"create product", func() error {
			return f.write.CreateProduct(ctx, queries.CreateProductParams{ID: "prod_1", OrgID: "org_1", Name: "p", PriceCents: 1, CreatedAt: 1, KeyID: sql.NullString{String: "key_1", Valid: true}})
		}, false},
		{"touch last used", func() error {
			return f.write.TouchAPIKey(ctx, queries.TouchAPIKeyParams{ID: "key_1", UsedAt: sql.NullInt64{Int64: now.UnixMilli(), Valid: true}})
		}, false},
		{"roll", func() error {
			_, err := f.write.SetAPIKeyRolled(ctx, queries.SetAPIKeyRolledParams{RolledTo: sql.NullString{String: "key_3", Valid: true}, GraceEnd: sql.NullInt64{Int64: now.UnixMilli(), Valid: true}, OrgID: "org_1", ID: "key_2"})
			return err
		}, true},
		{"revoke", func() error {
			_, err := f.write.RevokeAPIKeyByID(ctx, queries.RevokeAPIKeyByIDParams{Now: sql.NullInt64{Int64: 1, Valid: true}, ID: "key_1"})
			return err
		}, true},
	}
	for _, s := range steps {
		before := epoch()
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if moved := epoch() != before; moved != s.moves {
			t.Errorf("%s: epoch moved = %v, want %v", s.name, moved, s.moves)
		}
	}
}

// A key answered from the cache costs no allocation: Verify runs on every API request.
func TestVerifyCachedAllocatesNothing(t *testing.T) {
	f := setup(t)
	key := f.newKey(t, "key_1", keyauth.ScopeProductsRead, time.Time{})
	ctx := context.Background()
	if _, err := f.verifier.Verify(ctx, key, now); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if _, err := f.verifier.Verify(ctx, key, now); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("a cached Verify allocates %v times", n)
	}
}
