package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"keyport/app"
	"keyport/testapp"
)

// startLogged runs keyport behind httptest with the logger `serve` builds for format.
func startLogged(t *testing.T, format string) *testapp.App {
	t.Helper()
	logs := &testapp.Logs{}
	logger, err := newLogger(logs, format)
	if err != nil {
		t.Fatal(err)
	}
	clock := testapp.NewClock(time.Now().UTC().Truncate(time.Second))
	cfg := app.Config{
		DBPath: testapp.MigratedDB(t, testapp.Assets(t).Migrations), Now: clock.Now, BcryptCost: bcrypt.MinCost,
		KeyRateLimit: app.DefaultKeyRateLimit,
	}
	a, err := app.Open(context.Background(), cfg, testapp.Assets(t), logger)
	if err != nil {
		t.Fatal(err)
	}
	// Handlers that fail the worst way, to see what a panic logs.
	a.Echo.GET("/api/boom", func(echo.Context) error { panic("boom in the API") })
	a.Echo.GET("/boom", func(echo.Context) error { panic("boom on a page") })
	srv := httptest.NewServer(a.Echo)
	t.Cleanup(func() {
		srv.Close()
		if err := a.Close(); err != nil {
			t.Errorf("close app: %v", err)
		}
	})
	return &testapp.App{App: a, URL: srv.URL, DBPath: cfg.DBPath, Clock: clock, Logs: logs, HTTP: srv}
}

