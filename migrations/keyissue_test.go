package migrations_test

import (
	"context"
	"testing"

	"keyport/apikey"
	"keyport/database"
	"keyport/migrations"
	"keyport/queries"
	"keyport/testapp"
)

// Version 7 numbers the keys already stored in seq order, and the next key stored takes
// the number after them (on PostgreSQL from the counter's trigger, on SQLite likewise).
func TestKeyIssueMigration(t *testing.T) {
	ctx := context.Background()
	path := testapp.DB(t)
	all := migrations.All()
	v6, err := database.Open(ctx, path, migrations.Set{SQLite: all.SQLite[:6], Postgres: all.Postgres[:6]})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v6.Write.ExecContext(ctx, `INSERT INTO organizations (id, name, created_at) VALUES ('org_a', 'A', 1)`); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"key_c", "key_a", "key_b"} {
		if _, err := v6.Write.ExecContext(ctx, `INSERT INTO api_keys (id, org_id, name, hash, hint, scopes, created_at)
			VALUES (?, 'org_a', 'k', ?, 'kp_…', 'products:read', 1)`, id, []byte(id)); err != nil {
			t.Fatal(err)
		}
	}
	if err := v6.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := database.Open(ctx, path, all)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := queries.New(db.Write)
	raw, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	h := apikey.Hash(raw)
	if err := q.CreateAPIKey(ctx, queries.CreateAPIKeyParams{ID: "key_new", OrgID: "org_a", Name: "new", Hash: h[:], Hint: apikey.Hint(raw), Scopes: "products:read", CreatedAt: 2}); err != nil {
		t.Fatal(err)
	}
	var last int64
	for _, id := range []string{"key_c", "key_a", "key_b", "key_new"} {
		k, err := q.GetAPIKeyByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if k.Issued <= last {
			t.Errorf("%s: issued %d, want more than the key stored before it (%d)", id, k.Issued, last)
		}
		last = k.Issued
	}
	if got, err := q.MaxAPIKeyIssued(ctx); err != nil || got != last {
		t.Errorf("MaxAPIKeyIssued = %d, %v; want %d", got, err, last)
	}
}
