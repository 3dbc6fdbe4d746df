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
// keys: about 130 bytes each. Reaching FlushAt signals Due, and the app flushes at once
// rather than at its next tick, so a million keys used within one interval cost a few
// MB, not a hundred. Only if flushes cannot keep up (the database refusing writes) does
// pending reach MaxPending; from then on new buckets are dropped, and counted in Dropped.
type Counter struct {
	// FlushAt is the number of pending buckets that makes a flush due early.
	FlushAt int
	// MaxPending is the number of pending buckets beyond which new ones are dropped.
	MaxPending int

	db *sql.DB
	q  *queries.Queries // prepared on db

	mu      sync.Mutex
	pending map[bucket]*Counts
	due     chan struct{}

	flushing sync.Mutex // one flush at a time, so a failed batch is given back in order
	writes   atomic.Int64
	dropped  atomic.Int64
}

type bucket struct {
	key  string
	hour int64 // Unix ms of the hour's start
}

// New returns a Counter writing through q on db (the writer connection).
func New(db *sql.DB, q *queries.Queries) *Counter {
	return &Counter{
		FlushAt: DefaultFlushAt, MaxPending: DefaultMaxPending,
		db: db, q: q, pending: make(map[bucket]*Counts), due: make(chan struct{}, 1),
	}
}

const hourMs = int64(time.Hour / time.Millisecond)

// Count adds one verification of key id, ending in o at t. It only touches memory.
func (c *Counter) Count(id string, o Outcome, t time.Time) {
	if c == nil {
		return
	}
	ms := t.UnixMilli()
	b := bucket{id, ms - ms%hourMs}
	c.mu.Lock()
	n := c.pending[b]
	if n == nil {
		if len(c.pending) >= c.MaxPending {
			c.mu.Unlock()
			c.dropped.Add(1)
			return
		}
		n = new(Counts)
		c.pending[b] = n
		if len(c.pending) >= c.FlushAt {
			select {
			case c.due <- struct{}{}:
			default:
			}
		}
	}
	n[o]++
	c.mu.Unlock()
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
	c.mu.Lock()
	taken := c.pending
	c.pending = make(map[bucket]*Counts, len(taken))
	c.mu.Unlock()

	rows := make([]queries.AddKeyUsageParams, 0, len(taken))
	for b, n := range taken {
		rows = append(rows, queries.AddKeyUsageParams{KeyID: b.key, HourStart: b.hour,
			Valid: n[Valid], RateLimited: n[RateLimited], InsufficientScope: n[InsufficientScope],
			Revoked: n[Revoked], Expired: n[Expired]})
	}
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
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rows {
		b := bucket{r.KeyID, r.HourStart}
		n := c.pending[b]
		if n == nil {
			n = new(Counts)
			c.pending[b] = n
		}
		n.add(Counts{r.Valid, r.RateLimited, r.InsufficientScope, r.Revoked, r.Expired})
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
func (c *Counter) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// Writes is how many rows Flush has written since the Counter was made.
func (c *Counter) Writes() int64 { return c.writes.Load() }

// Dropped is how many verifications were not counted because MaxPending was reached.
func (c *Counter) Dropped() int64 { return c.dropped.Load() }
