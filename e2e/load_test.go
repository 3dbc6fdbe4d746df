package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport/testapp"
)

// ack is a product the server answered 201 for, and when the answer arrived.
type ack struct {
	ID, Name, Price string
	At              time.Time
}

// load is the outcome of writeLoad.
type load struct {
	mu       sync.Mutex
	acks     []ack
	statuses map[int]int
	netErrs  int      // transport errors (expected only when the server is killed)
	bad      []string // answers that break the contract
}

func (l *load) sent() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := l.netErrs
	for _, c := range l.statuses {
		n += c
	}
	return n
}

func (l *load) acked() []ack {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ack(nil), l.acks...)
}

// writeLoad runs workers that each create up to perWorker products (0 = until ctx ends),
// worker w using keys[w%len(keys)], and checks every answer: 201 with the product as
// sent, or an error in the API's JSON shape; never a 5xx other than a 503, never a
// SQLite error text. Names start with prefix and are unique.
func writeLoad(ctx context.Context, hc *http.Client, baseURL string, keys []string, workers, perWorker int, prefix string) *load {
	l, wait := goLoad(ctx, hc, baseURL, keys, workers, perWorker, prefix)
	wait()
	return l
}

// goLoad is writeLoad in the background: the load can be watched while it runs, and
// wait returns once every worker has stopped.
func goLoad(ctx context.Context, hc *http.Client, baseURL string, keys []string, workers, perWorker int, prefix string) (l *load, wait func()) {
	l = &load{statuses: map[int]int{}}
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			key := keys[w%len(keys)]
			for i := 0; perWorker == 0 || i < perWorker; i++ {
				if ctx.Err() != nil {
					return
				}
				name := fmt.Sprintf("%s w%d #%d", prefix, w, i)
				price := fmt.Sprintf("%d.%02d", 1+rand.IntN(9999), rand.IntN(100))
				price = strings.TrimSuffix(strings.TrimSuffix(price, "0"), ".0")
				body := fmt.Sprintf(`{"name":%q,"price":%s}`, name, price)
				r := callAPI(ctx, hc, http.MethodPost, baseURL+"/api/products", key, body)
				l.record(name, price, r)
			}
		})
	}
	return l, wg.Wait
}

func (l *load) record(name, price string, r apiResult) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.Err != nil {
		l.netErrs++
		return
	}
	l.statuses[r.Status]++
	if strings.Contains(r.Body, "SQLITE") || strings.Contains(r.Body, "database is locked") {
		l.bad = append(l.bad, fmt.Sprintf("%d %s", r.Status, r.Body))
		return
	}
	if r.Status != http.StatusCreated {
		var e struct{ Message, Code string }
		if r.Status >= 500 && r.Status != http.StatusServiceUnavailable ||
			json.Unmarshal([]byte(r.Body), &e) != nil || e.Message == "" || e.Code == "" {
			l.bad = append(l.bad, fmt.Sprintf("%d %s", r.Status, r.Body))
		}
		return
	}
	var p struct {
		ID    string      `json:"id"`
		Name  string      `json:"name"`
		Price json.Number `json:"price"`
	}
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil || p.ID == "" || p.Name != name || p.Price.String() != price {
		l.bad = append(l.bad, fmt.Sprintf("201 for %q %s: %s", name, price, r.Body))
		return
	}
	l.acks = append(l.acks, ack{ID: p.ID, Name: name, Price: price, At: now})
}

// TestConcurrentCreates: 64 clients × 200 creates over 8 keys against the binary leave
// exactly 12,800 rows, each client seeing only 201s.
func TestConcurrentCreates(t *testing.T) {
	const clients, each, keys = 64, 200, 8
	s := start(t, testapp.MigratedDB(t, testapp.Assets(t).Migrations))
	acct := signup(t, s, "load@example.com", keys)

	began := time.Now()
	l := writeLoad(context.Background(), newHTTPClient(clients), s.URL, acct.Keys, clients, each, "load")
	took := time.Since(began)
	t.Logf("%d creates from %d clients in %v (%.0f/s): %v", l.sent(), clients, took.Round(time.Millisecond), float64(l.sent())/took.Seconds(), l.statuses)
	for _, b := range l.bad {
		t.Errorf("bad answer: %s", b)
	}
	if got, want := l.statuses[http.StatusCreated], clients*each; got != want {
		t.Errorf("201 answers = %d, want %d (statuses %v, transport errors %d)", got, want, l.statuses, l.netErrs)
	}
	s.stop()

	db := openDB(t, s.DB)
	integrityCheck(t, db)
	if got, want := count(t, db, "SELECT count(*) FROM products"), clients*each; got != want {
		t.Errorf("products rows = %d, want %d", got, want)
	}
	ids := productIDs(t, db)
	for _, a := range l.acked() {
		if !ids[a.ID] {
			t.Errorf("acknowledged product %s (%q) not in the database", a.ID, a.Name)
		}
	}
	for i, id := range acct.KeyIDs {
		if got, want := count(t, db, "SELECT count(*) FROM products WHERE key_id = ?", id), clients*each/keys; got != want {
			t.Errorf("key %d created %d products, want %d", i, got, want)
		}
	}
}
