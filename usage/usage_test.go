package usage_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"keyport/database"
	"keyport/queries"
	"keyport/testapp"
	"keyport/usage"
)

func open(t *testing.T) (*usage.Counter, *queries.Queries) { return openTB(t) }

// openTB is a Counter on a fresh database file.
func openTB(t testing.TB) (*usage.Counter, *queries.Queries) {
	t.Helper()
	db, err := database.Open(context.Background(), testapp.MigratedDB(t, testapp.Assets(t).Migrations), testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// Prepared, as the app prepares its writer's queries.
	q, err := queries.Prepare(context.Background(), db.Write)
	if err != nil {
		t.Fatal(err)
	}
	return usage.New(db.Write, q), q
}

// stored reads key id's hourly counts from the database.
func stored(t *testing.T, q *queries.Queries, id string) map[time.Time]usage.Counts {
	t.Helper()
	rows, err := q.ListKeyUsage(context.Background(), queries.ListKeyUsageParams{KeyID: id})
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[time.Time]usage.Counts)
	for _, r := range rows {
		out[time.UnixMilli(r.HourStart).UTC()] = usage.Counts{r.Valid, r.RateLimited, r.InsufficientScope, r.Revoked, r.Expired}
	}
	return out
}

func flush(t *testing.T, c *usage.Counter, wantRows int) {
	t.Helper()
	if n, err := c.Flush(context.Background()); err != nil || n != wantRows {
		t.Fatalf("Flush = %d, %v; want %d rows", n, err, wantRows)
	}
}

var h0 = time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC)

// Each flush writes one row per key and hour, whatever the number of verifications, and a
// later flush adds to what an earlier one wrote.
func TestFlushAddsOneRowPerKeyAndHour(t *testing.T) {
	c, q := open(t)
	for range 500 {
		c.Count("key_a", usage.Valid, h0.Add(10*time.Minute))
	}
	c.Count("key_a", usage.RateLimited, h0.Add(59*time.Minute+59*time.Second))
	c.Count("key_a", usage.Revoked, h0.Add(time.Hour)) // the next hour, and the next UTC day
	c.Count("key_b", usage.InsufficientScope, h0)
	c.Count("key_b", usage.Expired, h0.Add(30*time.Minute))
	flush(t, c, 3)
	if got, want := c.Writes(), int64(3); got != want {
		t.Fatalf("Writes = %d, want %d", got, want)
	}
	flush(t, c, 0)

	for range 7 {
		c.Count("key_a", usage.Valid, h0.Add(20*time.Minute))
	}
	flush(t, c, 1)
	if got, want := stored(t, q, "key_a"), map[time.Time]usage.Counts{
		h0:                {507, 1, 0, 0, 0},
		h0.Add(time.Hour): {0, 0, 0, 1, 0},
	}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("key_a = %v, want %v", got, want)
	}
	if got, want := stored(t, q, "key_b"), map[time.Time]usage.Counts{h0: {0, 0, 1, 0, 1}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("key_b = %v, want %v", got, want)
	}
}

// A failed flush loses nothing and the retry counts nothing twice, also with counts
// added to the same buckets in between, and over more than one transaction's rows.
func TestFailedFlushIsRetriedExactly(t *testing.T) {
	c, q := open(t)
	const keys = 250
	for i := range keys {
		c.Count(fmt.Sprintf("key_%03d", i), usage.Valid, h0)
	}
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	if n, err := c.Flush(canceled); err == nil || n != 0 {
		t.Fatalf("Flush with a canceled context = %d, %v; want 0 and an error", n, err)
	}
	if got, want := c.Pending(), keys; got != want {
		t.Fatalf("after the failure: %d pending, want %d", got, want)
	}
	for i := range keys {
		c.Count(fmt.Sprintf("key_%03d", i), usage.RateLimited, h0)
	}
	flush(t, c, keys)
	for i := range keys {
		id := fmt.Sprintf("key_%03d", i)
		if got, want := stored(t, q, id), (map[time.Time]usage.Counts{h0: {1, 1, 0, 0, 0}}); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s = %v, want %v", id, got, want)
		}
	}
}

