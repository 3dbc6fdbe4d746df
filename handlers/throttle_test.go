package handlers_test

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport/app"
	"keyport/testapp"
)

// burst sends n sign-in attempts at once (each from the peer peers(i)) and counts the
// answers by status.
func burst(t *testing.T, a *testapp.App, n int, email func(i int) string, password func(i int) string, peer func(i int) string) map[int]int {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	got := map[int]int{}
	start := make(chan struct{})
	for i := range n {
		c := a.NewClient(t)
		wg.Go(func() {
			<-start
			resp, _ := login(c, email(i), password(i), "X-Test-Peer: "+peer(i))
			mu.Lock()
			got[resp.StatusCode]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return got
}

func auditCount(t *testing.T, a *testapp.App, action string) int {
	t.Helper()
	var n int
	if err := a.DB.Read.QueryRow("SELECT count(*) FROM audit_events WHERE action = ?", action).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Finding 1: 40 simultaneous guesses at one account were all checked. Now each attempt
// takes its place in the count before bcrypt runs, so at most 10 get checked.
func TestLoginThrottleParallelBurst(t *testing.T) {
	t.Parallel()

	t.Run("one account, many addresses", func(t *testing.T) {
		t.Parallel()
		a := peerApp(t, testapp.New(t))
		a.Signup(t, "burst@example.com")
		got := burst(t, a, 40,
			func(int) string { return "burst@example.com" },
			func(i int) string { return "wrong-password-" + strconv.Itoa(i) },
			func(i int) string { return "10.9.0." + strconv.Itoa(i+1) })
		if got[http.StatusUnauthorized] > 10 || got[http.StatusUnauthorized]+got[http.StatusTooManyRequests] != 40 {
			t.Errorf("40 parallel guesses: %v; want at most 10 checked (401) and the rest 429", got)
		}
		if n := auditCount(t, a, "login_failed"); n > 10 {
			t.Errorf("%d failures recorded, want at most 10", n)
		}
	})

	// The finding's burst held the right password, and it signed in. Now it signs in only
	// if it drew one of the ten places; a success then restarts the account's count (the
	// owner must not stay throttled after signing in), so only the guesses that took
	// their place before it are bounded.
	t.Run("the right password among the guesses", func(t *testing.T) {
		t.Parallel()
		a := peerApp(t, testapp.New(t))
		a.Signup(t, "burst2@example.com")
		got := burst(t, a, 40,
			func(int) string { return "burst2@example.com" },
			func(i int) string {
				if i == 30 {
					return testapp.Password
				}
				return "wrong-password-" + strconv.Itoa(i)
			},
			func(i int) string { return "10.9.1." + strconv.Itoa(i+1) })
		if got[http.StatusSeeOther] == 0 && got[http.StatusUnauthorized] > 10 {
			t.Errorf("40 parallel guesses, the right one refused: %v; want at most 10 checked", got)
		}
		if got[http.StatusSeeOther] > 1 || got[http.StatusUnauthorized]+got[http.StatusSeeOther]+got[http.StatusTooManyRequests] != 40 {
			t.Errorf("40 parallel guesses: %v; want only 401, 429 and at most one 303", got)
		}
	})

	t.Run("one address, many accounts", func(t *testing.T) {
		t.Parallel()
		a := peerApp(t, testapp.New(t))
		got := burst(t, a, 40,
			func(i int) string { return "guess" + strconv.Itoa(i) + "@example.com" },
			func(int) string { return "wrong-password" },
			func(int) string { return "192.0.2.40" })
		if got[http.StatusUnauthorized] > 10 || got[http.StatusUnauthorized]+got[http.StatusTooManyRequests] != 40 {
			t.Errorf("40 parallel guesses from one address: %v; want at most 10 checked and the rest 429", got)
		}
	})
}

// Finding 4: ten failures against an email locked its owner out for 15 minutes. Now the
// owner waits a delay that doubles from 1 s and never exceeds 60 s.
func TestLoginAccountDelay(t *testing.T) {
	t.Parallel()
	a := peerApp(t, testapp.New(t))
	a.Signup(t, "owner@example.com")
	c := a.NewClient(t)
	peer := 0
	try := func(password string) (*http.Response, string) {
		t.Helper()
		peer++ // a new address each time: only the account's count is at work
		return login(c, "owner@example.com", password, "X-Test-Peer: 198.51.100."+strconv.Itoa(peer))
	}
	for i := range 10 {
		if resp, body := try("wrong-password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want the plain 401 (%q)", i+1, resp.StatusCode, formError(body))
		}
	}
	var waits []string
	for range 8 {
		resp, body := try("wrong-password")
		checkThrottled(t, resp, body)
		after := resp.Header.Get("Retry-After")
		waits = append(waits, after)
		secs, _ := strconv.Atoi(after)
		a.Clock.Advance(time.Duration(secs)*time.Second - time.Millisecond)
		resp, body = try(testapp.Password)
		checkThrottled(t, resp, body) // a millisecond early
		a.Clock.Advance(time.Millisecond)
		if resp, _ := try("wrong-password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("after waiting %s s: status %d, want 401", after, resp.StatusCode)
		}
	}
	if got, want := strings.Join(waits, " "), "1 2 4 8 16 32 60 60"; got != want {
		t.Errorf("Retry-After for each further attempt: %s, want %s", got, want)
	}
	resp, _ := try(testapp.Password)
	secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	a.Clock.Advance(time.Duration(secs) * time.Second)
	resp, body := try(testapp.Password)
	checkRedirect(t, resp, body, dashboard)

	// A success clears the count: the next ten failures get the plain 401 again.
	for i := range 10 {
		if resp, _ := try("wrong-password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d after a success: status %d, want 401", i+1, resp.StatusCode)
		}
	}
}

// From a trusted proxy the client is the rightmost X-Forwarded-For entry that is not a
// trusted proxy; X-Real-IP and Forwarded never count. Without -trusted-proxies every
// forwarded header is ignored (TestLoginThrottle "per IP").
func TestLoginThrottleTrustedProxies(t *testing.T) {
	t.Parallel()
	_, proxies, _ := net.ParseCIDR("10.0.0.0/8")
	a := peerApp(t, testapp.New(t, func(c *app.Config) { c.TrustedProxies = []*net.IPNet{proxies} }))
	a.Signup(t, "behind@example.com")
	c := a.NewClient(t)
	// The attacker sends its own X-Forwarded-For, X-Real-IP and Forwarded; the proxy
	// appends the real address; a second trusted proxy appends the first's.
	for i := range 10 {
		resp, _ := login(c, "guess"+strconv.Itoa(i)+"@example.com", "wrong-password",
			"X-Test-Peer: 10.0.0.2", "X-Forwarded-For: 198.51.100."+strconv.Itoa(i)+", 203.0.113.5, 10.0.0.1",
			"X-Real-IP: 192.0.2."+strconv.Itoa(i), "Forwarded: for=192.0.2."+strconv.Itoa(i))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp, body := login(c, "behind@example.com", testapp.Password, "X-Test-Peer: 10.0.0.2", "X-Forwarded-For: 203.0.113.5")
	checkThrottled(t, resp, body)
	// Everyone else behind the same proxy still signs in.
	resp, body = login(a.NewClient(t), "behind@example.com", testapp.Password, "X-Test-Peer: 10.0.0.2", "X-Forwarded-For: 203.0.113.6")
	checkRedirect(t, resp, body, dashboard)
	// From a peer that is not a trusted proxy, X-Forwarded-For is not believed.
	resp, body = login(a.NewClient(t), "behind@example.com", testapp.Password, "X-Test-Peer: 203.0.113.5", "X-Forwarded-For: 203.0.113.7")
	checkThrottled(t, resp, body)
	// The audit log records the client, not the proxy.
	var ip string
	if err := a.DB.Read.QueryRow("SELECT ip FROM audit_events WHERE action = 'login' ORDER BY seq DESC LIMIT 1").Scan(&ip); err != nil {
		t.Fatal(err)
	}
	if ip != "203.0.113.6" {
		t.Errorf("audit ip %q, want the client 203.0.113.6", ip)
	}
}

// A client with IPv6 holds a whole /64: its addresses count as one.
func TestLoginThrottleIPv6Prefix(t *testing.T) {
	t.Parallel()
	a := peerApp(t, testapp.New(t))
	a.Signup(t, "six@example.com")
	c := a.NewClient(t)
	for i := range 10 {
		resp, _ := login(c, "guess"+strconv.Itoa(i)+"@example.com", "wrong-password", "X-Test-Peer: 2001:db8:1:2::"+strconv.FormatInt(int64(i+1), 16))
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d: status %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp, body := login(c, "six@example.com", testapp.Password, "X-Test-Peer: 2001:db8:1:2:ffff:ffff:ffff:ffff")
	checkThrottled(t, resp, body)
	resp, body = login(a.NewClient(t), "six@example.com", testapp.Password, "X-Test-Peer: 2001:db8:1:3::1")
	checkRedirect(t, resp, body, dashboard)
}

// Finding 5: signup had no throttle and said 409 for a known email even while the client
// was throttled.
func TestSignupThrottled(t *testing.T) {
	t.Parallel()
	a := peerApp(t, testapp.New(t))
	a.Signup(t, "taken@example.com")
	c := a.NewClient(t)
	signup := func(email, peer string) (*http.Response, string) {
		return c.Post("/signup", url.Values{"email": {email}, "password": {testapp.Password}}, "X-Test-Peer: "+peer)
	}
	// Asking about taken emails counts like failed sign-ins.
	for i := range 10 {
		if resp, _ := signup("taken@example.com", "192.0.2.9"); resp.StatusCode != http.StatusConflict {
			t.Fatalf("signup %d with a taken email: status %d, want 409", i+1, resp.StatusCode)
		}
	}
	resp, body := signup("taken@example.com", "192.0.2.9")
	if resp.StatusCode != http.StatusTooManyRequests || strings.Contains(body, "already exists") {
		t.Errorf("throttled signup with a taken email: status %d, says it exists: %v; want 429 and nothing about the email",
			resp.StatusCode, strings.Contains(body, "already exists"))
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// Failed sign-ins throttle signup as well, and the other way round.
	for i := range 10 {
		login(a.NewClient(t), "x"+strconv.Itoa(i)+"@example.com", "wrong-password", "X-Test-Peer: 192.0.2.10")
	}
	if resp, _ := signup("fresh@example.com", "192.0.2.10"); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("signup after 10 failed sign-ins from the address: status %d, want 429", resp.StatusCode)
	}
	if resp, _ := signup("fresh@example.com", "192.0.2.11"); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("signup from another address: status %d, want 303", resp.StatusCode)
	}
	// Successful signups give their place back.
	for i := range 12 {
		if resp, _ := signup("new"+strconv.Itoa(i)+"@example.com", "192.0.2.12"); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("signup %d: status %d, want 303", i+1, resp.StatusCode)
		}
	}
}
