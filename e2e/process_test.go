// Package e2e tests the real keyport binary as a child process: load, crashes, shutdown,
// revocation races, bad input, database trouble and backups. See docs/RELIABILITY.md.
package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"keyport/database"
	"keyport/migrations"
	"keyport/testapp"
)

var (
	buildOnce sync.Once
	buildDir  string
	buildPath string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// binary builds keyport from the repository once per test process (lazily, so fuzz
// workers that never start the binary do not build it).
func binary(t testing.TB) string {
	t.Helper()
	root := testapp.Root(t)
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "keyport-e2e-")
		if buildErr != nil {
			return
		}
		buildPath = filepath.Join(buildDir, "keyport")
		cmd := exec.Command("go", "build", "-o", buildPath, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildPath
}

// server is one run of the keyport binary.
type server struct {
	t      testing.TB
	cmd    *exec.Cmd
	URL    string
	Addr   string
	DB     string
	Stderr *testapp.Logs
	done   chan struct{}
	err    error // cmd.Wait's result, set before done closes
}

var listenRE = regexp.MustCompile(`msg="keyport listening" addr=(\S+)`)

// start runs `keyport serve -addr 127.0.0.1:0 -db dbPath` and waits until it listens.
// The process is killed at the end of the test if it is still running.
func start(t testing.TB, dbPath string, extra ...string) *server {
	t.Helper()
	args := append([]string{"serve", "-addr", "127.0.0.1:0", "-db", dbPath}, extra...)
	cmd := exec.Command(binary(t), args...)
	// These tests send far more than a minute's worth of requests per key; the rate
	// limit is tested on its own. The variable is harmless where the flag is unknown.
	cmd.Env = append(os.Environ(), "KEYPORT_LOG_FORMAT=text", "KEYPORT_KEY_RATE_LIMIT=0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, DB: dbPath, Stderr: &testapp.Logs{}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			s.Stderr.Write([]byte(line + "\n"))
			if m := listenRE.FindStringSubmatch(line); m != nil {
				select {
				case addrc <- m[1]:
				default:
				}
			}
		}
		io.Copy(s.Stderr, stderr)
		s.err = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			cmd.Process.Kill()
			<-s.done
		}
	})
	select {
	case s.Addr = <-addrc:
	case <-s.done:
		t.Fatalf("keyport exited before listening: %v\n%s", s.err, s.Stderr)
	case <-time.After(60 * time.Second):
		t.Fatalf("keyport did not listen within 60 s\n%s", s.Stderr)
	}
	s.URL = "http://" + s.Addr
	return s
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		s.t.Fatal(err)
	}
	<-s.done
}

// wait waits for the process to exit by itself and returns cmd.Wait's error.
func (s *server) wait(timeout time.Duration) error {
	s.t.Helper()
	select {
	case <-s.done:
		return s.err
	case <-time.After(timeout):
		s.t.Fatalf("keyport still running after %v\n%s", timeout, s.Stderr)
		return nil
	}
}

// stop sends SIGTERM and requires a clean exit.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	if err := s.wait(30 * time.Second); err != nil {
		s.t.Fatalf("keyport exited with %v after SIGTERM\n%s", err, s.Stderr)
	}
}

// app gives the testapp client helpers (Signup, CreateKey, API) for the running binary.
func (s *server) app() *testapp.App { return &testapp.App{URL: s.URL} }

// account is a signed-up member with keys, usable across restarts of the binary (the
// cookie jar and the keys live in the test).
type account struct {
	Email  string
	Client *testapp.Client
	Keys   []string
	KeyIDs []string
}

func signup(t testing.TB, s *server, email string, keys int) *account {
	t.Helper()
	a := &account{Email: email, Client: s.app().Signup(t, email)}
	for i := range keys {
		k, id := a.Client.CreateKey("e2e key " + strconv.Itoa(i))
		a.Keys, a.KeyIDs = append(a.Keys, k), append(a.KeyIDs, id)
	}
	return a
}

// retarget points a client saved from an earlier run at a restarted binary, which
// listens on a new port. Cookies are per host, not per port, so the jar carries over.
func (a *account) retarget(t testing.TB, s *server) {
	t.Helper()
	fresh := s.app().NewClient(t)
	fresh.Jar = a.Client.Jar
	a.Client = fresh
}

// newHTTPClient is a client sized for many concurrent requests to one host.
func newHTTPClient(conns int) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns
	tr.MaxConnsPerHost = conns
	return &http.Client{
		Transport:     tr,
		Timeout:       60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// apiResult is one API call's outcome.
type apiResult struct {
	Status int
	Body   string
	Err    error
}

func callAPI(ctx context.Context, hc *http.Client, method, url, key, body string) apiResult {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return apiResult{Err: err}
	}
	req.Header.Set("x-api-key", key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		return apiResult{Err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return apiResult{Status: resp.StatusCode, Body: string(b), Err: err}
}

// openDB opens the database the binary used, to check what it left behind: the SQLite
// file the way an operator's sqlite3 shell would, or the PostgreSQL database through
// package database (whose driver rebinds the ? placeholders of these tests' queries).
func openDB(t testing.TB, path string) *sql.DB {
	t.Helper()
	if database.EngineOf(path) == database.Postgres {
		db, err := database.Open(context.Background(), path, migrations.All())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db.Write
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// integrityCheck runs SQLite's PRAGMA integrity_check; PostgreSQL has no equivalent a
// client can run, and keyport's process dying cannot corrupt its files anyway.
func integrityCheck(t testing.TB, db *sql.DB) {
	t.Helper()
	if testapp.Postgres() {
		return
	}
	var res string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&res); err != nil {
		t.Fatal(err)
	}
	if got, want := res, "ok"; got != want {
		t.Fatalf("integrity_check = %q, want %q", got, want)
	}
}

func count(t testing.TB, db *sql.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// productIDs returns every product id in the database.
func productIDs(t testing.TB, db *sql.DB) map[string]bool {
	t.Helper()
	rows, err := db.Query("SELECT id FROM products")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// envInt reads a test size from the environment (the long versions of these tests).
func envInt(t testing.TB, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
