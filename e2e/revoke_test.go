package e2e

import (
	"context"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"keyport/testapp"
)

// TestRevocationRace: clients hammer the API with a key while it is revoked, in the
// dashboard or by `keyport key revoke` from another process. Once the revoke has
// answered (for the CLI: once it has exited and the SPEC's 1 s has passed), no request
// sent after that moment succeeds. Repeated over several keys, reads and writes mixed.
func TestRevocationRace(t *testing.T) {
	t.Run("dashboard", func(t *testing.T) {
		revocationRace(t, 0, func(t *testing.T, s *server, acct *account, i int) {
			resp, body := acct.Client.Do(http.MethodDelete, "/dashboard/integrations/api/keys/"+acct.KeyIDs[i], nil, "HX-Request: true")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("revoke: %d\n%s", resp.StatusCode, body)
			}
		})
	})
	t.Run("cli", func(t *testing.T) {
		revocationRace(t, time.Second, func(t *testing.T, s *server, acct *account, i int) {
			out, err := exec.Command(binary(t), "key", "revoke", acct.KeyIDs[i], "-db", s.DB).CombinedOutput()
			if err != nil {
				t.Fatalf("keyport key revoke: %v\n%s", err, out)
			}
		})
	})
}

// revocationRace runs the race; revoke returns once the revocation is done, and grace is
// how long after that the server may still accept the key.
func revocationRace(t *testing.T, grace time.Duration, revoke func(t *testing.T, s *server, acct *account, i int)) {
	const rounds, workers, afterRevoke = 5, 16, 400
	s := start(t, testapp.MigratedDB(t, testapp.Assets(t).Migrations))
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
		defer cancel()
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
		revoke(t, s, acct, round)
		time.Sleep(grace)
		revoked.Store(true)
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
