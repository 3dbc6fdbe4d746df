package logging

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeTimer is a flush timer the test fires itself.
type fakeTimer struct {
	mu     sync.Mutex
	f      func()
	resets []time.Duration
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.resets = append(t.resets, d)
	return false
}

func (t *fakeTimer) Stop() bool { return false }

func (t *fakeTimer) armed() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.resets)
}

func (t *fakeTimer) fire() { t.f() }

// recorder keeps every write it gets, each as it came; gate, when set, holds the first
// write until it is closed, after closing entered.
type recorder struct {
	mu      sync.Mutex
	writes  []string
	wrote   chan struct{}
	gate    chan struct{}
	entered chan struct{}
}

func newRecorder() *recorder { return &recorder{wrote: make(chan struct{}, 1<<16)} }

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	gate := r.gate
	r.gate = nil
	r.mu.Unlock()
	if gate != nil {
		close(r.entered)
		<-gate
	}
	r.mu.Lock()
	r.writes = append(r.writes, string(p))
	r.mu.Unlock()
	select {
	case r.wrote <- struct{}{}:
	default: // a wake-up is already pending
	}
	return len(p), nil
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.writes...)
}

// waitWrites waits until n writes have arrived in all.
func (r *recorder) waitWrites(t *testing.T, n int) []string {
	t.Helper()
	for len(r.got()) < n {
		select {
		case <-r.wrote:
		case <-time.After(10 * time.Second):
			t.Fatalf("%d writes, want %d", len(r.got()), n)
		}
	}
	return r.got()
}

func testBuffer(interval time.Duration) (*Buffer, *recorder, *fakeTimer) {
	rec, ft := newRecorder(), &fakeTimer{}
	b := newBuffer(rec, interval, func(f func()) flushTimer { ft.f = f; return ft })
	return b, rec, ft
}

func line(i int) []byte { return fmt.Appendf(nil, "time=x level=INFO msg=request n=%06d\n", i) }

func TestBufferFlushesOnSize(t *testing.T) {
	b, rec, _ := testBuffer(time.Hour)
	defer b.Close()
	var want strings.Builder
	for i := 0; want.Len() < FlushSize; i++ {
		// The timer never fires and the buffer is not yet full: nothing has woken the
		// flusher.
		if w := rec.got(); len(w) != 0 {
			t.Fatalf("written before the buffer held %d bytes: %d writes", FlushSize, len(w))
		}
		b.writeLine(line(i))
		want.Write(line(i))
	}
	if got := rec.waitWrites(t, 1); len(got) != 1 || got[0] != want.String() {
		t.Errorf("%d writes; want one of the %d bytes buffered", len(got), want.Len())
	}
}

func TestBufferFlushesOnInterval(t *testing.T) {
	const interval = 250 * time.Millisecond
	b, rec, ft := testBuffer(interval)
	defer b.Close()
	if n := ft.armed(); n != 0 {
		t.Fatalf("timer armed %d times with nothing buffered", n)
	}
	b.writeLine(line(1))
	b.writeLine(line(2))
	if ft.armed() != 1 || ft.resets[0] != interval {
		t.Fatalf("timer armed %v for two lines into an empty buffer, want once for %v", ft.resets, interval)
	}
	if w := rec.got(); len(w) != 0 {
		t.Fatalf("written before the interval: %q", w)
	}
	ft.fire()
	if got := rec.waitWrites(t, 1); got[0] != string(line(1))+string(line(2)) {
		t.Errorf("flushed %q", got)
	}
	// Idle: nothing buffered, nothing armed, until the next line.
	if n := ft.armed(); n != 1 {
		t.Errorf("timer armed again with an empty buffer: %d", n)
	}
	b.writeLine(line(3))
	if n := ft.armed(); n != 2 {
		t.Errorf("a line into the emptied buffer armed the timer %d times in all, want 2", n)
	}
	ft.fire()
	if got := rec.waitWrites(t, 2); got[1] != string(line(3)) {
		t.Errorf("second flush %q", got[1])
	}
}

