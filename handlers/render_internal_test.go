package handlers

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
)

// A page written in pieces of every size, across chunk boundaries, is sent as written;
// a send that fails part way hands back the chunks it did not send.
func TestPageBuffer(t *testing.T) {
	pool := sync.Pool{New: func() any { return new([pageChunk]byte) }}
	for _, size := range []int{0, 1, pageChunk - 1, pageChunk, pageChunk + 1, 3*pageChunk + 17} {
		want := make([]byte, size)
		for i := range want {
			want[i] = byte(rand.IntN(256))
		}
		b := &pageBuffer{pool: &pool}
		for p := want; len(p) > 0; {
			n := min(len(p), 1+rand.IntN(5000))
			if got, err := b.Write(p[:n]); got != n || err != nil {
				t.Fatalf("Write(%d bytes) = %d, %v", n, got, err)
			}
			p = p[n:]
		}
		var got bytes.Buffer
		if err := b.send(&got); err != nil {
			t.Fatal(err)
		}
		b.release()
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%d bytes written, %d sent, or different bytes", size, got.Len())
		}
	}

	b := &pageBuffer{pool: &pool}
	b.Write(make([]byte, 3*pageChunk))
	w := &failingWriter{after: 1}
	if err := b.send(w); !errors.Is(err, errClosed) {
		t.Fatalf("send: %v, want errClosed", err)
	}
	b.release()
	if b.chunks != nil {
		t.Error("chunks kept after release")
	}
}

var errClosed = errors.New("closed")

// failingWriter takes after writes, then fails.
type failingWriter struct{ after int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after == 0 {
		return 0, errClosed
	}
	w.after--
	return len(p), nil
}
