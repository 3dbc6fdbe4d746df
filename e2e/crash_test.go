package e2e

import (
	"context"
	"math/rand/v2"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"keyport/testapp"
)

var batchRE = regexp.MustCompile(`(?m)^keyport_write_batch_size_(?:bucket\{le="(\d+)"\}|count) (\d+)$`)

// batchesOver reads the server's metrics: how many committed write batches held more
// than n writes (n must be one of the histogram's bounds).
func batchesOver(t *testing.T, s *server, n int) int {
	t.Helper()
	_, metrics := s.app().Request(t, http.MethodGet, "/metrics", "")
	var total, upTo int
	for _, m := range batchRE.FindAllStringSubmatch(metrics, -1) {
		v, _ := strconv.Atoi(m[2])
		switch m[1] {
		case "":
			total = v
		case strconv.Itoa(n):
			upTo = v
		}
	}
	return total - upTo
}

// TestCrashLoop kills the binary with SIGKILL at a random moment under write load, again
// and again. After every restart each product that got a 201 is there, the file passes
// integrity_check, the keys still authenticate and the session cookie still signs in.
// KEYPORT_CRASH_CYCLES sets the number of cycles (3 by default; 10 or more for the long
// run in docs/RELIABILITY.md). With 128 clients the writes are group-committed in large
// batches, and each kill comes only after batches of more than 16 rows have committed.
func TestCrashLoop(t *testing.T) {
	t.Run("8 clients", func(t *testing.T) { crashLoop(t, 8, 0) })
	t.Run("128 clients", func(t *testing.T) { crashLoop(t, 128, 16) })
}

func crashLoop(t *testing.T, clients, batchOver int) {
	cycles := envInt(t, "KEYPORT_CRASH_CYCLES", 3)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, seed))
	t.Logf("seed %d, %d cycles", seed, cycles)

	dbPath := testapp.MigratedDB(t, testapp.Assets(t).Migrations)
	s := start(t, dbPath)
	acct := signup(t, s, "crash@example.com", 2)
	hc := newHTTPClient(clients)

	var acked []ack
	sent := 0
	for cycle := range cycles {
		ctx, cancel := context.WithCancel(context.Background())
		l, wait := goLoad(ctx, hc, s.URL, acct.Keys, clients, 0, "crash")
		// Let some writes land first, then kill at a random moment.
		time.Sleep(time.Duration(100+rng.IntN(900)) * time.Millisecond)
		big := 0
		for deadline := time.Now().Add(30 * time.Second); batchOver > 0; time.Sleep(10 * time.Millisecond) {
			if big = batchesOver(t, s, batchOver); big > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cycle %d: no batch of more than %d writes in 30 s", cycle, batchOver)
			}
		}
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
		if batchOver > 0 {
			t.Logf("cycle %d: killed after %d batches of more than %d writes had committed", cycle, big, batchOver)
		}

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
