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
	ckpt    *checkpoints   // nil: no background checkpoints
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
	return newCommitter(db, q, observe, 1, nil)
}

// NewParallel is New for PostgreSQL: loops batches commit at once, each on a connection
// of its own (one loop would leave the pool idle while it waits for each commit), in
// SERIALIZABLE transactions. The writes' rules (the last owner, a key's state) read
// before they write, which SQLite's single writer makes safe; on PostgreSQL, with other
// batches and other replicas writing at the same time, SERIALIZABLE keeps it so: a batch
// that would break it fails with a serialization error and runs again (run).
func NewParallel(db *sql.DB, q *queries.Queries, observe func(size int), loops int) *Committer {
	c := newCommitter(db, q, observe, max(loops, 1), nil)
	c.txOpts = &sql.TxOptions{Isolation: sql.LevelSerializable}
	return c
}

// NewCheckpointing is New for SQLite that also keeps the WAL short off the write path:
// once the WAL holds walPages pages (walFrames, read after every batch), checkpoint
// (database.DB.Checkpoint) copies them into the database file on another connection
// while batches go on committing, and then, between two batches, once more for what they
// wrote meanwhile, so that nothing is left to copy and the next transaction starts the
// WAL over. Only that second, short copy holds the writer; SQLite's own automatic
// checkpoint copies the whole WAL inside some write's commit.
func NewCheckpointing(db *sql.DB, q *queries.Queries, observe func(size int), checkpoint func(context.Context) (walPages int, err error), walFrames func() (int, error), walPages int) *Committer {
	ck := &checkpoints{fn: checkpoint, frames: walFrames, pages: walPages, copied: make(chan copyOutcome, 1)}
	return newCommitter(db, q, observe, 1, ck)
}

func newCommitter(db *sql.DB, q *queries.Queries, observe func(size int), loops int, ck *checkpoints) *Committer {
	c := &Committer{db: db, q: q, observe: observe, jobs: make(chan *job, MaxBatch), stopped: make(chan struct{}), ckpt: ck}
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
	var copied <-chan copyOutcome // nil (never ready) without checkpoints
	if c.ckpt != nil {
		copied = c.ckpt.copied
		defer c.ckpt.wait()
	}
	for {
		var j *job
		select {
		case outcome := <-copied:
			c.ckpt.finish(outcome)
			continue
		case next, ok := <-c.jobs:
			if !ok {
				return
			}
			j = next
		}
		batch = append(batch[:0], j)
		// Let the requests that are runnable reach Do before taking what is queued. No
		// timer: on an idle server nothing else is runnable and the yield returns at
		// once. (Yielding only after a batch of several let a busy server settle into
		// lone writes: a lone write was never followed by a yield.)
		runtime.Gosched()
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
		c.run(batch)
		clear(batch) // let the finished jobs be collected
		if c.ckpt != nil {
			c.ckpt.committed()
		}
	}
}

// checkpoints is the state of NewCheckpointing's background checkpoints, kept by the
// loop (the one loop on SQLite), which alone starts and finishes them.
type checkpoints struct {
	fn      func(context.Context) (walPages int, err error)
	frames  func() (int, error) // the WAL's pages now
	pages   int                 // pages the WAL may grow by before a copy starts
	base    int                 // the WAL's pages after the last copy, until it starts over
	running bool                // started, not finished
	copied  chan copyOutcome    // the background copy's outcome
}

type copyOutcome struct {
	pages int // the WAL's pages, or -1 if another connection was checkpointing
	err   error
}

// committed starts a background copy after a batch once the WAL has grown by ck.pages
// since it started over, or since the last copy if it could not start over (a reader
// still on an old snapshot, a failed copy). The WAL's own count decides, not an estimate
// from batches: an estimate of pages a batch, taken from WALs that another process's
// last close or the writer's own automatic checkpoint had started over, once put the
// copies so far apart that the automatic checkpoint ran inside a commit every half
// second, holding every write for 35-45 ms. A count that cannot be read starts a copy,
// which reports what is wrong.
func (ck *checkpoints) committed() {
	if ck.running {
		return
	}
	n, err := ck.frames()
	if err == nil {
		if n < ck.base {
			ck.base = 0 // started over
		}
		if n-ck.base < ck.pages {
			return
		}
	}
	ck.running = true
	go func() {
		pages, err := ck.fn(context.Background())
		ck.copied <- copyOutcome{pages, err}
	}()
}

// finish runs, with no batch in progress, once the background copy has ended: it copies
// what the batches wrote meanwhile, so that the WAL starts over at the next transaction.
// (Copying beside them once more first would not make this shorter: a copy's time is
// mostly its two fsyncs, whatever it copies, and batches keep writing during it.) A copy
// that found another connection checkpointing is tried again after the next batch; one
// that failed, after ck.pages more. The writer's own automatic checkpoint bounds the WAL
// if copies keep failing (database.CheckpointFrames).
func (ck *checkpoints) finish(c copyOutcome) {
	ck.running = false
	switch {
	case c.err != nil:
		if n, err := ck.frames(); err == nil {
			ck.base = n
		}
	case c.pages >= 0:
		if n, err := ck.fn(context.Background()); err == nil && n >= 0 {
			ck.base = n
		}
	}
}

// wait lets a background copy end before the committer stops, so the database is not
// closed under it.
func (ck *checkpoints) wait() {
	if ck.running {
		<-ck.copied
		ck.running = false
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
