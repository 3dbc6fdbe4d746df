package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// ratio is a keyport row divided by its baseline row.
type ratio struct {
	RPS, P50, P99, RSS, CPU float64
	ok                      bool
}

func baselineOf(rs []result, r result) (result, bool) {
	if r.Baseline == nil {
		return result{}, false
	}
	for _, b := range rs {
		if b.Engine == r.Engine && b.Dataset == r.Dataset && b.Scenario == r.Baseline.Scenario && b.Server == r.Baseline.Server {
			return b, true
		}
	}
	return result{}, false
}

func ratioOf(rs []result, r result) ratio {
	b, ok := baselineOf(rs, r)
	if !ok {
		return ratio{}
	}
	return ratio{
		RPS: r.RPS / b.RPS,
		P50: float64(r.P50) / float64(b.P50),
		P99: float64(r.P99) / float64(b.P99),
		RSS: float64(r.RSSKiB) / float64(b.RSSKiB),
		CPU: float64(r.CPUPerReq) / float64(b.CPUPerReq),
		ok:  true,
	}
}

func printTable(w io.Writer, rs []result) {
	fmt.Fprintln(w, "| data | scenario | server | req/s | p50 | p99 | CPU/req | peak RSS | writes/commit | ×req/s | ×p50 | ×p99 | ×CPU/req | ×RSS | baseline |")
	fmt.Fprintln(w, "|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|")
	for _, r := range rs {
		x := ratioOf(rs, r)
		cols := []string{"", "", "", "", ""}
		base := ""
		if x.ok {
			cols = []string{f2(x.RPS), f2(x.P50), f2(x.P99), f2(x.CPU), ""}
			base = r.Baseline.Server
			if r.Baseline.Server != r.Server {
				cols[4] = f2(x.RSS)
			}
			if r.Baseline.Scenario != r.Scenario {
				base += " " + r.Baseline.Scenario
			}
		}
		note := ""
		if r.Note != "" {
			note = " ⚠ " + r.Note
		}
		batch := ""
		if r.WritesPerCommit > 0 {
			batch = fmt.Sprintf("%.1f", r.WritesPerCommit)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.0f | %s | %s | %.0f µs | %d MiB | %s | %s | %s%s |\n",
			data(r), r.Scenario, r.Server, r.RPS, ms(r.P50), ms(r.P99), float64(r.CPUPerReq)/float64(time.Microsecond), r.RSSKiB>>10,
			batch, strings.Join(cols, " | "), base, note)
	}
}

// data is the table's data column: the dataset, and the engine when it is not SQLite.
func data(r result) string {
	if r.Engine == postgres {
		return r.Dataset + " pg"
	}
	return r.Dataset
}

// printScale compares, engine by engine, each keyport row of the largest dataset with
// the same row of the smallest: raw figures, and the ratio to the baseline, which cancels
// most of the drift in machine load between the two datasets' runs.
func printScale(w io.Writer, rs []result) {
	var engines []string
	for _, r := range rs {
		if !slices.Contains(engines, r.Engine) {
			engines = append(engines, r.Engine)
		}
	}
	for _, e := range engines {
		printEngineScale(w, rs, e)
	}
}

func printEngineScale(w io.Writer, rs []result, engine string) {
	var small, large string
	for _, r := range rs {
		if r.Engine == engine {
			if small == "" {
				small = data(r)
			}
			large = data(r)
		}
	}
	if small == large {
		return
	}
	fmt.Fprintf(w, "\n%s vs %s (keyport rows; 1.00 = no change):\n\n", large, small)
	fmt.Fprintln(w, "| scenario | req/s | p50 | p99 | CPU/req | ×req/s vs baseline | ×p99 vs baseline |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|")
	for _, l := range rs {
		if data(l) != large || l.Server != "keyport" {
			continue
		}
		for _, s := range rs {
			if data(s) != small || s.Server != "keyport" || s.Scenario != l.Scenario {
				continue
			}
			xl, xs := ratioOf(rs, l), ratioOf(rs, s)
			rel := []string{"", ""}
			if xl.ok && xs.ok {
				rel = []string{f2(xl.RPS / xs.RPS), f2(xl.P99 / xs.P99)}
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s |\n", l.Scenario,
				f2(l.RPS/s.RPS), f2(float64(l.P50)/float64(s.P50)), f2(float64(l.P99)/float64(s.P99)),
				f2(float64(l.CPUPerReq)/float64(s.CPUPerReq)), rel[0], rel[1])
		}
	}
}

// printSpread summarizes the repeats: the range of each keyport ratio over the runs.
func printSpread(w io.Writer, runs [][]result) {
	fmt.Fprintf(w, "\n## Spread over %d runs (keyport rows: min–max)\n\n", len(runs))
	fmt.Fprintln(w, "| data | scenario | req/s | ×req/s | ×p99 | ×CPU/req | peak RSS | writes/commit |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|")
	for _, r := range runs[0] {
		if r.Server != "keyport" {
			continue
		}
		var rps, xr, xp, xc, rss, batch span
		for _, run := range runs {
			for _, o := range run {
				if o.Engine == r.Engine && o.Dataset == r.Dataset && o.Scenario == r.Scenario && o.Server == r.Server {
					rps.add(o.RPS)
					rss.add(float64(o.RSSKiB >> 10))
					if o.WritesPerCommit > 0 {
						batch.add(o.WritesPerCommit)
					}
					if x := ratioOf(run, o); x.ok {
						xr.add(x.RPS)
						xp.add(x.P99)
						xc.add(x.CPU)
					}
				}
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s MiB | %s |\n", data(r), r.Scenario, rps.format("%.0f"),
			xr.format("%.2f"), xp.format("%.2f"), xc.format("%.2f"), rss.format("%.0f"), batch.format("%.1f"))
	}
}

type span struct {
	lo, hi float64
	n      int
}

func (s *span) add(v float64) {
	if s.n == 0 {
		s.lo, s.hi = v, v
	}
	s.lo, s.hi = math.Min(s.lo, v), math.Max(s.hi, v)
	s.n++
}

func (s span) format(f string) string {
	if s.n == 0 {
		return ""
	}
	return fmt.Sprintf(f+"–"+f, s.lo, s.hi)
}

func f2(v float64) string { return fmt.Sprintf("%.2f", v) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }
