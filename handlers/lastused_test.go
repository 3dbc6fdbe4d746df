package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport/database"
	"keyport/queries"
	"keyport/testapp"
)

// lastUsed reads the key's last_used_at from the database (Unix ms, 0 = never).
func lastUsed(t *testing.T, q *queries.Queries, id string) int64 {
	t.Helper()
	k, err := q.GetAPIKeyByID(context.Background(), id)
	if err != nil {
		t.Fatalf("key %s: %v", id, err)
	}
	return k.LastUsedAt.Int64
}

func flushUsage(t *testing.T, a *testapp.App) {
	t.Helper()
	if _, err := a.Server.Usage.Flush(context.Background(), a.Clock.Now(), false); err != nil {
		t.Fatal(err)
	}
}

func TestLastUsedWrittenAtMostOncePerMinute(t *testing.T) {
	a := testapp.New(t, withRateLimit(0))
	c := a.Signup(t, "lu@example.com")
	key, id := c.CreateKey("busy")
	t0 := a.Clock.Now()
	if got := lastUsed(t, a.Server.Read, id); got != 0 {
		t.Fatalf("new key: last_used_at = %d, want none", got)
	}

	// A burst of 1,000 requests from 4 clients at once.
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < 1000; i += 4 {
				if resp, body := a.API(t, "GET", "/api/products?limit=1", key, ""); resp.StatusCode != http.StatusOK {
					t.Errorf("request %d: status %d\n%s", i, resp.StatusCode, body)
					return
				}
			}
		})
	}
	wg.Wait()
	flushUsage(t, a)
	flushUsage(t, a)
	if got, want := a.Server.Usage.Writes(), int64(1); got != want {
		t.Fatalf("after 1,000 requests: %d writes, want %d", got, want)
	}
	if got, want := lastUsed(t, a.Server.Read, id), t0.UnixMilli(); got != want {
		t.Fatalf("last_used_at = %d, want %d", got, want)
	}
	if _, body := c.Get("/dashboard/integrations/api"); !strings.Contains(body, `title="`+t0.UTC().Format("Jan 2, 2006, 15:04:05 UTC")+`">just now</time>`) {
		t.Errorf("dashboard does not show the key as used just now:\n%s", body)
	}

	// A use 30 s later is held back until the key's minute is over.
	a.Clock.Advance(30 * time.Second)
	a.API(t, "GET", "/api/products?limit=1", key, "")
	flushUsage(t, a)
	if got, want := a.Server.Usage.Writes(), int64(1); got != want {
		t.Fatalf("30 s later: %d writes, want %d", got, want)
	}
	a.Clock.Advance(30 * time.Second)
	flushUsage(t, a)
	if got, want := a.Server.Usage.Writes(), int64(2); got != want {
		t.Fatalf("a minute later: %d writes, want %d", got, want)
	}
	if got, want := lastUsed(t, a.Server.Read, id), t0.Add(30*time.Second).UnixMilli(); got != want {
		t.Fatalf("a minute later: last_used_at = %d, want %d", got, want)
	}

	// Nothing new to write: no write, however much time passes.
	a.Clock.Advance(5 * time.Minute)
	flushUsage(t, a)
	if got, want := a.Server.Usage.Writes(), int64(2); got != want {
		t.Fatalf("idle: %d writes, want %d", got, want)
	}
}

func TestLastUsedFlushedOnClose(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "luc@example.com")
	key, id := c.CreateKey("closing")
	a.API(t, "GET", "/api/products", key, "")
	flushUsage(t, a)
	// Held back (written less than a minute ago) when the server stops.
	a.Clock.Advance(10 * time.Second)
	a.API(t, "GET", "/api/products", key, "")
	want := a.Clock.Now().UnixMilli()

	a.HTTP.Close()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := a.Server.Usage.Writes(), int64(2); got != want {
		t.Errorf("%d writes, want %d", got, want)
	}
	db, err := database.Open(context.Background(), a.DBPath, testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if got := lastUsed(t, queries.New(db.Read), id); got != want {
		t.Errorf("after Close: last_used_at = %d, want %d", got, want)
	}
}
