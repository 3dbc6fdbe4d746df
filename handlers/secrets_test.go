package handlers_test

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"keyport/testapp"
)

// The full key lives only in the create response: not in the database file (WAL and
// shared-memory files included, before and after close), and not in the logs, even when
// a client puts it in a URL. Passwords and session tokens never reach the logs either.
func TestSecretsStayOut(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	const password = "pw-Unique-7f3a9c"
	const wrongPassword = "wrong-Unique-1b2e4d"
	var sessions []string

	c := a.NewClient(t)
	resp, body := c.Post("/signup", url.Values{"email": {"secret@example.com"}, "password": {password}})
	checkRedirect(t, resp, body, dashboard)
	sessions = append(sessions, cookie(resp, sessionCookie))
	login(a.NewClient(t), "secret@example.com", wrongPassword)
	login(a.NewClient(t), "nobody@example.com", password)

	var keys []string
	for _, name := range []string{"used", "revoked", "plain form"} {
		k, _ := c.CreateKey(name)
		keys = append(keys, k)
	}
	_, revokedID := c.CreateKey("revoked later")
	resp, body = c.Post(dashboard+"/keys", url.Values{"name": {"no js"}, "scopes": {"products:read", "products:write"}})
	if k := keyRE.FindString(body); resp.StatusCode != http.StatusCreated || k == "" {
		t.Fatalf("plain create: %d", resp.StatusCode)
	} else {
		keys = append(keys, k)
	}

	for _, key := range keys {
		for _, r := range []struct {
			method, path, body string
			headers            []string
		}{
			{"POST", "/api/products", `{"name":"w","price":1}`, []string{"x-api-key: " + key}},
			{"GET", "/api/products", "", []string{"Authorization: Bearer " + key}},
			{"POST", "/api/products", `{"name":`, []string{"x-api-key: " + key}},
			{"GET", "/api/products?api_key=" + key, "", nil},
			{"GET", "/api/products?limit=500&api_key=" + key, "", []string{"x-api-key: " + key}},
			{"GET", "/api/nope?api_key=" + key, "", nil},
			{"DELETE", "/api/products?api_key=" + key, "", nil},
			{"GET", "/api/products/" + key, "", []string{"x-api-key: " + key}},
			{"GET", "/api/products", "", []string{"x-api-key: " + key + "x"}},
			{"GET", "/api/products", "", []string{"x-api-key: " + breakChecksum(key)}},
			{"GET", "/healthz?api_key=" + key, "", nil},
			{"GET", "/nope/" + key, "", nil},
		} {
			a.Request(t, r.method, r.path, r.body, r.headers...)
		}
		c.Get(dashboard + "?api_key=" + key)
	}
	c.Do(http.MethodDelete, dashboard+"/keys/"+revokedID, nil, "HX-Request: true")
	resp, _ = c.Post("/logout", nil)
	sessions = append(sessions, cookie(resp, sessionCookie))
	resp, _ = login(c, "secret@example.com", password)
	sessions = append(sessions, cookie(resp, sessionCookie))
	for _, key := range keys {
		a.Request(t, http.MethodGet, "/api/products?api_key="+key, "", "x-api-key: "+key)
	}
	if resp, _ := c.Get(dashboard); resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}

	secrets := map[string]string{"password": password, "wrong password": wrongPassword}
	for _, k := range keys {
		secrets["key "+k[:7]] = k
		secrets["body of key "+k[:7]] = k[3:46]
	}
	for i, s := range sessions {
		if s == "" {
			t.Fatalf("session cookie %d missing", i)
		}
		secrets["session token "+s[:4]] = s
	}

	logs := a.Logs.String()
	if strings.Count(logs, "\n") < 50 {
		t.Fatalf("expected the request lines in the captured logs, got:\n%s", logs)
	}
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the logs contain the %s", name)
		}
	}

	scan := func(when string) {
		t.Helper()
		if testapp.Postgres() {
			return // SQLite only: this reads the database's files
		}
		var all []byte
		for _, suffix := range []string{"", "-wal", "-shm"} {
			b, err := os.ReadFile(a.DBPath + suffix)
			if os.IsNotExist(err) && suffix != "" {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, b...)
			for name, k := range secrets {
				if strings.HasPrefix(name, "key") || strings.HasPrefix(name, "body") {
					if bytes.Contains(b, []byte(k)) {
						t.Errorf("%s: keyport.db%s contains the %s", when, suffix, name)
					}
				}
			}
		}
		// The scan must be able to see what is stored: every hint is there.
		for _, k := range keys {
			if !bytes.Contains(all, []byte(k[:7])) {
				t.Errorf("%s: the hint %s… is not in the database files; is the scan reading them?", when, k[:7])
			}
		}
	}
	scan("while running")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	scan("after close")
}
