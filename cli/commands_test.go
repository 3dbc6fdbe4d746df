package cli_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyport/app"
	"keyport/cli"
	"keyport/database"
	"keyport/queries"
	"keyport/testapp"
)

// run calls cli.Main in-process with stdin and returns the exit code, stdout and stderr.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := cli.Main(context.Background(), args, cli.Env{
		Stdin: strings.NewReader(stdin), Stdout: &stdout, Stderr: &stderr,
		Getenv: func(string) string { return "" },
		Assets: testapp.Assets(t),
	})
	return code, stdout.String(), stderr.String()
}

// must runs a command that has to succeed.
func must(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	code, stdout, stderr := run(t, stdin, args...)
	if code != 0 {
		t.Fatalf("keyport %s: exit %d\nstderr: %s", strings.Join(args, " "), code, stderr)
	}
	return stdout
}

var keyLine = regexp.MustCompile(`^kp_[0-9A-Za-z]{49}\n$`)

type listed struct {
	ID, OrgID, Name, Hint, Status string
	Scopes                        []string
	CreatedAt                     time.Time
	ExpiresAt, RevokedAt          *time.Time
}

func listJSON(t *testing.T, args ...string) []listed {
	t.Helper()
	var keys []listed
	out := must(t, "", append([]string{"key", "list", "--json"}, args...)...)
	if err := json.Unmarshal([]byte(out), &keys); err != nil {
		t.Fatalf("key list --json: %v\n%s", err, out)
	}
	return keys
}

