// Package usage counts every verification of every API key by outcome, in hourly buckets,
// without putting a database write on the request path: requests add to counters in
// memory, and a background Flush adds them to key_usage, one upsert per key and hour.
//
// What a stop can lose: a graceful stop (App.Close, after the HTTP server has drained)
// flushes everything, so nothing is lost or counted twice. A crash loses the counts since
// the last successful flush: at most one flush interval (5 s by default), more only if
// the database had been refusing writes (failed batches stay in memory and are retried).
package usage

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"keyport/queries"
)

// Outcome is how one verification of an existing key ended.
type Outcome uint8

// The outcomes counted, in the order of Counts and of the key_usage columns.
const (
	Valid Outcome = iota
	RateLimited
	InsufficientScope
	Revoked
	Expired
	NumOutcomes
)

// Retention is how long hourly counts are kept; Prune deletes older ones.
const Retention = 90 * 24 * time.Hour

// Counts are verifications by outcome, indexed by Outcome.
type Counts [NumOutcomes]int64

// Total is every verification counted.
func (c Counts) Total() int64 {
	var n int64
	for _, v := range c {
		n += v
	}
	return n
}

// Rejected is the refusals for what the key is (revoked, expired, lacking a scope), as
// opposed to how often it was used.
func (c Counts) Rejected() int64 { return c[Revoked] + c[Expired] + c[InsufficientScope] }

// Warnings reports whether more than 10% of the verifications were refused for rate,
// and whether more than 10% were rejections.
func (c Counts) Warnings() (rateLimited, rejections bool) {
	t := c.Total()
	return c[RateLimited]*10 > t, c.Rejected()*10 > t
}

func (c *Counts) add(o Counts) {
	for i, v := range o {
		c[i] += v
	}
}

func countsOf(u queries.KeyUsage) Counts {
	return Counts{u.Valid, u.RateLimited, u.InsufficientScope, u.Revoked, u.Expired}
}

// Default limits of a Counter's memory; see Counter.FlushAt and Counter.MaxPending.
const (
	DefaultFlushAt    = 10_000
	DefaultMaxPending = 250_000
)

// Counter collects counts and writes them in batches. Safe for concurrent use; a nil
// *Counter counts nothing (counting turned off).
//
// Memory is bounded by the number of (key, hour) buckets pending, not by the number of
// keys: about 135 bytes each. Reaching FlushAt signals Due, and the app flushes at once
// rather than at its next tick, so a million keys used within one interval cost a few
// MB, not a hundred. Only if flushes cannot keep up (the database refusing writes) does
// pending reach MaxPending; from then on new buckets are dropped, and counted in Dropped.
//
// Each key counted since the last flush has a record of its current hour's counts, under
// a lock of its own: a request that holds the record (by a Slot) counts without the
// Counter's lock or the key's lookup. A key not counted between two flushes loses its
// record, so at most the keys of two flush intervals have one.
type Counter struct {
	// FlushAt is the number of pending buckets that makes a flush due early.
	FlushAt int
	// MaxPending is the number of pending buckets beyond which new ones are dropped.
	MaxPending int

	db *sql.DB
	q  *queries.Queries // prepared on db

	mu      sync.Mutex
	records map[string]*record
	// older holds the counts of past hours that records moved on from, and those given
	// back by a failed flush.
	older   map[bucket]*Counts
	pending atomic.Int64 // buckets pending: live records and older's
	due     chan struct{}

	flushing sync.Mutex // one flush at a time, so a failed batch is given back in order
	writes   atomic.Int64
	dropped  atomic.Int64
}

type bucket struct {
	key  string
	hour int64 // Unix ms of the hour's start
}

// record is one key's counts of one hour, not yet flushed.
type record struct {
	mu     sync.Mutex
	live   bool // counts are a pending bucket (counted since the record was last taken)
	hour   int64
	counts Counts
	// gone is set once the record is dropped from records: a Slot that holds it looks
	// the key up again.
	gone atomic.Bool
}

