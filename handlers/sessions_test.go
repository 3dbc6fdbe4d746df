package handlers_test

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"

	"keyport/sessionstore"
	"keyport/testapp"
)

// signIn signs a new client in to email and returns it with its session token.
func signIn(t *testing.T, a *testapp.App, email string) (*testapp.Client, string) {
	t.Helper()
	c := a.NewClient(t)
	resp, body := login(c, email, testapp.Password)
	checkRedirect(t, resp, body, dashboard)
	token := cookie(resp, sessionCookie)
	if token == "" {
		t.Fatal("sign-in set no session cookie")
	}
	return c, token
}

// withToken requests path with only the session cookie token.
func withToken(t *testing.T, a *testapp.App, token, path string) *http.Response {
	t.Helper()
	resp, _ := a.Request(t, http.MethodGet, path, "", "Cookie: "+sessionCookie+"="+token)
	return resp
}

func checkSignedOut(t *testing.T, a *testapp.App, token, what string) {
	t.Helper()
	resp := withToken(t, a, token, dashboard)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("%s: the old session still works (status %d, Location %q)", what, resp.StatusCode, resp.Header.Get("Location"))
	}
}

// pollAcross keeps six clients requesting the dashboard with token while end runs, and
// for a few requests after it returned, so some requests load the session before the
// end and write it back after.
func pollAcross(t *testing.T, a *testapp.App, token string, end func()) {
	t.Helper()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	started := make(chan struct{}, 6)
	for range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					if i > 3 {
						return
					}
				default:
				}
				if i == 1 {
					started <- struct{}{}
				}
				req, _ := http.NewRequest(http.MethodGet, a.URL+dashboard, nil)
				req.Header.Set("Cookie", sessionCookie+"="+token)
				resp, err := http.DefaultTransport.RoundTrip(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			}
		})
	}
	for range 6 {
		<-started
	}
	end()
	close(stop)
	wg.Wait()
}

// Finding 2: a request that loaded the session before sign-out wrote it back after, and
// the old cookie stayed valid (6 of 15 runs). Pollers keep using the cookie across the
// end of the session: sign-out, sign out everywhere, a password change elsewhere.
func TestSessionsEndForGoodWhileInUse(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.Signup(t, "poll@example.com")
	for round := range 5 {
		c, token := signIn(t, a, "poll@example.com")
		pollAcross(t, a, token, func() {
			resp, body := c.Post("/logout", nil)
			checkRedirect(t, resp, body, "/login")
		})
		checkSignedOut(t, a, token, fmt.Sprintf("logout, round %d", round))

		c, token = signIn(t, a, "poll@example.com")
		_, other := signIn(t, a, "poll@example.com")
		pollAcross(t, a, other, func() {
			resp, body := c.Post("/dashboard/account/sign-out-everywhere", nil)
			checkRedirect(t, resp, body, "/login")
		})
		checkSignedOut(t, a, token, fmt.Sprintf("sign out everywhere, this session, round %d", round))
		checkSignedOut(t, a, other, fmt.Sprintf("sign out everywhere, another session, round %d", round))

		c, _ = signIn(t, a, "poll@example.com")
		_, other = signIn(t, a, "poll@example.com")
		pollAcross(t, a, other, func() {
			resp, body := c.Post("/dashboard/account/password", url.Values{
				"current_password": {testapp.Password}, "new_password": {"interim passphrase 1"},
			})
			checkRedirect(t, resp, body, "/dashboard/account")
			resp, body = c.Post("/dashboard/account/password", url.Values{
				"current_password": {"interim passphrase 1"}, "new_password": {testapp.Password},
			})
			checkRedirect(t, resp, body, "/dashboard/account")
		})
		checkSignedOut(t, a, other, fmt.Sprintf("password change, another session, round %d", round))
		if t.Failed() {
			return
		}
	}
}

// A second browser's session survives this one signing out.
func TestLogoutLeavesOtherSessions(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.Signup(t, "two@example.com")
	c1, t1 := signIn(t, a, "two@example.com")
	_, t2 := signIn(t, a, "two@example.com")
	c1.Post("/logout", url.Values{})
	checkSignedOut(t, a, t1, "after logout")
	if resp := withToken(t, a, t2, dashboard); resp.StatusCode != http.StatusOK {
		t.Errorf("the other browser's session: status %d, want 200", resp.StatusCode)
	}
}

// Finding 5: the database held session tokens in plain text. A copy of the file and its
// WAL must not hold a token that signs in.
func TestSessionTokenNotInDatabaseFile(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.Signup(t, "stored@example.com")
	_, token := signIn(t, a, "stored@example.com")
	if resp := withToken(t, a, token, dashboard); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session does not work: %d", resp.StatusCode)
	}
	if testapp.Postgres() {
		// No file to read: ask the sessions table for each form of the token.
		stored := func(tok string) bool {
			var n int
			if err := a.DB.Read.QueryRow("SELECT count(*) FROM sessions WHERE token = ?", tok).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n > 0
		}
		if stored(token) || !stored(sessionstore.Key(token)) {
			t.Errorf("sessions table: plain token stored %v, hash stored %v; want false, true", stored(token), stored(sessionstore.Key(token)))
		}
		return
	}
	var files []byte
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(a.DBPath + suffix)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		files = append(files, b...)
	}
	if bytes.Contains(files, []byte(token)) {
		t.Error("the session token is in the database file or its WAL")
	}
	if !bytes.Contains(files, []byte(sessionstore.Key(token))) {
		t.Error("the token's hash is not in the database either: is the session stored at all?")
	}
}
