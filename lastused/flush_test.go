package lastused_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"keyport/database"
	"keyport/lastused"
	"keyport/queries"
	"keyport/testapp"
)

// A failed write loses nothing: the uses stay pending and the next Flush writes them,
// without waiting out the key's minute.
func TestFailedFlushIsRetried(t *testing.T) {
	db, err := database.Open(context.Background(), testapp.MigratedDB(t, testapp.Assets(t).Migrations), testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := lastused.New(db.Write, queries.New(db.Write))
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	r.Note("key_a", now)
	r.Note("key_b", now)

	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := r.Flush(canceled, now, false); err == nil || n != 0 {
		t.Fatalf("Flush with a canceled context = %d, %v; want 0 and an error", n, err)
	}
	if n, err := r.Flush(context.Background(), now, false); err != nil || n != 2 {
		t.Fatalf("retry = %d, %v; want 2 writes", n, err)
	}
	if got, want := r.Writes(), int64(2); got != want {
		t.Fatalf("Writes = %d, want %d", got, want)
	}
	if n, _ := r.Flush(context.Background(), now, true); n != 0 {
		t.Fatalf("nothing pending, yet Flush wrote %d", n)
	}
}

// A flush larger than one transaction's share writes every key.
func TestLargeFlushWritesEveryKey(t *testing.T) {
	ctx := context.Background()
	db, err := database.Open(ctx, testapp.MigratedDB(t, testapp.Assets(t).Migrations), testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q := queries.New(db.Write)
	if err := q.CreateOrganization(ctx, queries.CreateOrganizationParams{ID: "org_a", Name: "A"}); err != nil {
		t.Fatal(err)
	}
	r := lastused.New(db.Write, q)
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	const n = 120
	for i := range n {
		id := fmt.Sprintf("key_%d", i)
		if err := q.CreateAPIKey(ctx, queries.CreateAPIKeyParams{
			ID: id, OrgID: "org_a", Name: id, Hash: []byte(id), Hint: "kp_…", Scopes: "products:read",
		}); err != nil {
			t.Fatal(err)
		}
		r.Note(id, now)
	}
	if got, err := r.Flush(ctx, now, false); err != nil || got != n {
		t.Fatalf("Flush = %d, %v; want %d", got, err, n)
	}
	for i := range n {
		k, err := q.GetAPIKey(ctx, queries.GetAPIKeyParams{OrgID: "org_a", ID: fmt.Sprintf("key_%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := k.LastUsedAt.Int64, now.UnixMilli(); got != want {
			t.Fatalf("key_%d: last_used_at = %d, want %d", i, got, want)
		}
	}
}
