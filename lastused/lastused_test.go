package lastused

import (
	"keyport/internal/slotbench"
	"sync"
	"testing"
	"time"
)

func TestNoteDoesNotAllocate(t *testing.T) {
	r := New(nil, nil)
	now := time.Now()
	r.Note("key_a", now)
	if n := testing.AllocsPerRun(1000, func() { r.Note("key_a", now) }); n != 0 {
		t.Fatalf("Note allocates %v times per call, want 0", n)
	}
	var slot Slot
	r.NoteVia(&slot, "key_a", now)
	if n := testing.AllocsPerRun(1000, func() { r.NoteVia(&slot, "key_a", now) }); n != 0 {
		t.Fatalf("NoteVia allocates %v times per call, want 0", n)
	}
}

var t0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

// A slot whose entry was dropped (idle past its minute) must not note into it: the use
// must reach the next flush.
func TestNoteViaAfterTheKeyIsDropped(t *testing.T) {
	r := New(nil, nil)
	var slot Slot
	r.NoteVia(&slot, "key_a", t0)
	if batch := r.take(t0.UnixMilli(), false); len(batch) != 1 {
		t.Fatalf("first take = %v, want the one use", batch)
	}
	if batch := r.take(t0.Add(2*MinWriteInterval).UnixMilli(), false); len(batch) != 0 || len(r.keys) != 0 {
		t.Fatalf("idle take = %v with %d keys kept, want nothing and the key dropped", batch, len(r.keys))
	}
	t1 := t0.Add(3 * MinWriteInterval)
	r.NoteVia(&slot, "key_a", t1)
	if batch := r.take(t1.UnixMilli(), false); len(batch) != 1 || batch[0].at != t1.UnixMilli() {
		t.Fatalf("take after the use through the old slot = %v, want key_a at %d", batch, t1.UnixMilli())
	}
}

// Uses noted through slots while flushes take them: the latest use of each key is
// written or still pending, never lost.
func TestNoteViaWhileTaking(t *testing.T) {
	r := New(nil, nil)
	keys := []string{"key_a", "key_b", "key_c"}
	const uses = 2000
	var wg sync.WaitGroup
	stop := make(chan struct{})
	taken := make(chan []use, 1)
	go func() {
		var all []use
		for now := t0; ; now = now.Add(MinWriteInterval) {
			all = append(all, r.take(now.UnixMilli(), false)...)
			select {
			case <-stop:
				taken <- append(all, r.take(now.UnixMilli(), true)...)
				return
			default:
			}
		}
	}()
	for g := range 6 {
		wg.Go(func() {
			var slot Slot
			k := g % len(keys)
			for i := range uses {
				at := t0.Add(time.Duration(i) * time.Millisecond)
				if g >= len(keys) {
					r.Note(keys[k], at)
				} else {
					r.NoteVia(&slot, keys[k], at)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	latest := map[string]int64{}
	for _, u := range <-taken {
		latest[u.id] = max(latest[u.id], u.at)
	}
	for _, id := range keys {
		if got, want := latest[id], t0.Add((uses-1)*time.Millisecond).UnixMilli(); got != want {
			t.Errorf("%s: latest use written %d, want %d", id, got, want)
		}
	}
}

// BenchmarkNote notes uses of 1,000 keys from every core: looked up each time, and
// through each key's slot as the key cache holds them.
func BenchmarkNote(b *testing.B) {
	now := time.Now()
	slotbench.Run(b, 1000, func() (func(string), func(*Slot, string)) {
		r := New(nil, nil)
		return func(k string) { r.Note(k, now) }, func(s *Slot, k string) { r.NoteVia(s, k, now) }
	})
}