// TestBufferCloseWritesEverything: Close writes what waits, and what comes after it is
// written at once, as is a record that is not a request line, after the lines before it.
func TestBufferCloseWritesEverything(t *testing.T) {
	b, rec, _ := testBuffer(time.Hour)
	b.writeLine(line(1))
	b.writeLine(line(2))
	b.Write([]byte("msg=warning\n"))
	if got := rec.got(); len(got) != 1 || got[0] != string(line(1))+string(line(2))+"msg=warning\n" {
		t.Fatalf("a record after two buffered lines: writes %q, want one with all three in order", got)
	}
	b.writeLine(line(3))
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := rec.got(); len(got) != 2 || got[1] != string(line(3)) {
		t.Fatalf("after Close: writes %q", got)
	}
	b.writeLine(line(4))
	if got := rec.got(); len(got) != 3 || got[2] != string(line(4)) {
		t.Errorf("a line after Close was not written at once: %q", got)
	}
	b.Close()
}

func TestBufferIntervalZeroWritesAtOnce(t *testing.T) {
	b, rec, ft := testBuffer(0)
	b.writeLine(line(1))
	if got := rec.got(); len(got) != 1 || got[0] != string(line(1)) {
		t.Errorf("writes %q, want the line at once", got)
	}
	if ft.f != nil {
		t.Error("a timer was made with buffering off")
	}
	b.Close()
}

// TestBufferBackPressure: with the destination stuck, lines wait in memory up to MaxSize;
// the line past that is written synchronously, after everything before it, and nothing
// is dropped.
func TestBufferBackPressure(t *testing.T) {
	b, rec, _ := testBuffer(time.Hour)
	defer b.Close()
	gate := make(chan struct{})
	rec.gate, rec.entered = gate, make(chan struct{})
	open := sync.OnceFunc(func() { close(gate) })
	defer open() // before b.Close, when the test fails early
	var want strings.Builder
	i := 0
	add := func() {
		b.writeLine(line(i))
		want.Write(line(i))
		i++
	}
	for want.Len() < FlushSize {
		add()
	}
	// The flusher is stuck writing the first batch; the next MaxSize bytes go into memory
	// without waiting for it.
	<-rec.entered
	first := want.Len()
	for want.Len()-first+len(line(i)) <= MaxSize {
		add()
	}
	// The next line finds the buffer full: it waits for the destination, and is written
	// when add returns.
	last := string(line(i))
	written := make(chan bool)
	go func() {
		add()
		all := strings.Join(rec.got(), "")
		written <- strings.HasSuffix(all, last)
	}()
	for deadline := time.Now().Add(10 * time.Second); ; runtime.Gosched() {
		b.mu.Lock()
		full := b.full
		b.mu.Unlock()
		if full == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the line past MaxSize was buffered")
		}
	}
	open()
	if !<-written {
		t.Fatal("the line that found the buffer full was not written when writeLine returned")
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got := rec.got()
	if all := strings.Join(got, ""); all != want.String() {
		t.Fatalf("%d writes of %d bytes, want the %d lines (%d bytes) in order", len(got), len(all), i, want.Len())
	}
	// The stuck batch, then what waited and the line that found the buffer full: together,
	// or apart when the flusher took the buffer first.
	if len(got[0]) != first || len(got) > 3 {
		t.Errorf("writes of %d bytes, want %d, then the rest in one or two", lens(got), first)
	}
	for _, w := range got[1:] {
		if len(w) > MaxSize+len(line(0)) {
			t.Errorf("a write of %d bytes: more than MaxSize waited", len(w))
		}
	}
}

