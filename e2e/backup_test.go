package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keyport/testapp"
)

func runBackup(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"backup"}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// On PostgreSQL `keyport backup` refuses and points to pg_dump, without writing PATH.
func TestBackupRefusedOnPostgres(t *testing.T) {
	testapp.PostgresOnly(t)
	dst := filepath.Join(t.TempDir(), "backup.db")
	_, errOut, err := runBackup(t, "-db", testapp.DB(t), dst)
	if err == nil || !strings.Contains(errOut, "pg_dump") {
		t.Errorf("backup on PostgreSQL: %v, stderr %q; want a refusal naming pg_dump", err, errOut)
	}
	if _, err := os.Stat(dst); !os.IsNotExist(err) {
		t.Errorf("the refused backup left %s behind (%v)", dst, err)
	}
}

// TestBackupUnderLoad: `keyport backup` run while clients write makes a copy that holds
// every product acknowledged before the backup began, passes integrity_check, and serves
// again when restored in place of the original.
func TestBackupUnderLoad(t *testing.T) {
	testapp.SQLiteOnly(t, "keyport backup copies the SQLite file (TestBackupRefusedOnPostgres)")
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "keyport.db")
	s := start(t, dbPath)
	acct := signup(t, s, "backup@example.com", 2)

	ctx, cancel := context.WithCancel(context.Background())
	l, wait := goLoad(ctx, newHTTPClient(8), s.URL, acct.Keys, 8, 0, "backup")
	defer func() {
		cancel()
		wait()
	}()
	for deadline := time.Now().Add(60 * time.Second); len(l.acked()) < 200; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d writes acknowledged in 60 s", len(l.acked()))
		}
	}

	backupPath := filepath.Join(dir, "backup.db")
	began := time.Now()
	out, errOut, err := runBackup(t, "-db", dbPath, backupPath)
	if err != nil {
		t.Fatalf("backup: %v\n%s%s", err, out, errOut)
	}
	// Keep writing a little after the backup, then stop.
	time.Sleep(200 * time.Millisecond)
	cancel()
	wait()
	for _, b := range l.bad {
		t.Errorf("bad answer under load: %s", b)
	}
	if !strings.Contains(out, "backed up") {
		t.Errorf("backup output = %q", out)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, ".backup.db*"))
	if len(leftovers) > 0 {
		t.Errorf("backup left temporary files: %v", leftovers)
	}

	var before []ack
	for _, a := range l.acked() {
		if a.At.Before(began) {
			before = append(before, a)
		}
	}
	if len(before) == 0 {
		t.Fatal("no write was acknowledged before the backup began: the test checked nothing")
	}
	bdb := openDB(t, backupPath)
	integrityCheck(t, bdb)
	inBackup := productIDs(t, bdb)
	for _, a := range before {
		if !inBackup[a.ID] {
			t.Errorf("product %s acknowledged before the backup began is missing from it", a.ID)
		}
	}
	bdb.Close()
	t.Logf("%d requests during the test; %d acknowledged before the backup began, all in it; backup holds %d of %d acknowledged",
		l.sent(), len(before), len(inBackup), len(l.acked()))

	// An existing file is never overwritten without -force.
	sum := fileSum(t, backupPath)
	if _, errOut, err := runBackup(t, "-db", dbPath, backupPath); err == nil || !strings.Contains(errOut, "already exists") {
		t.Errorf("backup over an existing file: err %v, stderr %q; want a refusal", err, errOut)
	}
	if fileSum(t, backupPath) != sum {
		t.Error("the refused backup changed the existing file")
	}
	if _, errOut, err := runBackup(t, "-db", dbPath, "-force", filepath.Join(dir, "keyport.db")); err == nil {
		t.Errorf("backup onto the database itself succeeded; stderr %q", errOut)
	}
	s.stop()
	if out, errOut, err := runBackup(t, "-db", dbPath, "-force", backupPath); err != nil {
		t.Fatalf("backup -force: %v\n%s%s", err, out, errOut)
	}
	final := productIDs(t, openDB(t, backupPath))

	// Restore as README says: the server stopped, the database and its -wal and -shm
	// files replaced by the backup.
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(dbPath + suffix); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	if err := os.Rename(backupPath, dbPath); err != nil {
		t.Fatal(err)
	}
	s = start(t, dbPath)
	acct.retarget(t, s)
	if resp, body := acct.Client.Get("/dashboard/integrations/api"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed-in page after restore: %d\n%s", resp.StatusCode, body)
	}
	for _, a := range l.acked() {
		if !final[a.ID] {
			t.Errorf("product %s acknowledged before the server stopped is missing from the -force backup", a.ID)
		}
	}
	// The database checks above cover every row; a sample also goes through the API.
	hc := newHTTPClient(1)
	for _, a := range before[:min(len(before), 50)] {
		r := callAPI(context.Background(), hc, http.MethodGet, s.URL+"/api/products/"+a.ID, acct.Keys[0], "")
		if r.Status != http.StatusOK || !strings.Contains(r.Body, a.Name) {
			t.Errorf("GET %s after restore: %d %s", a.ID, r.Status, r.Body)
		}
	}
	s.stop()
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}
