package cli_test

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"keyport/testapp"
)

// A backup holds everything the database does, so it is as private: 0600.
func TestBackupFileIsPrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	dir := t.TempDir()
	db := filepath.Join(dir, "keyport.db")
	must(t, testapp.Password+"\n", "user", "create", "--email", "backup@example.com", "-db", db)
	for _, args := range [][]string{{"backup", "-db", db, filepath.Join(dir, "copy.db")}, {"backup", "-force", "-db", db, filepath.Join(dir, "copy.db")}} {
		must(t, "", args...)
		fi, err := os.Stat(filepath.Join(dir, "copy.db"))
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%v: backup mode %o, want 600", args, got)
		}
	}
}
