package testapp

import (
	"syscall"
	"testing"
	"time"
)

// ReportCPU starts counting the process's CPU time (user and system, on every thread, so
// the GC's too); the func it returns, called after b.Loop, reports it per op as
// cpu-ns/op. On a machine shared with other work, ns/op (wall time) also counts the time
// the benchmark waited for a core; cpu-ns/op does not.
func ReportCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() {
		b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
