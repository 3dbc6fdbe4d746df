package gctune

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestPercent(t *testing.T) {
	const MiB = 1 << 20
	tests := []struct {
		name               string
		floor, live, roots uint64
		want               int
	}{
		{"nothing measured yet", 16 * MiB, 0, 0, 100},
		{"small heap: goal at the floor", 16 * MiB, 6 * MiB, 0, 167},
		{"roots count as the runtime counts them", 16 * MiB, 5 * MiB, 3 * MiB, 138},
		{"rounded up to reach the floor", 16 * MiB, 7 * MiB, 0, 129},
		{"twice the live heap is past the floor", 16 * MiB, 9 * MiB, 0, 100},
		{"exactly half the floor", 16 * MiB, 8 * MiB, 0, 100},
		{"live heap past the floor", 16 * MiB, 40 * MiB, MiB, 100},
		{"tiny heap: the runtime's 4 MiB minimum reaches the floor", 16 * MiB, 1 << 10, 1 << 10, 400},
		{"tiny heap, huge floor", 1 << 60, 1, 0, 1<<31 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Percent(tt.floor, tt.live, tt.roots)
			if got != tt.want {
				t.Errorf("Percent(%d, %d, %d) = %d, want %d", tt.floor, tt.live, tt.roots, got, tt.want)
			}
			if got > 100 && got < 1<<31-1 {
				goal := max(tt.live+(tt.live+tt.roots)*uint64(got)/100, heapMinimum*uint64(got)/100)
				if goal < tt.floor || goal > tt.floor+max(tt.live+tt.roots, heapMinimum)/100 {
					t.Errorf("goal %d, want the floor %d (within 1%% of live+roots)", goal, tt.floor)
				}
			}
		})
	}
}

func TestStartDoesNothingWhenOff(t *testing.T) {
	if f := Start(0, false); f != nil {
		t.Errorf("Start(0) = %v, want nil (off)", f)
	}
	if f := Start(64<<20, true); f != nil {
		t.Errorf("Start with GOGC set = %v, want nil (the operator's GOGC stands)", f)
	}
	var f *Floor
	f.Stop() // the off Floor's Stop is a no-op
}

// TestGoalFollowsTheLiveHeap runs the real runtime: with a small live heap the goal sits
// at the floor; holding more than half the floor live gives GOGC=100's goal; letting it
// go brings the floor back; Stop restores GOGC.
func TestGoalFollowsTheLiveHeap(t *testing.T) {
	const floor = 64 << 20
	tuned := make(chan Tuned, 64)
	f := start(floor, false, func(t Tuned) {
		select {
		case tuned <- t:
		default:
		}
	})
	t.Cleanup(f.Stop)
	// afterGC runs on the finalizer goroutine after a cycle; wait for the tuning that
	// saw a live heap on the wanted side of limit (each cycle finalizes the sentinel once,
	// so a cycle or two is enough; the loop only skips tunings of earlier cycles).
	after := func(above bool, limit uint64) Tuned {
		t.Helper()
		for range 20 {
			runtime.GC()
			for {
				got := <-tuned
				if (got.Live >= limit) == above {
					return got
				}
				if len(tuned) == 0 {
					break
				}
			}
		}
		t.Fatalf("no tuning saw a live heap %s %d bytes in 20 cycles", map[bool]string{true: "≥", false: "<"}[above], limit)
		return Tuned{}
	}

	small := after(false, 8<<20)
	if small.Percent <= 100 {
		t.Errorf("live %d bytes: GOGC %d, want above 100", small.Live, small.Percent)
	}
	if small.Goal < floor || small.Goal > floor+floor/20 {
		t.Errorf("live %d bytes: goal %d, want the floor %d", small.Live, small.Goal, floor)
	}

	hold := make([]byte, 48<<20)
	for i := range hold {
		hold[i] = byte(i)
	}
	big := after(true, 48<<20)
	if big.Percent != 100 {
		t.Errorf("live %d bytes: GOGC %d, want 100", big.Live, big.Percent)
	}
	if big.Goal < 2*big.Live {
		t.Errorf("live %d bytes: goal %d, want at least twice the live heap", big.Live, big.Goal)
	}
	runtime.KeepAlive(hold)
	hold = nil

	again := after(false, 8<<20)
	if again.Goal < floor || again.Goal > floor+floor/20 {
		t.Errorf("live heap let go (%d bytes): goal %d, want the floor %d again", again.Live, again.Goal, floor)
	}

	f.Stop()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("after Stop GOGC = %d, want 100 (what it was at Start)", got)
	}
}
