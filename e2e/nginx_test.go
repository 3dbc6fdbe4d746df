package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport/app"
	"keyport/testapp"
)

const nginxBinary = "/usr/sbin/nginx"

// documentedNginxConfig is the nginx block of docs/INTEGRATIONS.md, exactly as a reader
// copies it.
func documentedNginxConfig(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join(testapp.Root(t), "docs", "INTEGRATIONS.md"))
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```nginx\n(.*?)```").FindAllSubmatch(doc, -1)
	if len(blocks) != 1 {
		t.Fatalf("docs/INTEGRATIONS.md has %d nginx blocks, want 1", len(blocks))
	}
	return string(blocks[0][1])
}

// upstream is the service behind nginx: it records every request that reaches it.
type upstream struct {
	mu   sync.Mutex
	seen []*http.Request
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	u.seen = append(u.seen, r.Clone(context.Background()))
	u.mu.Unlock()
	fmt.Fprint(w, "hello from the app")
}

func (u *upstream) requests() []*http.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.seen)
}

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startNginx runs nginx in the foreground with the documented configuration in a temp
// prefix, and waits until it accepts connections on its port.
func startNginx(t *testing.T, site string) string {
	t.Helper()
	dir := t.TempDir()
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log %[1]s/access.log;
    client_body_temp_path %[1]s/client_body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/keyport.conf;
}
`, dir)
	port := freePort(t)
	site = replaceOnce(t, site, "listen 8000;", fmt.Sprintf("listen 127.0.0.1:%d;", port))
	for name, content := range map[string]string{"nginx.conf": conf, "keyport.conf": site} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(nginxBinary, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx error.log:\n%s", log)
		}
	})
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx exited: %v\n%s\n%s", err, out.String(), log)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s within 10 s", addr)
		}
		time.Sleep(20 * time.Millisecond) // polling a starting process, not waiting for time
	}
}

func replaceOnce(t *testing.T, s, old, new string) string {
	t.Helper()
	if n := strings.Count(s, old); n != 1 {
		t.Fatalf("the documented nginx configuration has %q %d times, want once", old, n)
	}
	return strings.Replace(s, old, new, 1)
}

// TestNginxForwardAuth runs the nginx configuration of docs/INTEGRATIONS.md, as written
// but for its addresses, port and root key, in front of a test upstream: good keys reach
// it with their identity, and every refused one gets keyport's answer without reaching it.
func TestNginxForwardAuth(t *testing.T) {
	if _, err := os.Stat(nginxBinary); err != nil {
		if os.Getenv("KEYPORT_REQUIRE_NGINX") == "1" {
			t.Fatalf("nginx is required (KEYPORT_REQUIRE_NGINX=1): %v", err)
		}
		t.Skipf("no nginx at %s (apt-get install nginx)", nginxBinary)
	}
	const limit = 3
	a := testapp.New(t, func(c *app.Config) { c.KeyRateLimit = limit })
	c := a.Signup(t, "nginx@example.com")
	root, _ := c.CreateKey("nginx", testapp.KeyOptions{Scopes: []string{"keys:verify"}})
	good, goodID := c.CreateKey("Café checkout", testapp.KeyOptions{Scopes: []string{"products:read", "billing:read"}})
	bearer, bearerID := c.CreateKey("bearer", testapp.KeyOptions{Scopes: []string{"products:read"}})
	writer, _ := c.CreateKey("writer", testapp.KeyOptions{Scopes: []string{"products:write"}})
	revoked, revokedID := c.CreateKey("revoked")
	c.Do(http.MethodDelete, "/dashboard/integrations/api/keys/"+revokedID, nil, "HX-Request: true")
	limited, _ := c.CreateKey("limited", testapp.KeyOptions{Scopes: []string{"products:read"}})

	app := &upstream{}
	appSrv := httptest.NewServer(app)
	t.Cleanup(appSrv.Close)

	site := documentedNginxConfig(t)
	site = replaceOnce(t, site, "server 127.0.0.1:8080;", "server "+strings.TrimPrefix(a.URL, "http://")+";")
	site = replaceOnce(t, site, "server 127.0.0.1:9000;", "server "+strings.TrimPrefix(appSrv.URL, "http://")+";")
	site = replaceOnce(t, site, `"kp_REPLACE_WITH_YOUR_ROOT_KEY"`, `"`+root+`"`)
	proxy := startNginx(t, site)

	send := func(t *testing.T, method, path, body string, headers ...string) (*http.Response, string) {
		t.Helper()
		return testapp.Request(t, method, proxy+path, body, headers...)
	}

	orgID := func(keyID string) string {
		k, err := a.Server.Read.GetAPIKeyByID(t.Context(), keyID)
		if err != nil {
			t.Fatal(err)
		}
		return k.OrgID
	}

	t.Run("good keys reach the upstream with their identity", func(t *testing.T) {
		for _, tt := range []struct {
			method, body, header, id, name, scopes string
		}{
			{http.MethodGet, "", "x-api-key: " + good, goodID, "Caf%C3%A9 checkout", "products:read billing:read"},
			{http.MethodPost, `{"order":1}`, "Authorization: Bearer " + bearer, bearerID, "bearer", "products:read"},
		} {
			before := len(app.requests())
			resp, body := send(t, tt.method, "/orders?page=2", tt.body, tt.header, "X-Keyport-Key-Id: key_forged")
			if resp.StatusCode != http.StatusOK || body != "hello from the app" {
				t.Fatalf("%s: %d %s", tt.method, resp.StatusCode, body)
			}
			if got := resp.Header.Get("RateLimit-Limit"); got != fmt.Sprint(limit) {
				t.Errorf("%s: RateLimit-Limit = %q, want %d", tt.method, got, limit)
			}
			reqs := app.requests()
			if len(reqs) != before+1 {
				t.Fatalf("%s: the upstream saw %d requests, want 1", tt.method, len(reqs)-before)
			}
			r := reqs[len(reqs)-1]
			if r.Method != tt.method || r.URL.String() != "/orders?page=2" {
				t.Errorf("upstream got %s %s", r.Method, r.URL)
			}
			want := map[string]string{
				"X-Keyport-Key-Id": tt.id, "X-Keyport-Key-Name": tt.name, "X-Keyport-Org-Id": orgID(tt.id),
				"X-Keyport-Scopes": tt.scopes, "X-Api-Key": "", "Authorization": "", "X-Keyport-Root-Key": "",
			}
			for h, v := range want {
				if got := r.Header.Get(h); got != v {
					t.Errorf("%s: upstream's %s = %q, want %q", tt.method, h, got, v)
				}
			}
		}
	})

	refusals := []struct {
		name   string
		header string
		status int
		code   string
	}{
		{"no key", "", http.StatusUnauthorized, "api_key_required"},
		{"an unknown key", "x-api-key: kp_" + strings.Repeat("0", 49), http.StatusForbidden, "invalid_api_key"},
		{"a revoked key", "x-api-key: " + revoked, http.StatusForbidden, "api_key_revoked"},
		{"a key without the scope", "x-api-key: " + writer, http.StatusForbidden, "insufficient_scope"},
		{"a key over its rate limit", "x-api-key: " + limited, http.StatusTooManyRequests, "rate_limited"},
	}
	for _, tt := range refusals {
		t.Run(tt.name+" never reaches the upstream", func(t *testing.T) {
			if tt.code == "rate_limited" {
				for range limit {
					if resp, body := send(t, http.MethodGet, "/", "", tt.header); resp.StatusCode != http.StatusOK {
						t.Fatalf("within the limit: %d %s", resp.StatusCode, body)
					}
				}
			}
			before := len(app.requests())
			resp, body := send(t, http.MethodGet, "/orders", "", tt.header, "X-Keyport-Key-Id: key_forged")
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			var e struct{ Message, Code string }
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Code != tt.code || e.Message == "" {
				t.Errorf("body %q, want keyport's JSON error %s", body, tt.code)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.code == "rate_limited" && resp.Header.Get("Retry-After") == "" {
				t.Error("429 without Retry-After")
			}
			if n := len(app.requests()) - before; n != 0 {
				t.Errorf("the upstream saw %d requests", n)
			}
		})
	}

	t.Run("keyport down", func(t *testing.T) {
		before := len(app.requests())
		a.HTTP.Close()
		resp, body := send(t, http.MethodGet, "/orders", "", "x-api-key: "+good)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"unavailable"`) {
			t.Errorf("%d %s, want 503 unavailable", resp.StatusCode, body)
		}
		if n := len(app.requests()) - before; n != 0 {
			t.Errorf("the upstream saw %d requests", n)
		}
	})
}
