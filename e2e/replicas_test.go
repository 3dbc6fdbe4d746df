package e2e

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"keyport/testapp"
)

// Replicas: two or three keyport processes on one PostgreSQL database, as behind a load
// balancer (docs/SCALING.md). PostgreSQL only: SQLite is one machine's file.

// A session made on A is valid on B; a key made on A works on B within 1 s (B's key
// filter learns of it at its next poll); a key revoked on A is refused by B within 1 s.
// The delay is measured from the revoke's answer to B's first refusal, polling B every
// 5 ms.
func TestReplicasRevokeSeenWithinASecond(t *testing.T) {
	testapp.PostgresOnly(t)
	db := testapp.DB(t)
	a, b := start(t, db), start(t, db)
	acct := signup(t, a, "replicas@example.com", 0)
	onB := b.app().NewClient(t)
	onB.Jar = acct.Client.Jar
	if resp, body := onB.Get("/dashboard/integrations/api"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session from A on B: %d\n%s", resp.StatusCode, body)
	}
	hc := newHTTPClient(4)
	var delays []time.Duration
	for i := range 5 {
		key, id := acct.Client.CreateKey("replicated " + string(rune('a'+i)))
		untilStatus(t, hc, b.URL, key, http.StatusOK, http.StatusForbidden, time.Now())
		for range 3 { // the first use on B finds it in the database, then B caches it
			if r := callAPI(context.Background(), hc, http.MethodGet, b.URL+"/api/products", key, ""); r.Status != http.StatusOK {
				t.Fatalf("key %d made on A, used on B: %d %s", i, r.Status, r.Body)
			}
		}
		resp, body := acct.Client.Do(http.MethodDelete, "/dashboard/integrations/api/keys/"+id, nil, "HX-Request: true")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke on A: %d\n%s", resp.StatusCode, body)
		}
		delays = append(delays, untilStatus(t, hc, b.URL, key, http.StatusForbidden, http.StatusOK, time.Now()))
	}
	logDelays(t, "revoke on A → refused on B", delays)
}

// A key made on A is accepted by A at once (A adds it to its own key filter before
// answering) and by B within 1 s: B refuses keys its filter has not seen, and folds in
// the keys other replicas stored at its next poll of the database (every 200 ms). The
// delay is measured from the create's answer to B's first 200, polling B every 5 ms.
func TestReplicasNewKeySeenWithinASecond(t *testing.T) {
	testapp.PostgresOnly(t)
	db := testapp.DB(t)
	a, b := start(t, db), start(t, db)
	acct := signup(t, a, "newkey@example.com", 0)
	hc := newHTTPClient(4)
	var delays []time.Duration
	for i := range 9 {
		key, _ := acct.Client.CreateKey("new " + string(rune('a'+i)))
		created := time.Now()
		if r := callAPI(context.Background(), hc, http.MethodGet, a.URL+"/api/products", key, ""); r.Status != http.StatusOK {
			t.Fatalf("key %d on A, which made it: %d %s", i, r.Status, r.Body)
		}
		delays = append(delays, untilStatus(t, hc, b.URL, key, http.StatusOK, http.StatusForbidden, created))
	}
	logDelays(t, "create on A → accepted by B", delays)
}

