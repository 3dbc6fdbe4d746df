// Package groupcommit commits concurrent writes together. Every write on the single
// writer connection is a job; one goroutine takes the first job that arrives and every
// job already queued behind it, runs them in one transaction and commits once. An idle
// writer starts on the next job at once: there is no timer, so a lone write waits for
// nothing, and batches grow only when writes arrive faster than they commit.
//
// What a batch saves is the per-transaction work: taking the write lock, and writing the
// pages a transaction dirtied to the WAL, once per batch instead of once per row (rows
// inserted together share the pages of their tables' and indexes' right edges).
//
// A job fails alone: if one returns an error, the transaction is rolled back, that job
// gets its error, and the rest run again in a new transaction. So a job may run more
// than once, and only its last run's writes count; it must not keep effects of an
// earlier run outside the database. Do returns only after the job's transaction has
// committed (or failed), so an answer built on its result is never ahead of the disk.
package groupcommit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"

	"keyport/database"
	"keyport/queries"
)

// MaxBatch bounds how many jobs one transaction holds, so one batch's commit, and the
// wait of the jobs queued behind it, stay short.
const MaxBatch = 128

// ErrClosed is returned by Do after Close.
var ErrClosed = errors.New("groupcommit: closed")

// Job is one write. ctx is not the caller's: a batch must not be cut short because one
// caller went away (SQLite interrupts the whole connection when a context ends, which
// would roll back the others' rows too), so it carries the caller's values but no
// cancellation. q is bound to the batch's transaction.
type Job func(ctx context.Context, q *queries.Queries) error

// Committer runs jobs on db, the single writer connection. Safe for concurrent use.
type Committer struct {
	db      *sql.DB
	q       *queries.Queries // prepared on db
	observe func(size int)   // told each committed batch's size; may be nil

	jobs    chan *job
	mu      sync.RWMutex // held for reading while sending on jobs; Close takes it to close jobs
	closed  bool
	stopped chan struct{}
	txOpts  *sql.TxOptions // nil: the driver's default
}

type job struct {
	ctx  context.Context
	fn   Job
	one  bool // a single statement (Exec)
	done chan error
}

// New starts a committer on db with q prepared on it. observe, if set, is called with
// the number of jobs in each transaction that commits.
func New(db *sql.DB, q *queries.Queries, observe func(size int)) *Committer {
	return newCommitter(db, q, observe, 1)
}

// NewParallel is New for PostgreSQL: loops batches commit at once, each on a connection
// of its own (one loop would leave the pool idle while it waits for each commit), in
// SERIALIZABLE transactions. The writes' rules (the last owner, a key's state) read
// before they write, which SQLite's single writer makes safe; on PostgreSQL, with other
// batches and other replicas writing at the same time, SERIALIZABLE keeps it so: a batch
// that would break it fails with a serialization error and runs again (run).
func NewParallel(db *sql.DB, q *queries.Queries, observe func(size int), loops int) *Committer {
	c := newCommitter(db, q, observe, max(loops, 1))
	c.txOpts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	return c
}

func newCommitter(db *sql.DB, q *queries.Queries, observe func(size int), loops int) *Committer {
	c := &Committer{db: db, q: q, observe: observe, jobs: make(chan *job, MaxBatch), stopped: make(chan struct{})}
	var wg sync.WaitGroup
	for range loops {
		wg.Go(c.loop)
	}
	go func() {
		wg.Wait()
		close(c.stopped)
	}()
	return c
}

// Do runs fn in the next batch and returns once its transaction has committed, or with
// the error that kept its writes out. A job whose ctx ends before its batch starts does
// not run; once it runs, Do waits for the commit.
func (c *Committer) Do(ctx context.Context, fn Job) error {
	return c.do(&job{ctx: ctx, fn: fn, done: make(chan error, 1)})
}

// Exec is Do for a job of one statement, which is atomic by itself: when no other write
// is queued with it, it runs without BEGIN and COMMIT around it, which would cost more
// than the statement (an idle server's lone insert).
func (c *Committer) Exec(ctx context.Context, fn Job) error {
	return c.do(&job{ctx: ctx, fn: fn, one: true, done: make(chan error, 1)})
}

func (c *Committer) do(j *job) error {
	ctx := j.ctx
	c.mu.RLock()
	if c.closed {
		c.mu.RUnlock()
		return ErrClosed
	}
	select {
	case c.jobs <- j:
	case <-ctx.Done():
		c.mu.RUnlock()
		return ctx.Err()
	}
	c.mu.RUnlock()
	return <-j.done
}

// Close runs the jobs already queued, then stops. Do fails with ErrClosed afterwards.
func (c *Committer) Close() {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.jobs)
	}
	c.mu.Unlock()
	<-c.stopped
}

func (c *Committer) loop() {
	batch := make([]*job, 0, MaxBatch)
	last := 0
	for j := range c.jobs {
		batch = append(batch[:0], j)
		if last > 1 {
			// Writes are arriving together: let the requests that are runnable reach
			// Do before taking what is queued. No timer: an idle writer, whose last
			// batch was a lone write, starts at once.
			runtime.Gosched()
		}
	take:
		for len(batch) < MaxBatch {
			select {
			case j, ok := <-c.jobs:
				if !ok {
					break take
				}
				batch = append(batch, j)
			default:
				break take
			}
		}
		last = len(batch)
		c.run(batch)
		clear(batch) // let the finished jobs be collected
	}
}

// run commits batch, retrying without each job that fails, and answers every job.
func (c *Committer) run(batch []*job) {
	pending := batch[:0:0]
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- err
			continue
		}
		pending = append(pending, j)
	}
	for len(pending) > 0 {
		// On PostgreSQL a deadlock or serialization failure with another replica's
		// transaction is no job's fault: the whole batch runs again.
		var failed int
		err := database.Retry(context.Background(), func() error {
			var err error
			failed, err = c.try(pending)
			return err
		})
		if failed < 0 {
			if err == nil && c.observe != nil {
				c.observe(len(pending))
			}
			for _, j := range pending {
				j.done <- err
			}
			return
		}
		pending[failed].done <- err
		pending = append(pending[:failed], pending[failed+1:]...)
	}
}

// try runs the jobs in one transaction. It returns the index of the first job that
// failed and its error (nothing was committed), or -1 and the commit's outcome.
func (c *Committer) try(jobs []*job) (int, error) {
	if len(jobs) == 1 && jobs[0].one {
		if err := call(jobs[0], c.q); err != nil {
			return 0, err
		}
		return -1, nil
	}
	tx, err := c.db.BeginTx(context.Background(), c.txOpts)
	if err != nil {
		return -1, err
	}
	q := c.q.WithTx(tx)
	for i, j := range jobs {
		if err := call(j, q); err != nil {
			return i, errors.Join(err, tx.Rollback())
		}
	}
	return -1, tx.Commit()
}

// call runs one job, turning a panic into its error: a panic here would otherwise end
// the process, and every write with it.
func call(j *job, q *queries.Queries) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in a write: %v\n%s", r, debug.Stack())
		}
	}()
	return j.fn(context.WithoutCancel(j.ctx), q)
}
