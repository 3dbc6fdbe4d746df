package usage

import (
	"time"

	"keyport/queries"
)

// Bucket is the counts of one span of time (an hour or a UTC day) starting at Start.
type Bucket struct {
	Start time.Time
	Counts
}

// Window is a run of equal spans ending with the one now is in.
type Window struct {
	Start time.Time // UTC
	Step  time.Duration
	N     int
}

// HourlyUpTo is the longest window, in days, counted by the hour; longer ones go by day.
const HourlyUpTo = 2

// LastDays is the window of the last days: by the hour up to HourlyUpTo days (days*24
// hours, the last one the hour now is in), by UTC day beyond (the last one today).
func LastDays(now time.Time, days int) Window {
	if days <= HourlyUpTo {
		return LastHours(now, days*24)
	}
	today := now.UTC().Truncate(24 * time.Hour)
	return Window{Start: today.AddDate(0, 0, 1-days), Step: 24 * time.Hour, N: days}
}

// LastHours is the window of the last n hours, the last one the hour now is in.
func LastHours(now time.Time, n int) Window {
	hour := now.UTC().Truncate(time.Hour)
	return Window{Start: hour.Add(-time.Duration(n-1) * time.Hour), Step: time.Hour, N: n}
}

// Sum adds hourly rows (in any order) into w's buckets, every bucket present even when
// nothing was counted in it; rows outside w are left out.
func (w Window) Sum(rows []queries.KeyUsage) []Bucket {
	out := make([]Bucket, w.N)
	for i := range out {
		out[i].Start = w.Start.Add(time.Duration(i) * w.Step)
	}
	start, step := w.Start.UnixMilli(), w.Step.Milliseconds()
	for _, r := range rows {
		if r.HourStart < start {
			continue
		}
		if i := (r.HourStart - start) / step; i < int64(w.N) {
			out[i].add(countsOf(r))
		}
	}
	return out
}

// Total is the sum of buckets.
func Total(buckets []Bucket) Counts {
	var c Counts
	for _, b := range buckets {
		c.add(b.Counts)
	}
	return c
}