// untilStatus calls GET /api/products on url with key every 5 ms until it answers want,
// and returns how long after since that was; any answer but want and meanwhile, or no
// want within 1 s, fails the test.
func untilStatus(t *testing.T, hc *http.Client, url, key string, want, meanwhile int, since time.Time) time.Duration {
	t.Helper()
	for {
		r := callAPI(context.Background(), hc, http.MethodGet, url+"/api/products", key, "")
		took := time.Since(since)
		if r.Status == want {
			return took
		}
		if r.Status != meanwhile {
			t.Fatalf("waiting for %d: %d %s", want, r.Status, r.Body)
		}
		if took > time.Second {
			t.Fatalf("still %d after %v, want %d within 1 s", r.Status, took, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// reach waits until each of servers accepts key, made on another replica: then they hold
// every key made before it too (keyauth/filter.go).
func reach(t *testing.T, key string, servers ...*server) {
	t.Helper()
	hc := newHTTPClient(1)
	for _, s := range servers {
		untilStatus(t, hc, s.URL, key, http.StatusOK, http.StatusForbidden, time.Now())
	}
}

func logDelays(t *testing.T, what string, delays []time.Duration) {
	t.Helper()
	slices.Sort(delays)
	t.Logf("%s: min %v, median %v, max %v (%d keys)", what,
		delays[0].Round(time.Millisecond), delays[len(delays)/2].Round(time.Millisecond), delays[len(delays)-1].Round(time.Millisecond), len(delays))
}

// With -key-rate-limit 10 on three replicas, a key's requests spread over all three are
// let through 10 times in all (plus one for each emission interval, 6 s, the burst took),
// not 30.
func TestReplicasShareTheRateLimit(t *testing.T) {
	testapp.PostgresOnly(t)
	db := testapp.DB(t)
	var replicas []*server
	for range 3 {
		replicas = append(replicas, start(t, db, "-key-rate-limit", "10"))
	}
	acct := signup(t, replicas[0], "limit@example.com", 2)
	hc := newHTTPClient(16)
	// Keys[1], made last: once the others accept it they hold Keys[0] too, whose
	// allowance this test counts untouched.
	reach(t, acct.Keys[1], replicas[1:]...)
	began := time.Now()
	var mu sync.Mutex
	perReplica := make([]int, len(replicas))
	statuses := map[int]int{}
	var wg sync.WaitGroup
	for i := range 60 {
		wg.Go(func() {
			r := callAPI(context.Background(), hc, http.MethodGet, replicas[i%3].URL+"/api/products", acct.Keys[0], "")
			mu.Lock()
			defer mu.Unlock()
			statuses[r.Status]++
			if r.Status == http.StatusOK {
				perReplica[i%3]++
			}
		})
	}
	wg.Wait()
	took := time.Since(began)
	allowed := statuses[http.StatusOK]
	t.Logf("60 requests over 3 replicas in %v: %d let through (per replica %v), statuses %v", took.Round(time.Millisecond), allowed, perReplica, statuses)
	refilled := int(took / (6 * time.Second))
	if allowed < 10 || allowed > 10+refilled || statuses[http.StatusTooManyRequests] != 60-allowed {
		t.Errorf("%d let through, want 10 (+%d refilled) and the rest 429: %v", allowed, refilled, statuses)
	}
}

// 2 replicas × 64 clients × 100 creates at once: every one answered 201 and stored, once.
func TestReplicasConcurrentCreates(t *testing.T) {
	testapp.PostgresOnly(t)
	const clients, each = 64, 100
	db := testapp.DB(t)
	a, b := start(t, db), start(t, db)
	acct := signup(t, a, "creates@example.com", 8)
	reach(t, acct.Keys[len(acct.Keys)-1], b)
	began := time.Now()
	var la, lb *load
	var wg sync.WaitGroup
	wg.Go(func() {
		la = writeLoad(context.Background(), newHTTPClient(clients), a.URL, acct.Keys, clients, each, "a")
	})
	wg.Go(func() {
		lb = writeLoad(context.Background(), newHTTPClient(clients), b.URL, acct.Keys, clients, each, "b")
	})
	wg.Wait()
	took := time.Since(began)
	total := la.statuses[http.StatusCreated] + lb.statuses[http.StatusCreated]
	t.Logf("%d creates through 2 replicas in %v (%.0f/s): A %v, B %v", la.sent()+lb.sent(), took.Round(time.Millisecond),
		float64(la.sent()+lb.sent())/took.Seconds(), la.statuses, lb.statuses)
	for _, bad := range append(la.bad, lb.bad...) {
		t.Errorf("bad answer: %s", bad)
	}
	if want := 2 * clients * each; total != want {
		t.Errorf("201 answers = %d, want %d", total, want)
	}
	rows := openDB(t, db)
	if got, want := count(t, rows, "SELECT count(*) FROM products"), 2*clients*each; got != want {
		t.Errorf("products rows = %d, want %d", got, want)
	}
	if got := count(t, rows, "SELECT count(DISTINCT id) FROM products"); got != 2*clients*each {
		t.Errorf("distinct product ids = %d, want %d", got, 2*clients*each)
	}
}

// kill -9 of one replica while both take writes: every write either replica acknowledged
// is in the database, and the survivor keeps serving.
func TestReplicaKilledUnderLoad(t *testing.T) {
	testapp.PostgresOnly(t)
	db := testapp.DB(t)
	a, b := start(t, db), start(t, db)
	acct := signup(t, a, "kill@example.com", 4)
	reach(t, acct.Keys[len(acct.Keys)-1], b)
	ctx, cancel := context.WithCancel(context.Background())
	la, waitA := goLoad(ctx, newHTTPClient(16), a.URL, acct.Keys, 16, 0, "a")
	lb, waitB := goLoad(ctx, newHTTPClient(16), b.URL, acct.Keys, 16, 0, "b")
	for len(la.acked()) < 200 || len(lb.acked()) < 200 {
		time.Sleep(10 * time.Millisecond)
	}
	a.kill()
	killedAt := len(lb.acked())
	for len(lb.acked()) < killedAt+200 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	waitA()
	waitB()
	for _, bad := range append(la.bad, lb.bad...) {
		t.Errorf("bad answer: %s", bad)
	}
	ids := productIDs(t, openDB(t, db))
	acked := append(la.acked(), lb.acked()...)
	lost := 0
	for _, k := range acked {
		if !ids[k.ID] {
			lost++
		}
	}
	t.Logf("A killed after %d acknowledged writes (%d transport errors); B acknowledged %d in all; %d of %d acknowledged writes lost; %d rows",
		len(la.acked()), la.netErrs, len(lb.acked()), lost, len(acked), len(ids))
	if lost > 0 {
		t.Errorf("%d acknowledged writes lost", lost)
	}
}
