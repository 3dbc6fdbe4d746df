package logging

import (
	"io"
	"sync"
	"time"
)

// Buffer holds request lines in memory and writes them out in batches, as Envoy's file
// access log (flushed every second) and nginx's `access_log … buffer= flush=` do: one
// write(2) for many lines instead of one for each, which cost a request ~1.7 µs. A batch
// goes out when the buffer holds FlushSize bytes, or when its oldest line is one
// interval old, or at Close. Until then the lines are only in memory: a process killed
// without Close (kill -9) loses at most the last interval's request lines.
//
// Everything else a Handler logs (startup, warnings, errors, the request lines of 5xx
// answers) is written at once, after the lines buffered before it, so the order of
// the log is the order of the calls. A line never waits longer than it would unbuffered:
// when MaxSize bytes wait (the destination is slower than the requests), the line is
// written synchronously, with the buffer before it — back-pressure, never a dropped line.
type Buffer struct {
	w        io.Writer
	interval time.Duration

	// wmu is held for each write to w, and while its batch is taken from buf: batches go
	// out in the order their lines came in.
	wmu sync.Mutex

	mu     sync.Mutex
	buf    []byte // lines not yet written, oldest first
	spare  []byte // an empty buffer, for the next swap
	closed bool
	timer  flushTimer // armed when a line enters an empty buf
	full   int        // lines that found buf full and were written synchronously

	wake chan struct{} // cap 1: buf is due, by size or age
	stop chan struct{} // closed by Close
	done chan struct{} // closed when the flusher has written the last batch
	once sync.Once
}

// FlushSize is the batch size that wakes the flusher; MaxSize is the most a Buffer holds
// before writers write synchronously.
const (
	FlushSize = 32 << 10
	MaxSize   = 4 * FlushSize
)

// flushTimer is the part of *time.Timer a Buffer uses; tests fire their own.
type flushTimer interface {
	Reset(time.Duration) bool
	Stop() bool
}

// NewBuffer returns a Buffer writing to w. An interval of 0 or less turns buffering off:
// every line is written at once, as unbuffered. Close it to write what it holds.
func NewBuffer(w io.Writer, interval time.Duration) *Buffer {
	return newBuffer(w, interval, func(f func()) flushTimer {
		t := time.AfterFunc(time.Hour, f)
		t.Stop()
		return t
	})
}

func newBuffer(w io.Writer, interval time.Duration, newTimer func(func()) flushTimer) *Buffer {
	b := &Buffer{w: w, interval: interval, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if interval <= 0 {
		b.closed = true
		close(b.done)
		return b
	}
	b.timer = newTimer(b.due)
	go b.run()
	return b
}

// Write writes p now, after the lines buffered before it.
func (b *Buffer) Write(p []byte) (int, error) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.mu.Lock()
	if len(b.buf) == 0 {
		b.mu.Unlock()
		return b.w.Write(p)
	}
	// One write for what waits and p.
	out := append(b.take(), p...)
	b.mu.Unlock()
	_, err := b.w.Write(out)
	b.giveBack(out)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// writeLine buffers the request line p (a whole line), or writes it at once when
// buffering is off or the buffer is full. A failed write is not reported, as slog's
// handlers report none to the code that logs.
func (b *Buffer) writeLine(p []byte) {
	b.mu.Lock()
	if b.closed || len(b.buf)+len(p) > MaxSize {
		if !b.closed {
			b.full++
		}
		b.mu.Unlock()
		b.Write(p)
		return
	}
	if len(b.buf) == 0 {
		b.timer.Reset(b.interval)
	}
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= FlushSize
	b.mu.Unlock()
	if full {
		b.due()
	}
}

// due wakes the flusher.
func (b *Buffer) due() {
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

func (b *Buffer) run() {
	defer close(b.done)
	for {
		select {
		case <-b.wake:
			b.flush()
		case <-b.stop:
			b.flush()
			return
		}
	}
}

// flush writes what the buffer holds.
func (b *Buffer) flush() {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	b.mu.Lock()
	out := b.take()
	b.mu.Unlock()
	if len(out) > 0 {
		b.w.Write(out)
	}
	b.giveBack(out)
}

// take empties buf and returns what it held; b.mu and b.wmu are held. The buffer taken
// comes back through giveBack once written, before b.wmu is released, so two buffers
// serve every batch.
func (b *Buffer) take() []byte {
	out := b.buf
	b.buf, b.spare = b.spare[:0], nil
	return out
}

func (b *Buffer) giveBack(out []byte) {
	if cap(out) > 2*MaxSize { // a huge stack trace went out with a batch: don't keep it
		return
	}
	b.mu.Lock()
	b.spare = out[:0]
	b.mu.Unlock()
}

// Close writes every buffered line and stops the flusher; lines written after it go out
// at once. It returns after the last write.
func (b *Buffer) Close() error {
	b.once.Do(func() {
		b.mu.Lock()
		if !b.closed {
			b.closed = true
			b.timer.Stop()
			close(b.stop)
		}
		b.mu.Unlock()
	})
	<-b.done
	return nil
}
