// Package lastused records when each API key was last used without putting a database
// write on the request path: requests note uses in memory, and a background Flush writes
// them to api_keys.last_used_at, at most once a minute per key.
package lastused

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"keyport/database"
	"keyport/queries"
)

// MinWriteInterval is the least time between two writes of one key's last use; the
// value shown is therefore at most this stale while the server runs.
const MinWriteInterval = time.Minute

// Recorder collects key uses and writes them in batches. Safe for concurrent use.
type Recorder struct {
	db *sql.DB
	q  *queries.Queries // prepared on db

	mu   sync.Mutex
	keys map[string]entry

	writes atomic.Int64
}

// entry is what the recorder knows about one key. Times are Unix ms.
type entry struct {
	pending   int64 // latest use not written yet; 0 = none
	written   int64 // the last value written
	writtenAt int64 // when it was written, by the flusher's clock
}

// New returns a Recorder writing through q on db (the writer connection).
func New(db *sql.DB, q *queries.Queries) *Recorder {
	return &Recorder{db: db, q: q, keys: make(map[string]entry)}
}

// Note records that key id was used at t. It only touches memory.
func (r *Recorder) Note(id string, t time.Time) {
	ms := t.UnixMilli()
	r.mu.Lock()
	e := r.keys[id]
	if ms > e.pending && ms > e.written {
		e.pending = ms
		r.keys[id] = e
	}
	r.mu.Unlock()
}

// Flush writes the pending use of every key not written in the MinWriteInterval before
// now (all pending uses if all is true, as at shutdown), in transactions of at most
// flushChunk keys. It returns how many keys it wrote. Uses whose write failed stay
// pending.
func (r *Recorder) Flush(ctx context.Context, now time.Time, all bool) (int, error) {
	batch := r.take(now.UnixMilli(), all)
	// Every process updates rows in the same order, so two replicas' flushes on
	// PostgreSQL wait for each other instead of deadlocking.
	slices.SortFunc(batch, func(a, b use) int { return strings.Compare(a.id, b.id) })
	written := 0
	for written < len(batch) {
		chunk := batch[written:min(written+flushChunk, len(batch))]
		if err := r.write(ctx, chunk); err != nil {
			r.giveBack(batch[written:])
			return written, err
		}
		written += len(chunk)
		r.writes.Add(int64(len(chunk)))
	}
	return written, nil
}

// flushChunk bounds how long one flush holds the single writer connection, which every
// product insert waits for. With a million keys each UPDATE lands on a page of its own:
// 1,000 in one transaction held the writer for 170 ms on an idle machine and for about a
// second under load (bench/run, docs/PERFORMANCE.md).
const flushChunk = 50

type use struct {
	id string
	at int64
}

// take removes the uses due at now from the pending set and forgets keys that neither
// have a pending use nor were written recently enough to hold one back.
func (r *Recorder) take(now int64, all bool) []use {
	r.mu.Lock()
	defer r.mu.Unlock()
	var batch []use
	for id, e := range r.keys {
		due := now-e.writtenAt >= MinWriteInterval.Milliseconds()
		switch {
		case e.pending != 0 && (due || all):
			batch = append(batch, use{id, e.pending})
			r.keys[id] = entry{written: e.pending, writtenAt: now}
		case e.pending == 0 && due:
			delete(r.keys, id)
		}
	}
	return batch
}

func (r *Recorder) write(ctx context.Context, batch []use) error {
	return database.Retry(ctx, func() error {
		tx, err := r.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		q := r.q.WithTx(tx)
		for _, u := range batch {
			if err := q.TouchAPIKey(ctx, queries.TouchAPIKeyParams{ID: u.id, UsedAt: sql.NullInt64{Int64: u.at, Valid: true}}); err != nil {
				tx.Rollback()
				return err
			}
		}
		return tx.Commit()
	})
}

// giveBack makes a failed batch pending again, due at the next Flush.
func (r *Recorder) giveBack(batch []use) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, u := range batch {
		e := r.keys[u.id]
		e.pending = max(e.pending, u.at)
		e.writtenAt = 0
		r.keys[u.id] = e
	}
}

// Writes is how many last-used values have been written since the Recorder was made.
func (r *Recorder) Writes() int64 { return r.writes.Load() }
