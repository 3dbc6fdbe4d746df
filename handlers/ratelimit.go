package handlers

import (
	"fmt"
	"net/http"
	"time"

	"keyport/ratelimit"
)

// rateLimited is the 429 for a refused decision d.
func rateLimited(d ratelimit.Decision) *APIError {
	return apiError(http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("Rate limit exceeded: this key may make %d requests a minute; retry in %d s", d.Limit, retryAfter(d)))
}

func retryAfter(d ratelimit.Decision) int {
	return max(1, ceilSeconds(d.RetryAfter))
}

func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