// Slot remembers one key's record between requests, for CountVia. The zero Slot is empty.
type Slot struct {
	r atomic.Pointer[record]
}

// New returns a Counter writing through q on db (the writer connection).
func New(db *sql.DB, q *queries.Queries) *Counter {
	return &Counter{
		FlushAt: DefaultFlushAt, MaxPending: DefaultMaxPending,
		db: db, q: q, records: make(map[string]*record), older: make(map[bucket]*Counts),
		due: make(chan struct{}, 1),
	}
}

const hourMs = int64(time.Hour / time.Millisecond)

// Count adds one verification of key id, ending in o at t. It only touches memory.
func (c *Counter) Count(id string, o Outcome, t time.Time) { c.CountVia(nil, id, o, t) }

// CountVia is Count through slot, where the key's record is remembered for its next count
// (a nil slot remembers nothing). slot must only ever be used with id.
func (c *Counter) CountVia(slot *Slot, id string, o Outcome, t time.Time) {
	if c == nil {
		return
	}
	ms := t.UnixMilli()
	hour := ms - ms%hourMs
	var r *record
	if slot != nil {
		r = slot.r.Load()
	}
	for {
		if r == nil || r.gone.Load() {
			if r = c.record(id); r == nil {
				c.dropped.Add(1)
				return
			}
			if slot != nil {
				slot.r.Store(r)
			}
		}
		r.mu.Lock()
		if !r.gone.Load() {
			break
		}
		r.mu.Unlock()
	}
	defer r.mu.Unlock()
	if r.live && r.hour != hour {
		c.addOlder(bucket{id, r.hour}, &r.counts, true)
		r.live = false
	}
	if !r.live && !c.goLive(r, bucket{id, hour}, o) {
		return
	}
	r.counts[o]++
}

// record is id's record, made unless that would make room for one bucket too many; nil
// then.
func (c *Counter) record(id string) *record {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.records[id]
	if r == nil || r.gone.Load() {
		if c.pending.Load() >= int64(c.MaxPending) {
			return nil
		}
		r = new(record)
		c.records[id] = r
	}
	return r
}

// goLive makes r, not live, the pending bucket b, and reports whether o is to be counted
// in it: not when pending is full (o is dropped), nor when older already holds b (after a
// failed flush: o is counted there).
func (c *Counter) goLive(r *record, b bucket, o Outcome) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.older[b]; n != nil {
		n[o]++
		return false
	}
	if !c.take1() {
		c.dropped.Add(1)
		return false
	}
	r.live, r.hour, r.counts = true, b.hour, Counts{}
	return true
}

// take1 counts one more pending bucket, unless MaxPending are; it makes a flush due at
// FlushAt.
func (c *Counter) take1() bool {
	for {
		p := c.pending.Load()
		if p >= int64(c.MaxPending) {
			return false
		}
		if c.pending.CompareAndSwap(p, p+1) {
			if p+1 >= int64(c.FlushAt) {
				select {
				case c.due <- struct{}{}:
				default:
				}
			}
			return true
		}
	}
}

// addOlder adds n to older's bucket b. moved says n was a live record's, whose pending
// bucket becomes b's (so pending only shrinks, when b was there already); otherwise a
// new b is one more bucket pending, past MaxPending if need be.
func (c *Counter) addOlder(b bucket, n *Counts, moved bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if o := c.older[b]; o != nil {
		o.add(*n)
		if moved {
			c.pending.Add(-1)
		}
		return
	}
	nc := *n
	c.older[b] = &nc
	if !moved {
		c.pending.Add(1)
	}
}

// Due receives when enough buckets are pending that a flush should not wait for its tick.
func (c *Counter) Due() <-chan struct{} { return c.due }

// flushChunk bounds how long one transaction holds the single writer connection, which
// every product insert waits for (the same reasoning as lastused's).
const flushChunk = 100

