package logging

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// slogLine is what slog's own handler writes for r: the bytes the fast path must match.
func slogLine(t testing.TB, json bool, r *Request) string {
	t.Helper()
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if json {
		h = slog.NewJSONHandler(&buf, nil)
	}
	if err := h.Handle(context.Background(), r.Record()); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func fastLine(t testing.TB, json bool, r *Request) string {
	t.Helper()
	var buf bytes.Buffer
	h := NewText(&buf, slog.LevelDebug)
	if json {
		h = NewJSON(&buf, slog.LevelDebug)
	}
	LogRequest(context.Background(), slog.New(h), r)
	return buf.String()
}

func TestRequestLineMatchesSlog(t *testing.T) {
	utc := time.Date(2026, 12, 1, 2, 6, 52, 123456789, time.UTC)
	zones := []*time.Location{time.UTC, time.FixedZone("CET", 3600), time.FixedZone("X", -(9*3600 + 30*60)), time.Local}
	times := []time.Time{
		utc,
		utc.Truncate(time.Second),               // .000 ms, no fraction in RFC3339Nano
		utc.Truncate(time.Millisecond),          // trailing zeros trimmed in JSON
		utc.Add(999*time.Millisecond + 999_999), // millis roll at .999
		time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Now(), // with a monotonic reading, which slog strips
	}
	durations := []time.Duration{0, 1, 999, time.Microsecond, 1500 * time.Nanosecond, 999999,
		time.Millisecond, 12345678, time.Second, 1500 * time.Millisecond, 61 * time.Second,
		3*time.Minute + 7*time.Second + 3, 2*time.Hour + 5*time.Minute, -5 * time.Millisecond}
	routes := []string{"/api/products", "/api/products/:id", "unmatched", "/static*", "/", "",
		"/a b", "/x=y", `/q"uote`, `/back\slash`, "/tab\there", "/nl\nx", "/é", "/\u00a0nbsp",
		"/\u2028ls", "/bad\xffutf8", "/ctl\x01", "/del\x7f", "/emoji😀"}
	methods := []string{"GET", "POST", "HEAD", "DELETE", "OTHER", "M-SEARCH", "A=B"}
	statuses := []int{101, 200, 201, 204, 301, 303, 400, 401, 403, 404, 405, 413, 429, 500, 502, 503, 504}
	stack := []byte("goroutine 7 [running]:\nmain.boom()\n\t/src/x.go:12 +0x1d\n")
	errs := []error{nil, errors.New("sqlite: database is locked"), errors.New(""),
		fmt.Errorf("panic: %w", errors.New(`bad "input" \ <b>&`)), errors.New("line1\nline2\r\t\x00")}

	var cases []Request
	for i, st := range statuses {
		r := Request{
			Time: times[i%len(times)].In(zones[i%len(zones)]), Level: slog.LevelInfo,
			Method: methods[i%len(methods)], Route: routes[i%len(routes)], Status: st,
			Duration: durations[i%len(durations)], ID: "0123456789abcdef",
		}
		if st >= 500 {
			r.Level = slog.LevelError
			r.Err = errs[i%len(errs)]
			if i%2 == 0 {
				r.Stack = stack
			}
		}
		cases = append(cases, r)
	}
	for i, route := range routes {
		cases = append(cases, Request{Time: times[i%len(times)], Method: "GET", Route: route, Status: 404,
			Duration: durations[i%len(durations)], ID: "fedcba9876543210"})
	}
	for i, d := range durations {
		cases = append(cases, Request{Time: times[i%len(times)].In(zones[i%len(zones)]), Level: slog.LevelWarn,
			Method: "POST", Route: "/api/products", Status: 201, Duration: d, ID: "00000000000000ff"})
	}
	for i, err := range errs {
		cases = append(cases, Request{Time: utc, Level: slog.LevelError, Method: "GET", Route: "/api/boom",
			Status: 500, Duration: durations[i], ID: "", Err: err, Stack: []byte{}})
	}
	cases = append(cases, Request{Time: utc, Level: slog.LevelError + 2, Method: "GET", Route: "/",
		Status: 503, ID: "x y", Err: errors.New(strings.Repeat("long ", 2000)), Stack: bytes.Repeat(stack, 200)})

	for _, json := range []bool{false, true} {
		for i := range cases {
			r := &cases[i]
			if got, want := fastLine(t, json, r), slogLine(t, json, r); got != want {
				t.Errorf("json=%v, case %d:\n got %q\nwant %q", json, i, got, want)
			}
		}
	}
}

func FuzzRequestLine(f *testing.F) {
	f.Add("GET", "/api/products", 200, int64(1234567), "err", []byte("stack"), int64(1764554812123456789), true)
	f.Add("POST", "a b=\"c\"\\", 500, int64(-1), "\x00\u2028\xff", []byte(nil), int64(0), false)
	f.Fuzz(func(t *testing.T, method, route string, status int, d int64, errText string, stack []byte, unixNano int64, json bool) {
		r := &Request{
			Time: time.Unix(0, unixNano), Level: slog.Level(status % 16), Method: method, Route: route,
			Status: status, Duration: time.Duration(d), ID: route, Stack: stack,
		}
		if errText != "" {
			r.Err = errors.New(errText)
		}
		if y := r.Time.Year(); json && (y < 0 || y >= 10000) {
			t.Skip("slog logs an error for a year RFC 3339 cannot hold")
		}
		if got, want := fastLine(t, json, r), slogLine(t, json, r); got != want {
			t.Errorf("\n got %q\nwant %q", got, want)
		}
	})
}

func TestLogRequestOnOtherHandlers(t *testing.T) {
	r := &Request{Time: time.Now(), Level: slog.LevelInfo, Method: "GET", Route: "/", Status: 200, ID: "1"}
	// A handler this package did not build still gets the same record.
	var buf bytes.Buffer
	LogRequest(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), r)
	if got, want := buf.String(), slogLine(t, true, r); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	// With attributes added, the line goes through slog and carries them.
	buf.Reset()
	LogRequest(context.Background(), slog.New(NewText(&buf, nil)).With("app", "keyport"), r)
	if got := buf.String(); !strings.Contains(got, " msg=request app=keyport method=GET ") {
		t.Errorf("got %q", got)
	}
	// Below the level, nothing.
	buf.Reset()
	LogRequest(context.Background(), slog.New(NewText(&buf, slog.LevelWarn)), r)
	if buf.Len() != 0 {
		t.Errorf("an INFO line below level WARN was written: %q", buf.String())
	}
}

func BenchmarkRequestLine(b *testing.B) {
	r := &Request{Time: time.Now(), Level: slog.LevelInfo, Method: "POST", Route: "/api/products",
		Status: 201, Duration: 1234567 * time.Nanosecond, ID: "0123456789abcdef"}
	for _, json := range []bool{false, true} {
		name := "text"
		var slogH slog.Handler = slog.NewTextHandler(discard{}, nil)
		fast := NewText(discard{}, nil)
		if json {
			name = "json"
			slogH, fast = slog.NewJSONHandler(discard{}, nil), NewJSON(discard{}, nil)
		}
		b.Run(name+"/slog", func(b *testing.B) {
			l := slog.New(slogH)
			for b.Loop() {
				l.LogAttrs(context.Background(), r.Level, RequestMessage,
					slog.String("method", r.Method), slog.String("route", r.Route), slog.Int("status", r.Status),
					slog.Duration("duration", r.Duration), slog.String("request_id", r.ID))
			}
		})
		b.Run(name+"/fast", func(b *testing.B) {
			l := slog.New(fast)
			for b.Loop() {
				LogRequest(context.Background(), l, r)
			}
		})
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
