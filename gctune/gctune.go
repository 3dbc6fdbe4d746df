// Package gctune keeps the garbage collector's heap goal from falling below a floor.
//
// With GOGC=100 the runtime lets the heap grow to about twice what the last cycle found
// live. keyport's live heap is a few MB with a small database, so the collector runs
// every few MB allocated and costs about a tenth of a cheap request; with a million keys
// the live heap is larger and the same request is cheaper. A floor under the goal makes
// small heaps collect as rarely as a large one would, and above the floor changes
// nothing: GOGC=100 as before. This is the "GOGC tuner" Uber described
// (https://www.uber.com/blog/how-we-saved-70k-cores-across-30-mission-critical-services/):
// after every cycle, set GOGC so that the next goal is max(floor, what GOGC=100 gives).
package gctune

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Percent is the GOGC value that puts the next heap goal at max(floor, the goal
// GOGC=100 gives), for a heap whose last cycle marked live bytes and whose other GC
// roots (goroutine stacks, globals) are roots bytes. The runtime's goal is
// live + (live+roots)×GOGC/100, but never below its minimum heap, 4 MiB×GOGC/100
// (runtime/mgcpacer.go): for a tiny heap that minimum is what reaches the floor.
func Percent(floor, live, roots uint64) int {
	base := live + roots
	if base == 0 || live >= floor {
		return 100
	}
	// Round up, so the goal reaches the floor rather than stopping a few bytes short.
	p := ((floor-live)*100 + base - 1) / base
	if byMinimum := (floor*100 + heapMinimum - 1) / heapMinimum; p > byMinimum {
		p = byMinimum
	}
	if p <= 100 {
		return 100
	}
	return int(min(p, math.MaxInt32))
}

// heapMinimum is the runtime's minimum heap goal at GOGC=100 (defaultHeapMinimum).
const heapMinimum = 4 << 20

// Floor re-tunes GOGC after every GC cycle, from a finalizer the runtime runs once a
// cycle has found the floor's sentinel unreachable again.
type Floor struct {
	floor  uint64
	before int // GOGC when Start was called, restored by Stop
	cycle  func(Tuned)

	mu      sync.Mutex // tune against Stop
	stopped bool
	samples []metrics.Sample
}

// Tuned is what one tuning read and set; tests watch it.
type Tuned struct {
	Live, Roots uint64 // what the last cycle marked, and its stacks and globals
	Percent     int    // the GOGC set
	Goal        uint64 // the runtime's heap goal after it
}

// sentinel has a pointer so that it is not a tiny allocation, whose finalizer might
// never run.
type sentinel struct{ f *Floor }

// Start keeps the heap goal at least floor bytes until Stop. It does nothing (and
// returns nil, whose Stop is a no-op) when floor is 0 or when explicitGOGC is true: an
// operator who set GOGC chose the trade-off. A memory limit (GOMEMLIMIT) still bounds
// the heap as always; the floor never raises the goal past it.
func Start(floor uint64, explicitGOGC bool) *Floor {
	return start(floor, explicitGOGC, nil)
}

func start(floor uint64, explicitGOGC bool, cycle func(Tuned)) *Floor {
	if floor == 0 || explicitGOGC {
		return nil
	}
	f := &Floor{
		floor: floor,
		cycle: cycle,
		samples: []metrics.Sample{
			{Name: "/gc/heap/live:bytes"},
			{Name: "/gc/scan/stack:bytes"},
			{Name: "/gc/scan/globals:bytes"},
			{Name: "/gc/heap/goal:bytes"},
		},
	}
	f.before = debug.SetGCPercent(100)
	f.tune()
	runtime.SetFinalizer(&sentinel{f}, afterGC)
	return f
}

func afterGC(s *sentinel) {
	if s.f.tune() {
		runtime.SetFinalizer(s, afterGC)
	}
}

// tune reads what the last cycle found and sets GOGC for the next goal; false once
// stopped.
func (f *Floor) tune() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped {
		return false
	}
	// The goal (the last sample) is read only for a test, after it has been set.
	read := f.samples[:3]
	metrics.Read(read)
	var v [3]uint64
	for i, s := range read {
		if s.Value.Kind() == metrics.KindUint64 {
			v[i] = s.Value.Uint64()
		}
	}
	t := Tuned{Live: v[0], Roots: v[1] + v[2]}
	t.Percent = Percent(f.floor, t.Live, t.Roots)
	debug.SetGCPercent(t.Percent)
	if f.cycle != nil {
		metrics.Read(f.samples[3:])
		t.Goal = f.samples[3].Value.Uint64()
		f.cycle(t)
	}
	return true
}

// Stop ends the tuning and puts back the GOGC that was in force at Start.
func (f *Floor) Stop() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.stopped {
		f.stopped = true
		debug.SetGCPercent(f.before)
	}
}
