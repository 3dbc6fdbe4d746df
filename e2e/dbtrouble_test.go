package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"keyport/testapp"
)

// mountTmpfs mounts a tmpfs of the given size, so the test can fill the disk under the
// database without touching the machine's. It needs root (CI runs as root); elsewhere
// the test is skipped, saying why.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "keyport-e2e", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (needs root and mount(8)): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file until the file system is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return path
			}
			t.Fatal(err)
		}
	}
}

// TestDiskFull fills the disk under a running binary. Writes then answer 503 in the
// API's JSON shape (pages: a 503 page), never 500; reads keep working; nothing is half
// written; and once space is freed, writes succeed again without a restart.
func TestDiskFull(t *testing.T) {
	testapp.SQLiteOnly(t, "the SQLite file's disk filling up")
	mnt := mountTmpfs(t, "8m")
	s := start(t, filepath.Join(mnt, "keyport.db"))
	var filler string
	databaseTrouble(t, s, "database or disk is full",
		func() { filler = fill(t, mnt) },
		func() {
			if err := os.Remove(filler); err != nil {
				t.Fatal(err)
			}
		})
}

// TestFileSizeLimit lowers the binary's file size limit (RLIMIT_FSIZE, with prlimit(1))
// below what its database files need: writes fail with EFBIG, which SQLite reports as
// an I/O error. Same expectations as a full disk; it needs no root.
func TestFileSizeLimit(t *testing.T) {
	testapp.SQLiteOnly(t, "the SQLite file hitting RLIMIT_FSIZE")
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Skip("prlimit(1) (util-linux) is not installed")
	}
	s := start(t, filepath.Join(t.TempDir(), "keyport.db"))
	limit := func(v string) {
		pid := strconv.Itoa(s.cmd.Process.Pid)
		if out, err := exec.Command("prlimit", "--pid", pid, "--fsize="+v+":unlimited").CombinedOutput(); err != nil {
			t.Fatalf("prlimit --fsize=%s: %v %s", v, err, out)
		}
	}
	databaseTrouble(t, s, "disk I/O error",
		func() {
			var size int64
			for _, suffix := range []string{"", "-wal"} {
				if fi, err := os.Stat(s.DB + suffix); err == nil {
					size = max(size, fi.Size())
				}
			}
			limit(strconv.FormatInt(size, 10))
		},
		func() { limit("unlimited") })
}

// databaseTrouble writes to s until provoke makes the database refuse writes (with
// SQLite's error text sqliteErr in the server log), checks the answers while it does,
// calls clear, and checks that keyport recovers by itself and that the file holds
// exactly what was acknowledged.
func databaseTrouble(t *testing.T, s *server, sqliteErr string, provoke, clear func()) {
	acct := signup(t, s, "trouble@example.com", 1)
	key := acct.Keys[0]
	hc := newHTTPClient(1)
	ctx := context.Background()

	var acked, refused []string // product names
	post := func(name string) apiResult {
		r := callAPI(ctx, hc, http.MethodPost, s.URL+"/api/products", key, fmt.Sprintf(`{"name":%q,"price":1.5}`, name))
		switch r.Status {
		case http.StatusCreated:
			acked = append(acked, name)
		case http.StatusServiceUnavailable:
			var e struct{ Message, Code string }
			if err := json.Unmarshal([]byte(r.Body), &e); err != nil || e.Code != "unavailable" || e.Message == "" {
				t.Errorf("503 body %q is not {message, code: unavailable}", r.Body)
			}
			refused = append(refused, name)
		default:
			t.Fatalf("POST %q: %d %v %s", name, r.Status, r.Err, r.Body)
		}
		return r
	}
	for i := range 20 {
		if r := post(fmt.Sprintf("before %d", i)); r.Status != http.StatusCreated {
			t.Fatalf("before the disk filled: %d %s", r.Status, r.Body)
		}
	}

	provoke()
	// SQLite may still reuse space inside its WAL for a while; it fails once it needs a
	// new page.
	for i := 0; len(refused) < 20; i++ {
		if i == 5000 {
			t.Fatalf("5000 writes in trouble and only %d refused", len(refused))
		}
		post(fmt.Sprintf("in trouble %d", i))
	}
	firstRefused := len(acked)
	if r := callAPI(ctx, hc, http.MethodGet, s.URL+"/api/products?limit=5", key, ""); r.Status != http.StatusOK {
		t.Errorf("read in trouble: %d %s", r.Status, r.Body)
	}
	resp, body := acct.Client.Post("/dashboard/integrations/api/keys",
		url.Values{"name": {"made in trouble"}, "expires_in_days": {"0"}, "scopes": {"products:read"}}, "HX-Request: true")
	if resp.StatusCode != http.StatusServiceUnavailable || strings.Count(body, "unavailable") != 1 {
		t.Errorf("create key in trouble: %d, want 503 with one message\n%.300s", resp.StatusCode, body)
	}
	resp, body = s.app().NewClient(t).Post("/signup", url.Values{"email": {"new@example.com"}, "password": {"long enough password"}})
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("signup in trouble: %d, want 503\n%.300s", resp.StatusCode, body)
	}

	clear()
	recovered := false
	for deadline := time.Now().Add(10 * time.Second); !recovered && time.Now().Before(deadline); {
		recovered = post(fmt.Sprintf("after %d", len(acked))).Status == http.StatusCreated
	}
	if !recovered {
		t.Fatal("writes did not recover within 10 s of freeing space")
	}
	for i := range 20 {
		if r := post(fmt.Sprintf("recovered %d", i)); r.Status != http.StatusCreated {
			t.Fatalf("write %d after recovery: %d %s", i, r.Status, r.Body)
		}
	}
	if resp, body := acct.Client.Post("/dashboard/integrations/api/keys",
		url.Values{"name": {"made after"}, "expires_in_days": {"0"}, "scopes": {"products:read"}}, "HX-Request: true"); resp.StatusCode != http.StatusCreated {
		t.Errorf("create key after recovery: %d\n%.300s", resp.StatusCode, body)
	}
	if !strings.Contains(s.Stderr.String(), sqliteErr) {
		t.Errorf("the failed writes were not logged with %q", sqliteErr)
	}
	s.stop()

	db := openDB(t, s.DB)
	integrityCheck(t, db)
	for _, name := range acked {
		if count(t, db, "SELECT count(*) FROM products WHERE name = ?", name) != 1 {
			t.Errorf("acknowledged product %q missing", name)
		}
	}
	for _, name := range refused {
		if count(t, db, "SELECT count(*) FROM products WHERE name = ?", name) != 0 {
			t.Errorf("product %q was stored although its request got 503", name)
		}
	}
	if n := count(t, db, "SELECT count(*) FROM api_keys WHERE name = 'made in trouble'") +
		count(t, db, "SELECT count(*) FROM audit_events WHERE key_name = 'made in trouble'"); n != 0 {
		t.Errorf("the key refused with 503 left %d rows behind", n)
	}
	if n := count(t, db, "SELECT count(*) FROM users WHERE email = 'new@example.com'"); n != 0 {
		t.Errorf("the signup refused with 503 left a user behind")
	}
	t.Logf("%q: %d writes acknowledged (%d before the first refusal), %d refused with 503, all consistent", sqliteErr, len(acked), firstRefused, len(refused))
}
