package e2e

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRevocationRace: clients hammer the API with a key while a member revokes it in the
// dashboard. Once the revoke response has arrived, no request sent after that moment
// succeeds. Repeated over several keys, reads and writes mixed.
func TestRevocationRace(t *testing.T) {
	const rounds, workers, afterRevoke = 5, 16, 400
	s := start(t, t.TempDir()+"/keyport.db")
	acct := signup(t, s, "revoke@example.com", rounds)
	hc := newHTTPClient(workers)

	var totalSent, totalAfter int64
	for round, key := range acct.Keys {
		var (
			revoked    atomic.Bool
			before     atomic.Int64 // successes before the revoke was sent
			after      atomic.Int64 // requests sent after the revoke answered
			sent       atomic.Int64
			mu         sync.Mutex
			violations []string
		)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for ctx.Err() == nil {
					sentAfterRevoke := revoked.Load()
					var r apiResult
					if w%2 == 0 {
						r = callAPI(ctx, hc, http.MethodGet, s.URL+"/api/products?limit=1", key, "")
					} else {
						r = callAPI(ctx, hc, http.MethodPost, s.URL+"/api/products", key, `{"name":"race","price":1}`)
					}
					if r.Err != nil {
						if ctx.Err() == nil {
							mu.Lock()
							violations = append(violations, "transport error: "+r.Err.Error())
							mu.Unlock()
						}
						return
					}
					sent.Add(1)
					switch {
					case !sentAfterRevoke:
						if r.Status < 300 {
							before.Add(1)
						}
					case r.Status != http.StatusForbidden || !strings.Contains(r.Body, `"api_key_revoked"`):
						mu.Lock()
						violations = append(violations, r.Body)
						mu.Unlock()
					default:
						if after.Add(1) >= afterRevoke {
							cancel()
						}
					}
				}
			})
		}
		// Revoke once the key is demonstrably in use (and cached by the verifier).
		for deadline := time.Now().Add(30 * time.Second); before.Load() < 200; time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("round %d: the key never got going: %d successes", round, before.Load())
			}
		}
		resp, body := acct.Client.Do(http.MethodDelete, "/dashboard/integrations/api/keys/"+acct.KeyIDs[round], nil, "HX-Request: true")
		revoked.Store(true)
		if resp.StatusCode != http.StatusOK {
			cancel()
			t.Fatalf("round %d: revoke: %d\n%s", round, resp.StatusCode, body)
		}
		wg.Wait()
		cancel()
		for i, v := range violations {
			if i < 5 {
				t.Errorf("round %d: request sent after the revoke answered got: %s", round, v)
			}
		}
		if len(violations) > 0 {
			t.Fatalf("round %d: %d requests with the revoked key were not refused", round, len(violations))
		}
		totalSent += sent.Load()
		totalAfter += after.Load()
	}
	t.Logf("%d rounds: %d requests, %d of them sent after the revoke answered, all refused", rounds, totalSent, totalAfter)
}