func TestLogsCarryNoSecrets(t *testing.T) {
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			a := startLogged(t, format)
			c := a.Signup(t, "logs@example.com")
			key, id := c.CreateKey("logged")
			revoked, revokedID := c.CreateKey("revoked")
			c.Do(http.MethodDelete, "/dashboard/integrations/api/keys/"+revokedID, nil, "HX-Request: true")
			_, rollPage := c.Post("/dashboard/integrations/api/keys/"+id+"/roll", url.Values{"grace": {"1h"}}, "HX-Request: true")
			rolled := keyPattern.FindString(rollPage)
			if rolled == "" || rolled == key {
				t.Fatalf("roll showed no new key:\n%s", rollPage)
			}
			// Same length and alphabet as a key, wrong checksum: refused before any lookup.
			badKey := "kp_" + strings.Repeat("Zz9", 16) + "Q"
			wrongPassword := "not-the-password-" + format
			var session string
			for _, ck := range c.Jar.Cookies(mustURL(t, a.URL)) {
				if ck.Name == "keyport_session" {
					session = ck.Value
				}
			}
			if session == "" {
				t.Fatal("no session cookie after signup")
			}

			var ids []string
			send := func(want int, method, path, body string, headers ...string) {
				t.Helper()
				resp, got := a.Request(t, method, path, body, headers...)
				if resp.StatusCode != want {
					t.Fatalf("%s %s: status %d, want %d\n%s", method, path, resp.StatusCode, want, got)
				}
				ids = append(ids, resp.Header.Get("X-Request-Id"))
			}
			q := "?api_key=" + url.QueryEscape(key) + "&password=" + url.QueryEscape(testapp.Password)
			send(200, "GET", "/api/products", "", "x-api-key: "+key)
			send(200, "GET", "/api/products", "", "Authorization: Bearer "+key)
			send(401, "GET", "/api/products"+q, "")
			send(403, "GET", "/api/products", "", "x-api-key: "+badKey)
			send(403, "GET", "/api/products", "", "x-api-key: "+revoked)
			send(404, "GET", "/api/products/"+key, "", "x-api-key: "+key)
			send(404, "GET", "/api/nothing"+q, "", "x-api-key: "+badKey)
			send(400, "POST", "/api/products", `{"name":"`+key+`"}`, "x-api-key: "+key)
			send(500, "GET", "/api/boom"+q, "", "x-api-key: "+key, "Cookie: keyport_session="+session)
			send(500, "GET", "/boom"+q, "", "Cookie: keyport_session="+session)
			send(200, "GET", "/dashboard/integrations/api"+q, "", "Cookie: keyport_session="+session)

			// A database failure on a write, with the key in the request.
			a.SetReadOnly(t, true)
			send(503, "POST", "/api/products", `{"name":"w","price":1}`, "x-api-key: "+key)
			a.SetReadOnly(t, false)

			// Sign-ins that fail and one that works, with the passwords in the form.
			other := a.NewClient(t)
			other.Post("/login", url.Values{"email": {"logs@example.com"}, "password": {wrongPassword}})
			other.Post("/login", url.Values{"email": {"nobody@example.com"}, "password": {wrongPassword}})
			other.Post("/login", url.Values{"email": {"logs@example.com"}, "password": {testapp.Password}})
			other.Post("/signup", url.Values{"email": {"logs@example.com"}, "password": {wrongPassword}})

			logs := a.Logs.String()
			for name, secret := range map[string]string{
				"API key": key, "API key body": key[3:46], "rolled key": rolled, "revoked key": revoked, "malformed key": badKey,
				"password": testapp.Password, "wrong password": wrongPassword,
				"session token": session,
			} {
				if strings.Contains(logs, secret) {
					t.Errorf("the %s %q is in the log:\n%s", name, secret, logs)
				}
			}
			for _, s := range []string{"api_key=", "password="} {
				if strings.Contains(logs, s) {
					t.Errorf("a query string (%q) is in the log", s)
				}
			}

			lines := parseLines(t, format, logs)
			byID := map[string]map[string]string{}
			for _, l := range lines {
				if l["msg"] == "request" {
					byID[l["request_id"]] = l
				}
			}
			for _, id := range ids {
				if byID[id] == nil {
					t.Errorf("no request line with request_id %q", id)
				}
			}
			boom := byID[ids[8]]
			if boom["route"] != "/api/boom" || boom["status"] != "500" || boom["level"] != "ERROR" ||
				!strings.Contains(boom["error"], "panic: boom in the API") || !strings.Contains(boom["stack"], "goroutine") {
				t.Errorf("panic request line = %v", boom)
			}
			unavailable := byID[ids[len(ids)-1]]
			if unavailable["status"] != "503" || !regexp.MustCompile(`readonly|read-only`).MatchString(unavailable["error"]) {
				t.Errorf("503 request line = %v, want the database error", unavailable)
			}
			if got := byID[ids[6]]["route"]; got != "unmatched" {
				t.Errorf("unknown /api path logged as route %q, want unmatched", got)
			}
		})
	}
}

// parseLines reads log lines into flat string maps, each line as its handler wrote it.
func parseLines(t *testing.T, format, logs string) []map[string]string {
	t.Helper()
	var out []map[string]string
	for line := range strings.Lines(logs) {
		m := map[string]string{}
		if format == "json" {
			var raw map[string]any
			if err := json.Unmarshal([]byte(line), &raw); err != nil {
				t.Fatalf("log line is not JSON: %v\n%s", err, line)
			}
			for k, v := range raw {
				m[k] = fmt.Sprint(v)
			}
		} else {
			for _, f := range splitText(line) {
				k, v, _ := strings.Cut(f, "=")
				if uq, err := strconv.Unquote(v); err == nil {
					v = uq
				}
				m[k] = v
			}
		}
		out = append(out, m)
	}
	return out
}

var keyPattern = regexp.MustCompile(`kp_[0-9A-Za-z]{49}`)

// splitText splits a slog text line into key=value fields, keeping quoted values whole.
func splitText(line string) []string {
	var fields []string
	line = strings.TrimSpace(line)
	start, inQuote := 0, false
	for i := 0; i < len(line); i++ {
		switch c := line[i]; {
		case c == '\\' && inQuote:
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ' ' && !inQuote:
			fields = append(fields, line[start:i])
			start = i + 1
		}
	}
	return append(fields, line[start:])
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
