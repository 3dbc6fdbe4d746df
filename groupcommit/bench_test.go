package groupcommit

import (
	"context"
	"crypto/sha256"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"keyport/database"
	"keyport/queries"
	"keyport/randid"
)

// BenchmarkCommitter has 32 clients insert products through one committer, each doing
// some CPU work of its own before each write as a request would (parsing, answering), so
// that on a machine of few cores writes arrive no faster than the clients make them. It
// reports the process's CPU time a write, the mean batch, and the clients' latency.
func BenchmarkCommitter(b *testing.B) {
	for _, bc := range []struct {
		name       string
		work       int // SHA-256 blocks a client hashes before each write (450: ~40 µs)
		background bool
	}{
		{"work=0", 0, false},
		{"work=0/checkpoints=background", 0, true},
		{"work=40us", 450, false},
		{"work=40us/checkpoints=background", 450, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			f := setup(b)
			var writes, commits atomic.Int64
			observe := func(n int) { writes.Add(int64(n)); commits.Add(1) }
			f.c.Close()
			if bc.background {
				f.c = NewCheckpointing(f.db.Write, f.q, observe, f.db.Checkpoint, f.db.WALFrames, database.CheckpointFrames)
			} else {
				f.c = New(f.db.Write, f.q, observe)
			}
			b.Cleanup(f.c.Close)
			ctx := context.Background()
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(16)
			cpu := cpuTime()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var buf [32]byte
				var mine []time.Duration
				for pb.Next() {
					for range bc.work {
						buf = sha256.Sum256(buf[:])
					}
					start := time.Now()
					err := f.c.Exec(ctx, func(ctx context.Context, q *queries.Queries) error {
						return q.CreateProduct(ctx, queries.CreateProductParams{ID: randid.Ordered("prod", start), OrgID: "org_1", Name: "Widget", PriceCents: 999, CreatedAt: 1})
					})
					mine = append(mine, time.Since(start))
					if err != nil {
						b.Error(err)
						return
					}
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
			if c := commits.Load(); c > 0 {
				b.ReportMetric(float64(writes.Load())/float64(c), "writes/commit")
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds()), "max-µs")
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
