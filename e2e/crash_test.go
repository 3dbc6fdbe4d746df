package e2e

import (
	"context"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"
)

// TestCrashLoop kills the binary with SIGKILL at a random moment under write load, again
// and again. After every restart each product that got a 201 is there, the file passes
// integrity_check, the keys still authenticate and the session cookie still signs in.
// KEYPORT_CRASH_CYCLES sets the number of cycles (3 by default; 10 or more for the long
// run in docs/RELIABILITY.md).
func TestCrashLoop(t *testing.T) {
	cycles := envInt(t, "KEYPORT_CRASH_CYCLES", 3)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("seed %d, %d cycles", seed, cycles)

	dbPath := t.TempDir() + "/keyport.db"
	s := start(t, dbPath)
	acct := signup(t, s, "crash@example.com", 2)
	hc := newHTTPClient(8)

	var acked []ack
	sent := 0
	for cycle := range cycles {
		ctx, cancel := context.WithCancel(context.Background())
		l, wait := goLoad(ctx, hc, s.URL, acct.Keys, 8, 0, "crash")
		// Let some writes land first, then kill at a random moment.
		time.Sleep(time.Duration(100+rng.IntN(900)) * time.Millisecond)
		s.kill()
		cancel()
		wait()
		for _, b := range l.bad {
			t.Errorf("cycle %d: bad answer: %s", cycle, b)
		}
		acked = append(acked, l.acked()...)
		sent += l.sent()
		hc.CloseIdleConnections()

		db := openDB(t, dbPath)
		integrityCheck(t, db)
		ids := productIDs(t, db)
		lost := 0
		for _, a := range acked {
			if !ids[a.ID] {
				lost++
				if lost <= 5 {
					t.Errorf("cycle %d: acknowledged product %s (%q) lost", cycle, a.ID, a.Name)
				}
			}
		}
		if lost > 0 {
			t.Fatalf("cycle %d: %d of %d acknowledged products lost", cycle, lost, len(acked))
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("cycle %d: %d requests, %d acknowledged (%d in all), %d rows", cycle, l.sent(), len(l.acked()), len(acked), len(ids))

		s = start(t, dbPath)
		acct.retarget(t, s)
		if resp, body := acct.Client.Get("/dashboard/integrations/api"); resp.StatusCode != http.StatusOK {
			t.Fatalf("cycle %d: the session cookie no longer signs in: %d\n%s", cycle, resp.StatusCode, body)
		}
		for i, k := range acct.Keys {
			r := callAPI(context.Background(), hc, http.MethodGet, s.URL+"/api/products?limit=1", k, "")
			if r.Err != nil || r.Status != http.StatusOK {
				t.Fatalf("cycle %d: key %d after restart: %d %v %s", cycle, i, r.Status, r.Err, r.Body)
			}
		}
	}
	if len(acked) == 0 {
		t.Fatal("no write was acknowledged in any cycle: the test checked nothing")
	}
	// The last restart serves every acknowledged product through the API too.
	for _, a := range acked[len(acked)-min(len(acked), 50):] {
		r := callAPI(context.Background(), hc, http.MethodGet, s.URL+"/api/products/"+a.ID, acct.Keys[0], "")
		if r.Status != http.StatusOK {
			t.Errorf("GET %s after the crashes: %d %s", a.ID, r.Status, r.Body)
		}
	}
	s.stop()
	t.Logf("%d crashes survived, %d requests sent, %d writes acknowledged and all found", cycles, sent, len(acked))
}
