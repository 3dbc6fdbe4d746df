package handlers

import (
	"encoding/json"
	"fmt"
	"time"
)

// relativeStep words ages (how far a time is from now, either way) under Below in Unit:
// the age divided by Size, rounded to the nearest whole unit, at least one. The first
// step has no unit: its ages read "just now" or "in a few seconds". Below 0 means no
// bound.
type relativeStep struct {
	Below time.Duration
	Unit  string
	Size  time.Duration
}

const day = 24 * time.Hour

// relativeSteps are the one statement of how keyport words a time relative to now. The
// server words times with them (Relative), and hands them to app.js in the page
// (body[data-relative-steps]) so a page left open rewords its times the same way.
var relativeSteps = []relativeStep{
	{45 * time.Second, "", 0},
	// From 45 minutes on, whole hours: "in 1 hour" reads better than "in 60 minutes".
	{45 * time.Minute, "minute", time.Minute},
	{36 * time.Hour, "hour", time.Hour},
	{45 * day, "day", day},
	{548 * day, "month", 30 * day},
	{0, "year", 365 * day},
}

// relativeStepsJSON is relativeSteps for app.js: [below, unit, size] in milliseconds.
var relativeStepsJSON = func() string {
	out := make([][3]any, len(relativeSteps))
	for i, s := range relativeSteps {
		out[i] = [3]any{s.Below.Milliseconds(), s.Unit, s.Size.Milliseconds()}
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(err)
	}
	return string(b)
}()

// Relative words t against now: "just now", "3 minutes ago", "in 3 days".
func Relative(t, now time.Time) string {
	d := now.Sub(t)
	future := d < 0
	if future {
		d = -d
	}
	i := 0
	for i < len(relativeSteps)-1 && relativeSteps[i].Below != 0 && d >= relativeSteps[i].Below {
		i++
	}
	s := relativeSteps[i]
	if s.Unit == "" {
		if future {
			return "in a few seconds"
		}
		return "just now"
	}
	n := max(1, int((d+s.Size/2)/s.Size))
	unit := s.Unit
	if n != 1 {
		unit += "s"
	}
	if future {
		return fmt.Sprintf("in %d %s", n, unit)
	}
	return fmt.Sprintf("%d %s ago", n, unit)
}
