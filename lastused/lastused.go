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
	keys map[string]*entry

	writes atomic.Int64
}

// entry is what the recorder knows about one key. Times are Unix ms. A use is noted by
// compare-and-swap, so a request that holds the entry (by a Slot) needs neither the key's
// lookup nor the recorder's lock. Once dropped from keys, pending holds gone, and a use
// noted through a Slot looks the key up again.
type entry struct {
	pending   atomic.Int64 // latest use not written yet; 0 = none
	written   atomic.Int64 // the last value written
	writtenAt int64        // when it was written, by the flusher's clock; under mu
}

// gone marks an entry dropped from its Recorder.
const gone = -1

// Slot remembers one key's entry between requests, for NoteVia. The zero Slot is empty.
type Slot struct {
	e atomic.Pointer[entry]
}

// New returns a Recorder writing through q on db (the writer connection).
func New(db *sql.DB, q *queries.Queries) *Recorder {
	return &Recorder{db: db, q: q, keys: make(map[string]*entry)}
}

// Note records that key id was used at t. It only touches memory.
func (r *Recorder) Note(id string, t time.Time) { r.NoteVia(nil, id, t) }

// NoteVia is Note through slot, where the key's entry is remembered for its next use (a
// nil slot remembers nothing). slot must only ever be used with id.
func (r *Recorder) NoteVia(slot *Slot, id string, t time.Time) {
	ms := t.UnixMilli()
	var e *entry
	if slot != nil {
		e = slot.e.Load()
	}
	for e == nil || !e.note(ms) {
		e = r.entry(id)
		if slot != nil {
			slot.e.Store(e)
		}
	}
}

// note raises e's pending use to ms; false if e was dropped.
func (e *entry) note(ms int64) bool {
	for {
		p := e.pending.Load()
		switch {
		case p == gone:
			return false
		case ms <= p || ms <= e.written.Load():
			return true
		case e.pending.CompareAndSwap(p, ms):
			return true
		}
	}
}

// entry is id's entry, made if it has none.
func (r *Recorder) entry(id string) *entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.keys[id]
	if e == nil {
		e = new(entry)
		r.keys[id] = e
	}
	return e
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
		switch p := e.pending.Load(); {
		case p != 0 && (due || all):
			// Written before pending is cleared, so a use noted meanwhile that is no
			// later than p is not noted again. A later one stays pending.
			e.written.Store(p)
			e.pending.CompareAndSwap(p, 0)
			e.writtenAt = now
			batch = append(batch, use{id, p})
		case p == 0 && due:
			// Unless a use was noted since: then the key stays.
			if e.pending.CompareAndSwap(0, gone) {
				delete(r.keys, id)
			}
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
		if e == nil {
			e = new(entry)
			r.keys[u.id] = e
		}
		for p := e.pending.Load(); p < u.at && !e.pending.CompareAndSwap(p, u.at); p = e.pending.Load() {
		}
		e.writtenAt = 0
	}
}

// Writes is how many last-used values have been written since the Recorder was made.
func (r *Recorder) Writes() int64 { return r.writes.Load() }