// Flush adds every pending count to the database, one upsert per key and hour, in
// transactions of at most flushChunk rows, and returns how many rows it wrote. Rows go in
// (key, hour) order, so concurrent flushes from several servers on PostgreSQL lock rows
// in the same order and cannot deadlock. Counts whose transaction failed stay pending.
func (c *Counter) Flush(ctx context.Context) (int, error) {
	if c == nil {
		return 0, nil
	}
	c.flushing.Lock()
	defer c.flushing.Unlock()
	type keyed struct {
		id string
		r  *record
	}
	c.mu.Lock()
	recs := make([]keyed, 0, len(c.records))
	for id, r := range c.records {
		recs = append(recs, keyed{id, r})
	}
	taken := c.older
	c.older = make(map[bucket]*Counts, len(taken))
	c.mu.Unlock()

	// A bucket may be both in older and a record's (counted again while a failed flush
	// was giving it back): one row, but two of pending.
	takenBuckets := len(taken)
	for _, kr := range recs {
		r := kr.r
		r.mu.Lock()
		if r.live {
			b := bucket{kr.id, r.hour}
			if n := taken[b]; n != nil {
				n.add(r.counts)
			} else {
				n := r.counts
				taken[b] = &n
			}
			r.live, r.counts = false, Counts{}
			takenBuckets++
		} else {
			r.gone.Store(true) // not counted since the last flush
		}
		r.mu.Unlock()
	}
	c.mu.Lock()
	for _, kr := range recs {
		if kr.r.gone.Load() && c.records[kr.id] == kr.r {
			delete(c.records, kr.id)
		}
	}
	c.mu.Unlock()

	rows := make([]queries.AddKeyUsageParams, 0, len(taken))
	for b, n := range taken {
		rows = append(rows, queries.AddKeyUsageParams{KeyID: b.key, HourStart: b.hour,
			Valid: n[Valid], RateLimited: n[RateLimited], InsufficientScope: n[InsufficientScope],
			Revoked: n[Revoked], Expired: n[Expired]})
	}
	c.pending.Add(-int64(takenBuckets))
	slices.SortFunc(rows, func(a, b queries.AddKeyUsageParams) int {
		return cmp.Or(cmp.Compare(a.KeyID, b.KeyID), cmp.Compare(a.HourStart, b.HourStart))
	})
	written := 0
	for written < len(rows) {
		chunk := rows[written:min(written+flushChunk, len(rows))]
		if err := c.write(ctx, chunk); err != nil {
			c.giveBack(rows[written:])
			return written, err
		}
		written += len(chunk)
		c.writes.Add(int64(len(chunk)))
	}
	return written, nil
}

func (c *Counter) write(ctx context.Context, rows []queries.AddKeyUsageParams) error {
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	q := c.q.WithTx(tx)
	for _, r := range rows {
		if err := q.AddKeyUsage(ctx, r); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// giveBack makes the counts of a failed batch pending again, added to any counted since.
// It may take pending past MaxPending, by at most what one flush took.
func (c *Counter) giveBack(rows []queries.AddKeyUsageParams) {
	for _, r := range rows {
		c.addOlder(bucket{r.KeyID, r.HourStart}, &Counts{r.Valid, r.RateLimited, r.InsufficientScope, r.Revoked, r.Expired}, false)
	}
}

// Prune deletes the counts of hours that ended more than Retention before now.
func (c *Counter) Prune(ctx context.Context, now time.Time) (int64, error) {
	if c == nil {
		return 0, nil
	}
	return c.q.PruneKeyUsage(ctx, now.Add(-Retention).Truncate(time.Hour).UnixMilli())
}

// Pending is the number of (key, hour) buckets not written yet.
func (c *Counter) Pending() int { return int(c.pending.Load()) }

// Writes is how many rows Flush has written since the Counter was made.
func (c *Counter) Writes() int64 { return c.writes.Load() }

// Dropped is how many verifications were not counted because MaxPending was reached.
func (c *Counter) Dropped() int64 { return c.dropped.Load() }
