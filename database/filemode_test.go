package database_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"keyport/database"
	"keyport/testapp"
)

// Finding 5: the database and its -wal and -shm were created 0644 (readable by every
// user of the machine) while holding password hashes and sessions.
func TestDatabaseFilesPrivate(t *testing.T) {
	// The usual umask; under 077 everything would be 0600 anyway and prove nothing.
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })

	check := func(t *testing.T, path string) {
		t.Helper()
		db, err := database.Open(context.Background(), path, testapp.Assets(t).Migrations)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Write.Exec("INSERT INTO organizations (id, name, created_at) VALUES ('org_1', 'x', 0)"); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != 0o600 {
				t.Errorf("%s: mode %o, want 600", filepath.Base(p), got)
			}
		}
	}
	t.Run("new", func(t *testing.T) { check(t, filepath.Join(t.TempDir(), "new.db")) })
	t.Run("existing, made readable by others", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		check(t, path)
	})
}
