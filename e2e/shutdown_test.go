package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"keyport/testapp"
)

// slowRequest is a request whose body the test holds back, so the server is inside the
// handler (reading the body) until the test lets it finish.
type slowRequest struct {
	conn net.Conn
	rest string
}

func startSlow(t *testing.T, addr, method, path, key, body string) *slowRequest {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: %s\r\nx-api-key: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n",
		method, path, addr, key, len(body))
	half := len(body) / 2
	if _, err := io.WriteString(conn, head+body[:half]); err != nil {
		t.Fatal(err)
	}
	return &slowRequest{conn: conn, rest: body[half:]}
}

func (r *slowRequest) finish() (*http.Response, string, error) {
	if _, err := io.WriteString(r.conn, r.rest); err != nil {
		return nil, "", err
	}
	r.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(r.conn), nil)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

// TestGracefulShutdown: on SIGTERM the binary stops accepting connections, lets the
// requests already in flight finish with their normal answers, and exits 0 with their
// writes in the database.
func TestGracefulShutdown(t *testing.T) {
	s := start(t, testapp.MigratedDB(t, testapp.Assets(t).Migrations))
	acct := signup(t, s, "shutdown@example.com", 1)
	key := acct.Keys[0]

	// The first use of the key is written by the periodic flush; later uses within a
	// minute wait in memory, so only the flush at shutdown can write the in-flight ones.
	if r := callAPI(context.Background(), http.DefaultClient, "GET", s.URL+"/api/products", key, ""); r.Status != http.StatusOK {
		t.Fatalf("first use: %d %s", r.Status, r.Body)
	}
	live := openDB(t, s.DB)
	var firstUse int64
	for deadline := time.Now().Add(30 * time.Second); firstUse == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the key's first use was not written within 30 s")
		}
		if err := live.QueryRow("SELECT coalesce(last_used_at, 0) FROM api_keys WHERE id = ?", acct.KeyIDs[0]).Scan(&firstUse); err != nil {
			t.Fatal(err)
		}
	}
	live.Close()

	inflightSent := time.Now().UnixMilli()
	var inflight []*slowRequest
	for i := range 4 {
		inflight = append(inflight, startSlow(t, s.Addr, "POST", "/api/products", key,
			fmt.Sprintf(`{"name":"in flight %d","price":12.5}`, i)))
	}
	// net/http drops a connection whose request it had not begun to read when shutdown
	// started, so wait until all four requests are inside keyport (in flight, with the
	// scrape itself the fifth) before sending the signal.
	http.DefaultClient.CloseIdleConnections()
	for deadline := time.Now().Add(30 * time.Second); inFlight(t, s.URL) < len(inflight)+1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the %d slow requests were not all in flight within 30 s", len(inflight))
		}
	}
	http.DefaultClient.CloseIdleConnections()

	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// New connections are refused while the in-flight requests are still open.
	refused := false
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err != nil {
			refused = true
			break
		}
		c.Close()
	}
	if !refused {
		t.Fatal("new connections were still accepted 10 s after SIGTERM")
	}
	select {
	case <-s.done:
		t.Fatalf("keyport exited with requests in flight: %v\n%s", s.err, s.Stderr)
	default:
	}

	var ids []string
	for i, r := range inflight {
		resp, body, err := r.finish()
		if err != nil {
			t.Fatalf("in-flight request %d: %v\nkeyport's log:\n%s", i, err, s.Stderr)
		}
		if got, want := resp.StatusCode, http.StatusCreated; got != want {
			t.Fatalf("in-flight request %d: status %d, want %d\n%s", i, got, want, body)
		}
		var p struct{ ID string }
		if err := json.Unmarshal([]byte(body), &p); err != nil || p.ID == "" {
			t.Fatalf("in-flight request %d: body %s", i, body)
		}
		ids = append(ids, p.ID)
	}
	if err := s.wait(30 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0\n%s", err, s.Stderr)
	}

	db := openDB(t, s.DB)
	integrityCheck(t, db)
	got := productIDs(t, db)
	for _, id := range ids {
		if !got[id] {
			t.Errorf("product %s answered 201 during shutdown but is not in the database", id)
		}
	}
	var lastUsed int64
	if err := db.QueryRow("SELECT last_used_at FROM api_keys WHERE id = ?", acct.KeyIDs[0]).Scan(&lastUsed); err != nil {
		t.Fatal(err)
	}
	if lastUsed < inflightSent {
		t.Errorf("last_used_at = %d, before the in-flight requests (%d): the shutdown did not flush it (first use %d)", lastUsed, inflightSent, firstUse)
	}
}

// inFlight reads keyport_http_requests_in_flight from /metrics.
func inFlight(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "keyport_http_requests_in_flight "); ok {
			n, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("in-flight gauge %q: %v", v, err)
			}
			return int(n)
		}
	}
	t.Fatal("keyport_http_requests_in_flight missing from /metrics")
	return 0
}
