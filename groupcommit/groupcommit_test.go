package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"keyport/database"
	"keyport/migrations"
	"keyport/queries"
)

type fixture struct {
	db *database.DB
	q  *queries.Queries // prepared on the writer
	c  *Committer

	mu      sync.Mutex
	batches []int
}

func setup(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, filepath.Join(t.TempDir(), "keyport.db"), migrations.All())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Prepared on the writer, as the server's are.
	q, err := queries.Prepare(ctx, db.Write)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.CreateOrganization(ctx, queries.CreateOrganizationParams{ID: "org_1", Name: "One", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, q: q}
	f.c = New(db.Write, q, func(n int) {
		f.mu.Lock()
		f.batches = append(f.batches, n)
		f.mu.Unlock()
	})
	t.Cleanup(f.c.Close)
	return f
}

func insert(id string, cents int64) Job {
	return func(ctx context.Context, q *queries.Queries) error {
		return q.CreateProduct(ctx, queries.CreateProductParams{ID: id, OrgID: "org_1", Name: id, PriceCents: cents, CreatedAt: 1})
	}
}

// holdWriter takes the single writer connection until the returned func is called, so
// that jobs queue up behind the one the committer is trying to start.
func (f *fixture) holdWriter(t *testing.T) func() {
	t.Helper()
	conn, err := f.db.Write.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return func() { conn.Close() }
}

// queue calls Do for each job (with ctx, or a background one) while the writer is held:
// the first job is taken by the committer, which then waits for the connection, and the
// others queue behind it. It returns once they all have.
func (f *fixture) queue(t *testing.T, ctxs []context.Context, jobs []Job) []chan error {
	t.Helper()
	waits := f.db.Write.Stats().WaitCount
	errs := make([]chan error, len(jobs))
	for i, j := range jobs {
		ctx := context.Background()
		if i < len(ctxs) {
			ctx = ctxs[i]
		}
		errs[i] = make(chan error, 1)
		go func() { errs[i] <- f.c.Do(ctx, j) }()
		if i == 0 {
			for f.db.Write.Stats().WaitCount == waits {
				runtime.Gosched()
			}
		}
	}
	for len(f.c.jobs) < len(jobs)-1 {
		runtime.Gosched()
	}
	return errs
}

