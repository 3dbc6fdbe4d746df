package testapp_test

import (
	"database/sql"
	"fmt"
	"testing"

	"keyport/migrations"
	"keyport/testapp"
)

// schemaVersion reads what the database at url records, without migrating it: -1 when
// it has no schema_version table (nothing was applied).
func schemaVersion(t *testing.T, url string) int {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var table sql.NullString
	if err := db.QueryRow("SELECT to_regclass('schema_version')::text").Scan(&table); err != nil {
		t.Fatal(err)
	}
	if !table.Valid {
		return -1
	}
	var v int
	if err := db.QueryRow("SELECT coalesce(max(version), 0) FROM schema_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// MigratedDB copies a template built from exactly the versions asked for (a changed or
// added version means another template), while DB stays empty for the tests of migrating.
func TestMigratedDBIsAtTheVersionsAskedFor(t *testing.T) {
	testapp.PostgresOnly(t)
	all := migrations.All()
	if got := schemaVersion(t, testapp.DB(t)); got != -1 {
		t.Errorf("DB: schema version %d, want an empty database", got)
	}
	for _, n := range []int{1, len(all.Postgres), 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			// Parallel copies of one template: CREATE DATABASE fails if anyone is connected to it.
			for range 3 {
				if got := schemaVersion(t, testapp.MigratedDB(t, migrations.Set{Postgres: all.Postgres[:n]})); got != n {
					t.Errorf("MigratedDB of %d versions: schema version %d", n, got)
				}
			}
		})
	}
}