// TestHandlerBuffersRequestLines: through a Buffer, a Handler holds back request lines
// only; a 5xx's line and every other record go out at once, after what waited.
func TestHandlerBuffersRequestLines(t *testing.T) {
	for _, json := range []bool{false, true} {
		b, rec, _ := testBuffer(time.Hour)
		h := NewText(b, nil)
		if json {
			h = NewJSON(b, nil)
		}
		l := slog.New(h)
		ok := &Request{Time: time.Now(), Level: slog.LevelInfo, Method: "GET", Route: "/r", Status: 200, ID: "a"}
		LogRequest(context.Background(), l, ok)
		if got := rec.got(); len(got) != 0 {
			t.Fatalf("json=%v: a 200's line was written at once: %q", json, got)
		}
		failed := &Request{Time: time.Now(), Level: slog.LevelError, Method: "GET", Route: "/r", Status: 500, ID: "b"}
		LogRequest(context.Background(), l, failed)
		want := fastLine(t, json, ok) + fastLine(t, json, failed)
		if got := rec.got(); len(got) != 1 || got[0] != want {
			t.Fatalf("json=%v: after a 500: writes %q, want %q", json, got, want)
		}
		LogRequest(context.Background(), l, ok)
		l.Warn("slow disk")
		if got := rec.got(); len(got) != 2 || !strings.HasPrefix(got[1], fastLine(t, json, ok)) || !strings.Contains(got[1], "slow disk") {
			t.Errorf("json=%v: a record after a buffered line: writes %q", json, got)
		}
		b.Close()
	}
}

func lens(ws []string) []int {
	var n []int
	for _, w := range ws {
		n = append(n, len(w))
	}
	return n
}

// TestConcurrentLinesStayWhole: request lines and other records from many goroutines come
// out whole, each goroutine's in its order, with nothing lost, buffered or not.
func TestConcurrentLinesStayWhole(t *testing.T) {
	for _, buffered := range []bool{false, true} {
		t.Run(fmt.Sprintf("buffered=%v", buffered), func(t *testing.T) {
			rec := newRecorder()
			var w interface {
				Write([]byte) (int, error)
			} = rec
			var b *Buffer
			if buffered {
				b = newBuffer(rec, time.Hour, func(func()) flushTimer { return &fakeTimer{} })
				w = b
			}
			l := slog.New(NewText(w, nil))
			var wg sync.WaitGroup
			const goroutines, lines = 8, 2000
			for g := range goroutines {
				wg.Go(func() {
					for i := range lines {
						id := fmt.Sprintf("%d-%d", g, i)
						switch i % 4 {
						case 0, 1:
							LogRequest(context.Background(), l, &Request{Time: time.Now(), Method: "GET",
								Route: "/r", Status: 200, ID: id})
						case 2:
							LogRequest(context.Background(), l, &Request{Time: time.Now(), Level: slog.LevelError,
								Method: "GET", Route: "/r", Status: 500, ID: id})
						default:
							l.Info("other", "id", id)
						}
					}
				})
			}
			wg.Wait()
			if b != nil {
				b.Close()
			}
			next := make([]int, goroutines)
			n := 0
			for _, write := range rec.got() {
				if !strings.HasSuffix(write, "\n") {
					t.Fatalf("a write ends inside a line: %q", write[max(0, len(write)-80):])
				}
				for line := range strings.Lines(write) {
					n++
					var g, i int
					_, id, _ := strings.Cut(line, "id=")
					if _, err := fmt.Sscanf(id, "%d-%d", &g, &i); err != nil {
						t.Fatalf("line %q: %v", line, err)
					}
					if i != next[g] {
						t.Fatalf("goroutine %d: line %d after %d", g, i, next[g]-1)
					}
					next[g]++
				}
			}
			if n != goroutines*lines {
				t.Errorf("%d lines, want %d", n, goroutines*lines)
			}
		})
	}
}

// BenchmarkRequestLineToFile is a request line logged to a file: written at once (one
// write(2) each, -log-flush-interval 0) or buffered, the way `keyport serve` logs.
func BenchmarkRequestLineToFile(b *testing.B) {
	r := &Request{Time: time.Now(), Level: slog.LevelInfo, Method: "POST", Route: "/api/products",
		Status: 201, Duration: 1234567 * time.Nanosecond, ID: "0123456789abcdef"}
	for _, interval := range []time.Duration{0, 100 * time.Millisecond} {
		b.Run(fmt.Sprintf("flush=%v", interval), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			buf := NewBuffer(f, interval)
			l := slog.New(NewText(buf, nil))
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					LogRequest(context.Background(), l, r)
				}
			})
			buf.Close()
		})
	}
}
