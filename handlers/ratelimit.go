package handlers

import (
	"time"

	"keyport/ratelimit"
)

func retryAfter(d ratelimit.Decision) int {
	return max(1, ceilSeconds(d.RetryAfter))
}

func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
