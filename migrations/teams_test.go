package migrations_test

import (
	"context"
	"strings"
	"testing"

	"keyport/database"
	"keyport/migrations"
	"keyport/queries"
	"keyport/testapp"
)

// A database from before teams (version 1) keeps its users and keys, and each user
// becomes the owner of the organization they had.
func TestTeamsMigration(t *testing.T) {
	ctx := context.Background()
	path := testapp.DB(t)
	all := migrations.All()
	v1, err := database.Open(ctx, path, migrations.Set{SQLite: all.SQLite[:1], Postgres: all.Postgres[:1]})
	if err != nil {
		t.Fatal(err)
	}
	// Version 1's tables, written the way version 1's queries wrote them.
	for _, stmt := range []string{
		`INSERT INTO organizations (id, name, created_at) VALUES ('org_a', 'A', 1), ('org_b', 'B', 2)`,
		`INSERT INTO users (id, org_id, email, password_hash, created_at) VALUES
		 ('usr_a', 'org_a', 'a@example.com', 'x', 10), ('usr_b', 'org_b', 'b@example.com', 'x', 20)`,
		`INSERT INTO api_keys (id, org_id, name, hash, hint, scopes, created_at, created_by)
		 VALUES ('key_a', 'org_a', 'k', ?, 'kp_…', 'products:read', 30, 'usr_a')`,
	} {
		var args []any
		if strings.Contains(stmt, "?") {
			args = append(args, []byte{1})
		}
		if _, err := v1.Write.ExecContext(ctx, stmt, args...); err != nil {
			t.Fatal(err)
		}
	}
	if err := v1.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := database.Open(ctx, path, all)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := queries.New(db.Read)
	for _, want := range []queries.ListMembersRow{
		{UserID: "usr_a", Email: "a@example.com", Role: "owner", CreatedAt: 10},
		{UserID: "usr_b", Email: "b@example.com", Role: "owner", CreatedAt: 20},
	} {
		org := "org" + want.UserID[3:]
		got, err := q.ListMembers(ctx, org)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("members of %s = %+v, %v; want [%+v]", org, got, err, want)
		}
	}
	k, err := q.GetAPIKey(ctx, queries.GetAPIKeyParams{OrgID: "org_a", ID: "key_a"})
	if err != nil || k.CreatedBy.String != "usr_a" {
		t.Errorf("key_a = %+v, %v; want it kept, created by usr_a", k, err)
	}
	if db.Engine() == database.Postgres {
		return // PostgreSQL checks foreign keys on every statement, the migration's too
	}
	var fkProblems int
	if err := db.Read.QueryRowContext(ctx, "SELECT count(*) FROM pragma_foreign_key_check").Scan(&fkProblems); err != nil {
		t.Fatal(err)
	}
	if fkProblems != 0 {
		t.Errorf("%d foreign key violations after the migration", fkProblems)
	}
}
