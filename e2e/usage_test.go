package e2e

import (
	"context"
	"net/http"
	"testing"
	"time"
)

// TestUsageAcrossStopAndCrash runs the binary: a graceful stop (SIGTERM) writes every
// count, exactly; SIGKILL loses at most the counts since the last flush (5 s), keeps every
// flushed one and doubles none; and counting carries on after the crash.
func TestUsageAcrossStopAndCrash(t *testing.T) {
	dbPath := t.TempDir() + "/keyport.db"
	s := start(t, dbPath)
	acct := signup(t, s, "usage-e2e@example.com", 1)
	key, id := acct.Keys[0], acct.KeyIDs[0]
	hc := newHTTPClient(4)
	send := func(n int) {
		t.Helper()
		for i := range n {
			if r := callAPI(context.Background(), hc, http.MethodGet, s.URL+"/api/products", key, ""); r.Err != nil || r.Status != http.StatusOK {
				t.Fatalf("request %d: %d %v %s", i, r.Status, r.Err, r.Body)
			}
		}
	}
	db := openDB(t, dbPath)
	counted := func() int {
		t.Helper()
		return count(t, db, "SELECT coalesce(sum(valid), 0) FROM key_usage WHERE key_id = ?", id)
	}

	send(50)
	s.stop()
	if got, want := counted(), 50; got != want {
		t.Fatalf("after SIGTERM: %d counted, want %d", got, want)
	}

	s = start(t, dbPath)
	send(30)
	for deadline := time.Now().Add(20 * time.Second); counted() != 80; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the periodic flush did not write the 30 new counts in 20 s: %d counted", counted())
		}
	}
	send(20)
	s.kill()
	crashed := counted()
	if crashed < 80 || crashed > 100 {
		t.Fatalf("after SIGKILL: %d counted, want 80 (flushed) to 100 (all)", crashed)
	}
	t.Logf("SIGKILL lost %d of the 20 counts made since the last flush seen", 100-crashed)

	s = start(t, dbPath)
	send(5)
	s.stop()
	if got, want := counted(), crashed+5; got != want {
		t.Fatalf("after the crash, a restart and SIGTERM: %d counted, want %d", got, want)
	}
}