// Memory is bounded: reaching FlushAt makes a flush due, and past MaxPending new buckets
// are dropped (and counted as dropped) while existing ones still count.
func TestPendingIsBounded(t *testing.T) {
	c, q := open(t)
	c.FlushAt, c.MaxPending = 3, 5
	c.Count("key_1", usage.Valid, h0)
	c.Count("key_2", usage.Valid, h0)
	select {
	case <-c.Due():
		t.Fatal("due with 2 buckets pending, FlushAt 3")
	default:
	}
	c.Count("key_3", usage.Valid, h0)
	select {
	case <-c.Due():
	default:
		t.Fatal("not due with 3 buckets pending, FlushAt 3")
	}
	for i := 4; i <= 7; i++ {
		c.Count(fmt.Sprintf("key_%d", i), usage.Valid, h0)
	}
	c.Count("key_1", usage.Valid, h0)
	if got, want := c.Pending(), 5; got != want {
		t.Fatalf("Pending = %d, want %d", got, want)
	}
	if got, want := c.Dropped(), int64(2); got != want {
		t.Fatalf("Dropped = %d, want %d", got, want)
	}
	flush(t, c, 5)
	if got := stored(t, q, "key_1")[h0][usage.Valid]; got != 2 {
		t.Fatalf("key_1 valid = %d, want 2", got)
	}
	c.Count("key_6", usage.Valid, h0)
	if got, want := c.Pending(), 1; got != want {
		t.Fatalf("after the flush: Pending = %d, want %d", got, want)
	}
}

func TestPruneKeepsNinetyDays(t *testing.T) {
	c, q := open(t)
	now := h0.Add(30 * time.Minute)
	old := now.Add(-usage.Retention - time.Hour)
	kept := now.Add(-usage.Retention + time.Hour)
	c.Count("key_a", usage.Valid, old)
	c.Count("key_a", usage.Valid, kept)
	flush(t, c, 2)
	if n, err := c.Prune(context.Background(), now); err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1 row", n, err)
	}
	got := stored(t, q, "key_a")
	if _, ok := got[kept.Truncate(time.Hour)]; !ok || len(got) != 1 {
		t.Fatalf("after pruning: %v, want only the hour of %v", got, kept)
	}
}

// A nil Counter is counting turned off: it counts and writes nothing.
func TestNilCounterCountsNothing(t *testing.T) {
	var c *usage.Counter
	c.Count("key_a", usage.Valid, h0)
	if n, err := c.Flush(context.Background()); n != 0 || err != nil {
		t.Fatalf("Flush = %d, %v", n, err)
	}
}

func TestWindows(t *testing.T) {
	now := time.Date(2026, 12, 1, 0, 30, 0, 0, time.UTC)
	rows := []queries.KeyUsage{
		{HourStart: now.Add(-49 * time.Hour).Truncate(time.Hour).UnixMilli(), Valid: 100}, // before 2 days' hours and 3 days
		{HourStart: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC).UnixMilli(), Valid: 10},
		{HourStart: time.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC).UnixMilli(), Valid: 1, Expired: 2},
		{HourStart: time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC).UnixMilli(), RateLimited: 3},
		{HourStart: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC).UnixMilli(), Revoked: 4, InsufficientScope: 5},
	}
	for _, tc := range []struct {
		days  int
		start time.Time
		step  time.Duration
		n     int
		total usage.Counts
		last  usage.Counts
	}{
		{1, time.Date(2026, 11, 30, 1, 0, 0, 0, time.UTC), time.Hour, 24, usage.Counts{1, 3, 5, 4, 2}, usage.Counts{0, 0, 5, 4, 0}},
		{2, time.Date(2026, 11, 29, 1, 0, 0, 0, time.UTC), time.Hour, 48, usage.Counts{11, 3, 5, 4, 2}, usage.Counts{0, 0, 5, 4, 0}},
		{3, time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC), 24 * time.Hour, 3, usage.Counts{11, 3, 5, 4, 2}, usage.Counts{0, 0, 5, 4, 0}},
		{90, time.Date(2026, 9, 3, 0, 0, 0, 0, time.UTC), 24 * time.Hour, 90, usage.Counts{111, 3, 5, 4, 2}, usage.Counts{0, 0, 5, 4, 0}},
	} {
		w := usage.LastDays(now, tc.days)
		if w.Start != tc.start || w.Step != tc.step || w.N != tc.n {
			t.Errorf("LastDays(%d) = %v, %v, %d; want %v, %v, %d", tc.days, w.Start, w.Step, w.N, tc.start, tc.step, tc.n)
			continue
		}
		b := w.Sum(rows)
		if len(b) != tc.n {
			t.Fatalf("days %d: %d buckets, want %d", tc.days, len(b), tc.n)
		}
		for i := range b {
			if want := tc.start.Add(time.Duration(i) * tc.step); !b[i].Start.Equal(want) {
				t.Fatalf("days %d: bucket %d starts %v, want %v", tc.days, i, b[i].Start, want)
			}
		}
		if got := usage.Total(b); got != tc.total {
			t.Errorf("days %d: total %v, want %v", tc.days, got, tc.total)
		}
		if got := b[len(b)-1].Counts; got != tc.last {
			t.Errorf("days %d: last bucket %v, want %v", tc.days, got, tc.last)
		}
	}
}

