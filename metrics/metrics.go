// Package metrics holds keyport's Prometheus metrics in a registry owned by the app, so
// two apps in one process (as in tests) never share counters.
package metrics

import (
	"maps"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Key verification outcomes, the values of keyport_key_verifications_total{outcome}.
const (
	OutcomeOK                = "ok"
	OutcomeMissing           = "missing"
	OutcomeInvalid           = "invalid"
	OutcomeRevoked           = "revoked"
	OutcomeExpired           = "expired"
	OutcomeRateLimited       = "rate_limited"
	OutcomeInsufficientScope = "insufficient_scope"
	// OutcomeError is a verification that could not finish (the database failed).
	OutcomeError = "error"
)

var outcomes = []string{OutcomeOK, OutcomeMissing, OutcomeInvalid, OutcomeRevoked,
	OutcomeExpired, OutcomeRateLimited, OutcomeInsufficientScope, OutcomeError}

// Metrics are the series keyport exports. A nil *Metrics records nothing.
type Metrics struct {
	registry         *prometheus.Registry
	requests         *prometheus.CounterVec
	inFlight         prometheus.Gauge
	latency          *prometheus.HistogramVec
	keyVerifications *prometheus.CounterVec
	productsCreated  prometheus.Counter
	dbErrors         prometheus.Counter
	writeBatch       prometheus.Histogram

	// The series every request records, resolved once: WithLabelValues checks, hashes and
	// looks up its labels under a lock on every call, ~0.2 µs a request each.
	outcomes map[string]prometheus.Counter // read-only after New
	seriesMu sync.Mutex                    // serializes additions to series
	series   atomic.Pointer[map[requestKey]requestSeries]
}

// requestKey names one request series; requestSeries is its counter and histogram.
type requestKey struct {
	method, route string
	status        int
}

type requestSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// maxCachedSeries bounds the cache of request series. Routes are patterns, methods a
// fixed list and statuses the handlers' own, so real traffic stays far below it; past
// it, requests are recorded through WithLabelValues as before.
const maxCachedSeries = 1024

// New builds the metrics on a fresh registry, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyport_http_requests_total",
			Help: "HTTP requests by method, route pattern (\"unmatched\" when no route matched) and status.",
		}, []string{"method", "route", "status"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "keyport_http_requests_in_flight",
			Help: "Requests being handled right now (read, not yet answered).",
		}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "keyport_http_request_duration_seconds",
			Help:    "Time from receiving a request to finishing its response, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route"}),
		keyVerifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyport_key_verifications_total",
			Help: "API key checks on /api routes by outcome.",
		}, []string{"outcome"}),
		productsCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keyport_products_created_total",
			Help: "Products created through the API.",
		}),
		dbErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "keyport_db_errors_total",
			Help: "Requests that failed with a database error or answered 503.",
		}),
		writeBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "keyport_write_batch_size",
			Help:    "Writes (products, key changes, sign-ins and their audit events) committed together in one transaction.",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128},
		}),
	}
	m.registry.MustRegister(
		m.requests, m.inFlight, m.latency, m.keyVerifications, m.productsCreated, m.dbErrors, m.writeBatch,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	// Every outcome is exported from the start, so a rate() over it has a zero to begin at.
	m.outcomes = make(map[string]prometheus.Counter, len(outcomes))
	for _, o := range outcomes {
		m.outcomes[o] = m.keyVerifications.WithLabelValues(o)
	}
	m.series.Store(&map[requestKey]requestSeries{})
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// RequestStarted counts a request as in flight until Request records it finished.
func (m *Metrics) RequestStarted() {
	if m == nil {
		return
	}
	m.inFlight.Inc()
}

// Request records one finished request, started with RequestStarted. route must be a
// pattern, never a raw path, so the number of series stays bounded.
func (m *Metrics) Request(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	m.inFlight.Dec()
	s := m.requestSeries(requestKey{knownMethod(method), route, status})
	s.count.Inc()
	s.latency.Observe(d.Seconds())
}

// requestSeries returns k's series, from the cache once it has been used. The cache is a
// map that is never changed once stored: readers take no lock, and an addition stores
// a copy.
func (m *Metrics) requestSeries(k requestKey) requestSeries {
	if s, ok := (*m.series.Load())[k]; ok {
		return s
	}
	s := requestSeries{
		count:   m.requests.WithLabelValues(k.method, k.route, strconv.Itoa(k.status)),
		latency: m.latency.WithLabelValues(k.route),
	}
	m.seriesMu.Lock()
	defer m.seriesMu.Unlock()
	if old := *m.series.Load(); len(old) < maxCachedSeries {
		next := maps.Clone(old)
		next[k] = s
		m.series.Store(&next)
	}
	return s
}

// KeyVerified records the outcome of one API key check.
func (m *Metrics) KeyVerified(outcome string) {
	if m == nil {
		return
	}
	if c, ok := m.outcomes[outcome]; ok {
		c.Inc()
		return
	}
	m.keyVerifications.WithLabelValues(outcome).Inc()
}

// ProductCreated counts one product created.
func (m *Metrics) ProductCreated() {
	if m == nil {
		return
	}
	m.productsCreated.Inc()
}

// WriteBatch records the size of one committed group of writes (package groupcommit).
func (m *Metrics) WriteBatch(size int) {
	if m == nil {
		return
	}
	m.writeBatch.Observe(float64(size))
}

// DBError counts one request that failed because of the database.
func (m *Metrics) DBError() {
	if m == nil {
		return
	}
	m.dbErrors.Inc()
}

// knownMethod keeps the method label bounded: a client can send any token as a method.
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}