func (f *fixture) products(t *testing.T) []string {
	t.Helper()
	rows, err := queries.New(f.db.Read).ListProducts(context.Background(), queries.ListProductsParams{OrgID: "org_1", Before: 1 << 62, Limit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rows {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	return ids
}

// Writes that arrive while the writer is busy are committed together, in one
// transaction, and each Do returns only once its row is committed and readable.
func TestQueuedWritesCommitTogether(t *testing.T) {
	f := setup(t)
	release := f.holdWriter(t)
	var jobs []Job
	var want []string
	for i := range 50 {
		id := fmt.Sprintf("prod_%02d", i)
		jobs = append(jobs, insert(id, 100))
		want = append(want, id)
	}
	errs := f.queue(t, nil, jobs)
	release()
	for i, e := range errs {
		if err := <-e; err != nil {
			t.Fatalf("job %d: %v", i, err)
		}
	}
	if got := f.products(t); !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Equal(f.batches, []int{1, 49}) {
		t.Errorf("batch sizes %v, want [1 49]: the first job alone, then all that queued behind it", f.batches)
	}
}

// A job that fails (here a CHECK constraint and a duplicate id) gets its own error; the
// jobs batched with it are committed all the same.
func TestBadJobFailsAlone(t *testing.T) {
	f := setup(t)
	if err := f.c.Do(context.Background(), insert("prod_taken", 100)); err != nil {
		t.Fatal(err)
	}
	release := f.holdWriter(t)
	jobs := []Job{insert("prod_a", 100), insert("prod_b", 100), insert("prod_free", 0), insert("prod_c", 100),
		insert("prod_taken", 100), insert("prod_d", 100)}
	errs := f.queue(t, nil, jobs)
	release()
	for i, e := range errs {
		err := <-e
		bad := i == 2 || i == 4
		if bad != (err != nil) {
			t.Errorf("job %d: %v", i, err)
		}
		if i == 4 && !database.IsUniqueViolation(err) {
			t.Errorf("job 4: %v, want the UNIQUE violation", err)
		}
	}
	want := []string{"prod_a", "prod_b", "prod_c", "prod_d", "prod_taken"}
	if got := f.products(t); !slices.Equal(got, want) {
		t.Errorf("rows %v, want %v", got, want)
	}
}

// A job that panics fails with the panic as its error; the committer goes on.
func TestPanickingJob(t *testing.T) {
	f := setup(t)
	err := f.c.Do(context.Background(), func(context.Context, *queries.Queries) error { panic("boom") })
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("panicking job: %v", err)
	}
	if err := f.c.Do(context.Background(), insert("prod_after", 100)); err != nil {
		t.Fatalf("the next job: %v", err)
	}
}

// A job whose caller has gone before its batch starts is not run; a job's queries are
// never cut short by its caller's context, which would roll back its batch-mates.
func TestCancelledJob(t *testing.T) {
	f := setup(t)
	release := f.holdWriter(t)
	ctx, cancel := context.WithCancel(context.Background())
	var ran bool
	errs := f.queue(t, []context.Context{context.Background(), ctx}, []Job{insert("prod_first", 100),
		func(ctx context.Context, q *queries.Queries) error { ran = true; return nil }})
	cancel()
	release()
	if err := <-errs[1]; !errors.Is(err, context.Canceled) || ran {
		t.Errorf("cancelled job: %v, ran %v", err, ran)
	}
	if err := <-errs[0]; err != nil {
		t.Fatal(err)
	}

	ctx, cancel = context.WithCancel(context.Background())
	err := f.c.Do(ctx, func(ctx context.Context, q *queries.Queries) error {
		cancel()
		return insert("prod_late", 100)(ctx, q)
	})
	if err != nil {
		t.Errorf("job whose caller left while it ran: %v", err)
	}
	if got := f.products(t); !slices.Equal(got, []string{"prod_first", "prod_late"}) {
		t.Errorf("rows %v", got)
	}
}

// Close runs what is queued; Do fails afterwards.
func TestClose(t *testing.T) {
	f := setup(t)
	release := f.holdWriter(t)
	errs := f.queue(t, nil, []Job{insert("prod_1", 100), insert("prod_2", 100), insert("prod_3", 100)})
	closed := make(chan struct{})
	go func() { f.c.Close(); close(closed) }()
	release()
	<-closed
	for i, e := range errs {
		if err := <-e; err != nil {
			t.Errorf("job %d queued before Close: %v", i, err)
		}
	}
	if err := f.c.Do(context.Background(), insert("prod_4", 100)); !errors.Is(err, ErrClosed) {
		t.Errorf("Do after Close: %v", err)
	}
	if got := len(f.products(t)); got != 3 {
		t.Errorf("%d rows, want 3", got)
	}
}

// A one-statement job runs by itself when it is alone and in the batch's transaction
// otherwise; either way it is committed when Exec returns, and a failing batch-mate does
// not take it down.
func TestExec(t *testing.T) {
	f := setup(t)
	if err := f.c.Exec(context.Background(), insert("prod_alone", 100)); err != nil {
		t.Fatal(err)
	}
	if got := f.products(t); !slices.Equal(got, []string{"prod_alone"}) {
		t.Fatalf("rows %v after a lone Exec", got)
	}
	release := f.holdWriter(t)
	errs := make([]chan error, 3)
	for i := range errs {
		errs[i] = make(chan error, 1)
	}
	waits := f.db.Write.Stats().WaitCount
	go func() { errs[0] <- f.c.Exec(context.Background(), insert("prod_a", 100)) }()
	for f.db.Write.Stats().WaitCount == waits {
		runtime.Gosched()
	}
	go func() { errs[1] <- f.c.Do(context.Background(), insert("prod_bad", 0)) }()
	for len(f.c.jobs) < 1 {
		runtime.Gosched()
	}
	go func() { errs[2] <- f.c.Exec(context.Background(), insert("prod_b", 100)) }()
	for len(f.c.jobs) < 2 {
		runtime.Gosched()
	}
	release()
	for i, e := range errs {
		if err := <-e; (err != nil) != (i == 1) {
			t.Errorf("job %d: %v", i, err)
		}
	}
	if got := f.products(t); !slices.Equal(got, []string{"prod_a", "prod_alone", "prod_b"}) {
		t.Errorf("rows %v", got)
	}
}

// With background checkpoints the WAL starts over every walPages or so: it never grows
// to where the writer's own automatic checkpoint would copy it inside a commit, and
// every row is in the database file once the WAL is copied.
func TestCheckpointsKeepTheWALShort(t *testing.T) {
	f := setup(t)
	f.c.Close()
	const walPages = 200
	var mu sync.Mutex
	var seen []int // the WAL's pages at each checkpoint call
	f.c = NewCheckpointing(f.db.Write, f.q, nil, func(ctx context.Context) (int, error) {
		pages, err := f.db.Checkpoint(ctx)
		mu.Lock()
		seen = append(seen, pages)
		mu.Unlock()
		return pages, err
	}, f.db.WALFrames, walPages)
	t.Cleanup(f.c.Close)

	const clients, writes = 4, 1000
	var wg sync.WaitGroup
	for w := range clients {
		wg.Go(func() {
			for i := range writes {
				if err := f.c.Exec(context.Background(), insert(fmt.Sprintf("prod_%d_%03d", w, i), 100)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	f.c.Close()

	fi, err := os.Stat(f.db.Path() + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	peak := int(fi.Size() / (24 + 4096)) // the file is not cut when the WAL starts over
	// The WAL starts over after each pair of checkpoints (one beside the batches, one
	// between two), so the pages the next pair sees drop: a WAL that never started over
	// would only grow, to every page written (over 3,000 here, at a page a row or more).
	var restarts int
	for i := 2; i < len(seen); i += 2 {
		if seen[i] < seen[i-1] {
			restarts++
		}
	}
	if restarts < 2 {
		t.Errorf("the WAL started over %d times, want at least 2 (checkpoints saw %v)", restarts, seen)
	}
	if _, err := f.db.Checkpoint(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rows := len(f.products(t)); rows != clients*writes {
		t.Errorf("%d rows, want %d", rows, clients*writes)
	}
	t.Logf("the WAL peaked at %d pages, started over %d times; checkpoints saw %v", peak, restarts, seen)
}

// When background copies start, step by step with a WAL the test sizes: once the WAL has
// grown by walPages since it started over, whoever started it over (the committer's own
// copies, another process's last close, the writer's automatic checkpoint), or since
// the last copy if it has not; again after the next batch if another connection was
// checkpointing; and after walPages more if the copy failed. (Copies timed by an
// estimate of pages a batch, from WALs started over behind its back, once drifted
// apart until SQLite's automatic checkpoint ran inside commits.)
func TestCheckpointsStartOnTheWALsSize(t *testing.T) {
	const walPages = 100
	wal := 0
	var outcome copyOutcome // what the next copy returns: -1 if busy, an error, or else the WAL's pages
	ck := &checkpoints{
		fn: func(context.Context) (int, error) {
			if outcome.pages < 0 || outcome.err != nil {
				return outcome.pages, outcome.err
			}
			return wal, nil
		},
		frames: func() (int, error) { return wal, nil },
		pages:  walPages,
		copied: make(chan copyOutcome, 1),
	}
	// batch commits a batch that leaves the WAL at n pages, and reports whether a
	// copy started after it; a started copy returns outcome, and the loop finishes it.
	batch := func(n int) bool {
		wal = n
		ck.committed()
		if !ck.running {
			return false
		}
		ck.finish(<-ck.copied)
		return true
	}
	ok := copyOutcome{pages: 0}
	steps := []struct {
		name    string
		wal     int
		outcome copyOutcome
		start   bool
	}{
		{"short of walPages", 99, ok, false},
		{"walPages", 100, ok, true},
		{"not started over yet", 150, ok, false},
		{"started over by the next write", 10, ok, false},
		{"walPages since it started over", 100, ok, true},
		{"started over by someone else, then grown", 60, ok, false},
		{"someone else's restart does not delay the next copy", 101, ok, true},
		{"another connection checkpointing", 300, copyOutcome{pages: -1}, true},
		{"tried again after the next batch", 305, ok, true},
		{"failed", 500, copyOutcome{pages: -1, err: errors.New("disk I/O error")}, true},
		{"after a failure, not before walPages more", 590, ok, false},
		{"after a failure, walPages more", 600, ok, true},
	}
	for _, s := range steps {
		outcome = s.outcome
		if got := batch(s.wal); got != s.start {
			t.Errorf("%s (WAL at %d, base %d): copy started = %v, want %v", s.name, s.wal, ck.base, got, s.start)
		}
	}
}