func TestWarnings(t *testing.T) {
	for _, tc := range []struct {
		c          usage.Counts
		rate, rejs bool
	}{
		{usage.Counts{}, false, false},
		{usage.Counts{9, 1, 0, 0, 0}, false, false}, // exactly 10%: not over
		{usage.Counts{8, 2, 0, 0, 0}, true, false},
		{usage.Counts{18, 0, 1, 1, 0}, false, false},
		{usage.Counts{16, 1, 2, 1, 0}, false, true},
		{usage.Counts{0, 0, 0, 0, 1}, false, true},
		{usage.Counts{1, 5, 0, 5, 0}, true, true},
	} {
		if rate, rejs := tc.c.Warnings(); rate != tc.rate || rejs != tc.rejs {
			t.Errorf("%v.Warnings() = %v, %v; want %v, %v", tc.c, rate, rejs, tc.rate, tc.rejs)
		}
	}
}

// Counts through a slot land in the right hour's row, also across an hour, and after the
// key's record was dropped (a flush interval without counts) the slot's counts still reach
// the database.
func TestCountVia(t *testing.T) {
	c, q := open(t)
	var slot usage.Slot
	c.CountVia(&slot, "key_a", usage.Valid, h0)
	c.CountVia(&slot, "key_a", usage.Valid, h0.Add(59*time.Minute))
	c.CountVia(&slot, "key_a", usage.RateLimited, h0.Add(time.Hour))
	c.Count("key_a", usage.Expired, h0.Add(time.Hour))
	if got, want := c.Pending(), 2; got != want {
		t.Fatalf("Pending = %d, want %d", got, want)
	}
	flush(t, c, 2)
	flush(t, c, 0) // no counts since: the record goes
	c.CountVia(&slot, "key_a", usage.InsufficientScope, h0.Add(time.Hour))
	flush(t, c, 1)
	want := map[time.Time]usage.Counts{h0: {2, 0, 0, 0, 0}, h0.Add(time.Hour): {0, 1, 1, 0, 1}}
	if got := stored(t, q, "key_a"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stored = %v, want %v", got, want)
	}
	if got := c.Pending(); got != 0 {
		t.Fatalf("Pending = %d after the flushes, want 0", got)
	}
}

// Counts through slots and without, from many goroutines, while flushes run and records
// come and go: every count is written once.
func TestCountViaWhileFlushing(t *testing.T) {
	c, q := open(t)
	keys := []string{"key_a", "key_b", "key_c"}
	const perG = 3000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	flushed := make(chan error, 1)
	go func() {
		for {
			select {
			case <-stop:
				_, err := c.Flush(context.Background())
				flushed <- err
				return
			default:
				if _, err := c.Flush(context.Background()); err != nil {
					flushed <- err
					return
				}
			}
		}
	}()
	for g := range 6 {
		wg.Go(func() {
			var slot usage.Slot
			id := keys[g%len(keys)]
			for i := range perG {
				at := h0.Add(time.Duration(i) * time.Second) // crosses into the next hour
				if g < len(keys) {
					c.CountVia(&slot, id, usage.Valid, at)
				} else {
					c.Count(id, usage.Valid, at)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	if err := <-flushed; err != nil {
		t.Fatal(err)
	}
	for _, id := range keys {
		var total int64
		for _, n := range stored(t, q, id) {
			total += n.Total()
		}
		if total != 2*perG {
			t.Errorf("%s: %d counts stored, want %d", id, total, 2*perG)
		}
	}
	if got := c.Pending(); got != 0 {
		t.Errorf("Pending = %d, want 0", got)
	}
}
