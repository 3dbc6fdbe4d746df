package main

import (
	"strings"
	"testing"
	"time"
)

// The same row runs on both engines: each keyport row must be read against the baseline
// measured on its own engine, and each engine's datasets compared with each other only.
func TestRowsCompareWithinTheirEngine(t *testing.T) {
	row := func(engine, dataset, server string, rps float64) result {
		r := result{Engine: engine, Dataset: dataset, Scenario: "POST /api/products", Server: server,
			RPS: rps, P50: time.Millisecond, P99: time.Millisecond, CPUPerReq: time.Microsecond, RSSKiB: 1024}
		if server == "keyport" {
			r.Baseline = &Ref{"POST /api/products", "bare"}
		}
		return r
	}
	rs := []result{
		row(sqlite, "1k", "keyport", 50), row(sqlite, "1k", "bare", 100),
		row(sqlite, "1m", "keyport", 40), row(sqlite, "1m", "bare", 100),
		row(postgres, "1k", "keyport", 5), row(postgres, "1k", "bare", 20),
		row(postgres, "1m", "keyport", 3), row(postgres, "1m", "bare", 20),
	}
	for i, want := range map[int]float64{0: 0.5, 2: 0.4, 4: 0.25, 6: 0.15} {
		if got := ratioOf(rs, rs[i]).RPS; got != want {
			t.Errorf("%s %s keyport: ×req/s %.2f, want %.2f", rs[i].Engine, rs[i].Dataset, got, want)
		}
	}

	var b strings.Builder
	printTable(&b, rs)
	printScale(&b, rs)
	out := b.String()
	for _, want := range []string{
		"| 1k pg | POST /api/products | keyport | 5 |",
		"\n1m vs 1k (keyport rows",
		"\n1m pg vs 1k pg (keyport rows",
		"| POST /api/products | 0.80 |", // SQLite: 40 / 50
		"| POST /api/products | 0.60 |", // PostgreSQL: 3 / 5
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}
