package metrics

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"
)

// counts reads the request counter and latency histogram back from the registry: the
// counter's value by "method route status", the histogram's sample count and sum by route.
func counts(t *testing.T, m *Metrics) (requests map[string]float64, latency map[string][2]float64) {
	t.Helper()
	families, err := m.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	requests, latency = map[string]float64{}, map[string][2]float64{}
	for _, f := range families {
		for _, s := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range s.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			switch f.GetName() {
			case "keyport_http_requests_total":
				requests[l["method"]+" "+l["route"]+" "+l["status"]] = s.GetCounter().GetValue()
			case "keyport_http_request_duration_seconds":
				h := s.GetHistogram()
				latency[l["route"]] = [2]float64{float64(h.GetSampleCount()), h.GetSampleSum()}
			}
		}
	}
	return requests, latency
}

func TestRequestSeries(t *testing.T) {
	m := New()
	// More distinct series than the cache holds, each recorded from several goroutines
	// at once, so additions race with lookups.
	const routes, goroutines = maxCachedSeries + 100, 4
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range routes {
				m.RequestStarted()
				m.Request("POST", fmt.Sprintf("/r%d", i), 201, time.Duration(g+1)*time.Millisecond)
				m.RequestStarted()
				m.Request("BREW", "/r0", 200+i%3, time.Millisecond)
			}
		})
	}
	wg.Wait()
	if n := len(*m.series.Load()); n != maxCachedSeries {
		t.Errorf("%d series cached, want the bound %d", n, maxCachedSeries)
	}
	requests, latency := counts(t, m)
	if got, want := len(requests), routes+3; got != want {
		t.Errorf("%d request series, want %d", got, want)
	}
	for i := range routes {
		route := fmt.Sprintf("/r%d", i)
		if got := requests["POST "+route+" 201"]; got != goroutines {
			t.Fatalf("POST %s 201 counted %v times, want %d", route, got, goroutines)
		}
		want := [2]float64{goroutines, (1 + 2 + 3 + 4) * 0.001}
		if i == 0 {
			want = [2]float64{goroutines + goroutines*routes, want[1] + goroutines*routes*0.001}
		}
		if got := latency[route]; got[0] != want[0] || fmt.Sprintf("%.6f", got[1]) != fmt.Sprintf("%.6f", want[1]) {
			t.Fatalf("latency of %s = %v, want %v", route, got, want)
		}
	}
	other := map[string]float64{}
	for i := range routes {
		other[fmt.Sprintf("OTHER /r0 %d", 200+i%3)] += goroutines
	}
	// An unknown method is counted as OTHER.
	for series, want := range other {
		if got := requests[series]; got != want {
			t.Errorf("%s counted %v times, want %v", series, got, want)
		}
	}
}

// BenchmarkRequest records one request's series, from the cache ("cached") and as it was
// recorded before the cache ("labels").
func BenchmarkRequest(b *testing.B) {
	m := New()
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			m.RequestStarted()
			m.Request("POST", "/api/products", 201, time.Millisecond)
			m.KeyVerified(OutcomeOK)
		}
	})
	b.Run("labels", func(b *testing.B) {
		for b.Loop() {
			m.RequestStarted()
			m.inFlight.Dec()
			m.requests.WithLabelValues(knownMethod("POST"), "/api/products", strconv.Itoa(201)).Inc()
			m.latency.WithLabelValues("/api/products").Observe(time.Millisecond.Seconds())
			m.keyVerifications.WithLabelValues(OutcomeOK).Inc()
		}
	})
}
