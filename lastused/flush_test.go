package lastused_test

import (
	"context"
	"path/filepath"
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
	db, err := database.Open(context.Background(), filepath.Join(t.TempDir(), "k.db"), testapp.Assets(t).Migrations)
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
