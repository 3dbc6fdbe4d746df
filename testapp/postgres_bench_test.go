package testapp_test

import (
	"context"
	"testing"

	"keyport/database"
	"keyport/testapp"
)

// What a test pays for its database before it starts: on PostgreSQL, an empty database
// migrated (DB, as every test did before) against a copy of the migrated template
// (MigratedDB). KEYPORT_TEST_POSTGRES=… go test ./testapp -run XXX -bench . -benchtime 30x
func benchOpen(b *testing.B, path func(testing.TB) string) {
	ms := testapp.Assets(b).Migrations
	for b.Loop() {
		db, err := database.Open(context.Background(), path(b), ms)
		if err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}

func BenchmarkEmptyThenMigrate(b *testing.B) { benchOpen(b, testapp.DB) }

func BenchmarkTemplateCopy(b *testing.B) {
	benchOpen(b, func(t testing.TB) string { return testapp.MigratedDB(t, testapp.Assets(t).Migrations) })
}
