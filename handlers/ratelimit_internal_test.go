package handlers

import (
	"math"
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"

	"keyport/ratelimit"
)

// TestRateLimitHeadersAsHeaderSet compares setRateLimitHeaders with the Header.Set calls
// it replaced: the same names and values, and a later Add to any one header leaves the
// others alone.
func TestRateLimitHeadersAsHeaderSet(t *testing.T) {
	for _, d := range []ratelimit.Decision{
		{Allowed: true, Limit: 60, Remaining: 59, Reset: time.Second},
		{Allowed: true, Limit: 100_000_000, Remaining: 99_999_999, Reset: 1500 * time.Millisecond},
		{Allowed: true, Limit: math.MaxInt, Remaining: math.MaxInt, Reset: time.Duration(math.MaxInt64)},
		{Allowed: false, Limit: 5, Remaining: 0, Reset: time.Minute, RetryAfter: 12 * time.Second},
		{Allowed: true, Limit: 0, Remaining: -1, Reset: 0},
	} {
		want := http.Header{}
		want.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
		want.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
		want.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.Reset)))
		if !d.Allowed {
			want.Set("Retry-After", strconv.Itoa(retryAfter(d)))
		}
		got := http.Header{}
		setRateLimitHeaders(got, d)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%+v: headers %v, want %v", d, got, want)
		}
		for name := range want {
			got.Add(name, "x")
			want.Add(name, "x")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%+v: after Add to %s: headers %v, want %v", d, name, got, want)
			}
		}
	}
}
