package handlers_test

import (
	"net/http"
	"os"
	"testing"

	"keyport/testapp"
)

// SQLite checkpoints the WAL automatically only when a statement runs to its end in
// autocommit mode. A write read through QueryRow (INSERT … RETURNING) never does, so a
// stream of product inserts alone would grow the WAL without bound, and the first other
// write to commit would then pay for copying all of it back, stalling every request.
func TestProductInsertsLetTheWALCheckpoint(t *testing.T) {
	testapp.SQLiteOnly(t, "the WAL checkpoint")
	a := testapp.New(t, highRateLimit)
	key, _ := a.Signup(t, "wal@example.com").CreateKey("wal")
	// Each insert appends three or four pages to the WAL; 3,000 of them would make it
	// over 40 MiB if it were never checkpointed. The committer's background checkpoints
	// start it over at about database.CheckpointFrames pages (16 MiB) plus what is
	// written while one runs.
	for range 3000 {
		serveAPI(t, a, http.MethodPost, "/api/products", key, widget, http.StatusCreated)
	}
	fi, err := os.Stat(a.DBPath + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	if got, limit := fi.Size(), int64(32<<20); got > limit {
		t.Errorf("WAL is %d bytes after 3,000 inserts, want at most %d: it is not being checkpointed", got, limit)
	}
}
