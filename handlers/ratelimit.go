package handlers

import (
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
)

// rateLimit counts one request by the key keyID against its limit and sets the
// RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset headers (Reset: whole seconds,
// rounded up, until the key's full burst is available again). Over the limit it returns
// 429 rate_limited with Retry-After: whole seconds until one more request is allowed.
func (s *Server) rateLimit(c echo.Context, keyID string, now time.Time) error {
	if s.Limiter == nil {
		return nil
	}
	d := s.Limiter.Allow(keyID, now)
	h := c.Response().Header()
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.Remaining))
	h.Set("RateLimit-Reset", strconv.Itoa(ceilSeconds(d.Reset)))
	if d.Allowed {
		return nil
	}
	retry := max(1, ceilSeconds(d.RetryAfter))
	h.Set("Retry-After", strconv.Itoa(retry))
	return apiError(http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("Rate limit exceeded: this key may make %d requests a minute; retry in %d s", d.Limit, retry))
}

func ceilSeconds(d time.Duration) int {
	return int((d + time.Second - 1) / time.Second)
}