func TestUserAndKeyCreateBootstrapAWorkingKey(t *testing.T) {
	a := testapp.New(t)
	ids := must(t, "a long password\n", "user", "create", "--email", "Ops@Example.com", "--org", "Ops Inc", "-db", a.DBPath)
	if !regexp.MustCompile(`^usr_\w+ org_\w+\n$`).MatchString(ids) {
		t.Fatalf("user create printed %q, want \"USER_ID ORG_ID\"", ids)
	}
	orgID := strings.Fields(ids)[1]

	code, stdout, stderr := run(t, "", "key", "create", "--email", "ops@example.com", "--name", "ci", "-db", a.DBPath)
	if code != 0 || !keyLine.MatchString(stdout) || stderr != "" {
		t.Fatalf("key create: exit %d, stdout %q (want the key alone), stderr %q", code, stdout, stderr)
	}
	key := strings.TrimSpace(stdout)
	awaitKey(t, a, key)
	if resp, body := a.API(t, "POST", "/api/products", key, `{"name":"Widget","price":1}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/products with the CLI's key: %d\n%s", resp.StatusCode, body)
	}

	readOnly := strings.TrimSpace(must(t, "", "key", "create", "--email", "ops@example.com", "--name", "reader",
		"--scopes", "products:read", "--expires-in", "30d", "-db", a.DBPath))
	awaitKey(t, a, readOnly)
	if resp, body := a.API(t, "POST", "/api/products", readOnly, `{"name":"Widget","price":1}`); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "insufficient_scope") {
		t.Fatalf("POST with a products:read key: %d %s, want 403 insufficient_scope", resp.StatusCode, body)
	}
	keys := listJSON(t, "--org", orgID, "-db", a.DBPath)
	if len(keys) != 2 {
		t.Fatalf("key list --org: %d keys, want 2: %+v", len(keys), keys)
	}
	reader := keys[0] // newest first
	if got, want := reader.ExpiresAt.Sub(reader.CreatedAt), 30*24*time.Hour; got != want {
		t.Errorf("--expires-in 30d: expires %v after creation, want %v", got, want)
	}
	if got, want := strings.Join(reader.Scopes, " "), "products:read"; got != want {
		t.Errorf("scopes = %q, want %q", got, want)
	}

	// The user can sign in to the dashboard with the password from stdin.
	resp, _ := a.NewClient(t).Post("/login", url.Values{"email": {"ops@example.com"}, "password": {"a long password"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login with the CLI user's password: status %d, want 303", resp.StatusCode)
	}

	// The signup, both keys and the sign-in are in the audit log, as from the dashboard.
	db, err := database.Open(context.Background(), a.DBPath, testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	events, err := queries.New(db.Read).ListAuditEvents(context.Background(), queries.ListAuditEventsParams{
		OrgID: sqlNull(orgID), Before: 1 << 62, Limit: 10,
	})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range events {
		actions = append(actions, e.Action+":"+e.ActorEmail)
	}
	if got, want := strings.Join(actions, " "), "login:ops@example.com key_created:ops@example.com key_created:ops@example.com signup:ops@example.com"; got != want {
		t.Errorf("audit log = %s, want %s", got, want)
	}
}

func TestKeyListShowsKeysButNeverTheKey(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "one@example.com")
	key, id := c.CreateKey("dashboard key")
	a.Signup(t, "two@example.com").CreateKey("other org")
	must(t, "", "key", "revoke", id, "-db", a.DBPath)

	table := must(t, "", "key", "list", "-db", a.DBPath)
	for _, want := range []string{"ID", "LAST USED", id, "dashboard key", key[:7] + "…" + key[len(key)-4:], "revoked", "other org"} {
		if !strings.Contains(table, want) {
			t.Errorf("key list does not show %q:\n%s", want, table)
		}
	}
	mine := listJSON(t, "--email", "one@example.com", "-db", a.DBPath)
	if len(mine) != 1 || mine[0].ID != id || mine[0].Status != "revoked" || mine[0].RevokedAt == nil {
		t.Errorf("key list --email one@example.com = %+v, want only %s, revoked", mine, id)
	}
	all := must(t, "", "key", "list", "--json", "-db", a.DBPath)
	if strings.Contains(table+all, key) || strings.Contains(table+all, key[10:30]) {
		t.Errorf("key list printed the key itself")
	}
}

// awaitKey waits until a running server accepts a key the CLI stored: it learns of keys
// stored by another process when it notices the database change, within 1 s as for a
// revocation (docs/PERFORMANCE.md, the key filter).
func awaitKey(t *testing.T, a *testapp.App, key string) {
	t.Helper()
	created := time.Now()
	for {
		resp, body := a.API(t, "GET", "/api/products", key, "")
		if resp.StatusCode == http.StatusOK {
			return
		}
		if time.Since(created) > time.Second {
			t.Fatalf("key from the CLI still %d %s more than 1 s after `key create`", resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond) // polling a real background watcher
	}
}

func TestKeyRevokeStopsARunningServerWithinASecond(t *testing.T) {
	// The production watch interval (200 ms), not the test harness's faster one.
	a := testapp.New(t, func(c *app.Config) { c.WatchInterval = 0 })
	key, id := a.Signup(t, "revoke@example.com").CreateKey("doomed")
	// Cached as valid by the server before the revocation.
	if resp, _ := a.API(t, "GET", "/api/products", key, ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("before revoke: status %d", resp.StatusCode)
	}

	if got, want := must(t, "", "key", "revoke", id, "-db", a.DBPath), "revoked "+id+"\n"; got != want {
		t.Errorf("key revoke printed %q, want %q", got, want)
	}
	revoked := time.Now()
	for {
		resp, body := a.API(t, "GET", "/api/products", key, "")
		if resp.StatusCode == http.StatusForbidden && strings.Contains(body, `"api_key_revoked"`) {
			t.Logf("refused %v after the CLI returned", time.Since(revoked).Round(time.Millisecond))
			break
		}
		if time.Since(revoked) > time.Second {
			t.Fatalf("still %d %s more than 1 s after `key revoke`", resp.StatusCode, body)
		}
		time.Sleep(10 * time.Millisecond) // polling a real background watcher
	}
	if got, want := must(t, "", "key", "revoke", id, "-db", a.DBPath), id+" was already revoked\n"; got != want {
		t.Errorf("second revoke printed %q, want %q", got, want)
	}
}

func TestCommandErrors(t *testing.T) {
	a := testapp.New(t)
	a.Signup(t, "taken@example.com")
	missing := filepath.Join(t.TempDir(), "missing.db")
	tests := []struct {
		name   string
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"unknown command", "", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", "", []string{"key", "list", "--nope", "-db", a.DBPath}, 2, "flag provided but not defined: -nope"},
		{"create without email", "", []string{"key", "create", "--name", "x", "-db", a.DBPath}, 2, "--email: Enter a valid email address."},
		{"create without name", "", []string{"key", "create", "--email", "taken@example.com", "-db", a.DBPath}, 2, "--name: Name is required."},
		{"reserved scope", "", []string{"key", "create", "--email", "taken@example.com", "--name", "x", "--scopes", "products:admin", "-db", a.DBPath}, 2, "--scopes: “products:admin” is reserved"},
		{"invalid scope", "", []string{"key", "create", "--email", "taken@example.com", "--name", "x", "--scopes", "Admin", "-db", a.DBPath}, 2, "--scopes: “Admin” is not a valid scope"},
		{"bad expiry", "", []string{"key", "create", "--email", "taken@example.com", "--name", "x", "--expires-in", "soon", "-db", a.DBPath}, 2, "--expires-in"},
		{"negative expiry", "", []string{"key", "create", "--email", "taken@example.com", "--name", "x", "--expires-in", "-1d", "-db", a.DBPath}, 2, "must be positive"},
		{"unknown user", "", []string{"key", "create", "--email", "nobody@example.com", "--name", "x", "-db", a.DBPath}, 1, "no user with email nobody@example.com"},
		{"missing database", "", []string{"key", "list", "-db", missing}, 1, "missing.db does not exist"},
		{"revoke without id", "", []string{"key", "revoke", "-db", a.DBPath}, 2, "give exactly one key id"},
		{"revoke unknown id", "", []string{"key", "revoke", "key_nope", "-db", a.DBPath}, 1, `no API key with id "key_nope"`},
		{"list with both filters", "", []string{"key", "list", "--email", "a@b.co", "--org", "org_x", "-db", a.DBPath}, 2, "not both"},
		{"user without password", "", []string{"user", "create", "--email", "new@example.com", "-db", a.DBPath}, 1, "no password on stdin"},
		{"short password", "short\n", []string{"user", "create", "--email", "new@example.com", "-db", a.DBPath}, 1, "Password must be 8 to 72 bytes long."},
		{"taken email", "long enough\n", []string{"user", "create", "--email", "Taken@example.com", "-db", a.DBPath}, 1, "a user with email taken@example.com already exists"},
		{"serve with an argument", "", []string{"serve", "extra"}, 2, `unexpected argument "extra"`},
		{"unknown key subcommand", "", []string{"key", "frob"}, 2, "Usage: keyport key COMMAND"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, tt.stdin, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr: %s", code, tt.code, stderr)
			}
			if !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr, tt.stderr)
			}
			if stdout != "" {
				t.Errorf("stdout = %q, want nothing on failure", stdout)
			}
		})
	}
	if _, err := os.Stat(missing); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("key list -db %s created the file (stat: %v)", missing, err)
	}
}

func TestHelpAndVersion(t *testing.T) {
	help := must(t, "", "--help")
	for _, cmd := range []string{"serve", "user create", "key create", "key list", "key revoke", "version"} {
		if !strings.Contains(help, "\n  "+cmd+" ") {
			t.Errorf("--help does not list %q:\n%s", cmd, help)
		}
	}
	code, _, stderr := run(t, "", "key", "create", "-h")
	if code != 0 || !strings.Contains(stderr, "Usage: keyport key create --email E --name N") || !strings.Contains(stderr, "-expires-in") {
		t.Errorf("key create -h: exit %d\n%s", code, stderr)
	}
	for _, args := range [][]string{{"key"}, {"key", "-h"}} {
		out := must(t, "", args...)
		for _, cmd := range []string{"key create", "key list", "key revoke"} {
			if !strings.Contains(out, "\n  "+cmd+" ") {
				t.Errorf("keyport %s does not list %q:\n%s", strings.Join(args, " "), cmd, out)
			}
		}
		if strings.Contains(out, "user create") {
			t.Errorf("keyport %s lists commands outside the group:\n%s", strings.Join(args, " "), out)
		}
	}
	if v := must(t, "", "version"); !regexp.MustCompile(`^keyport \S+ revision \S+( \(modified\))? go1\.\d+`).MatchString(v) {
		t.Errorf("version printed %q", v)
	}
}

func TestServeOnAPortInUseSaysWhatToDo(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	db := filepath.Join(t.TempDir(), "keyport.db")
	code, _, stderr := run(t, "", "serve", "-addr", ln.Addr().String(), "-db", db)
	if code != 1 || !strings.Contains(stderr, "address already in use") || !strings.Contains(stderr, "-addr 127.0.0.1:PORT") {
		t.Errorf("exit %d, stderr %q: want exit 1, the error and the -addr hint", code, stderr)
	}
}

func sqlNull(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }
