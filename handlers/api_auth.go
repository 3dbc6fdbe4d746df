package handlers

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/keyauth"
	"keyport/metrics"
	"keyport/usage"
)

const apiKeyCtx = "api_key"

// keyFailures maps each verification error to its metric outcome and API error.
var keyFailures = []struct {
	err           error
	outcome       string
	status        int
	code, message string
}{
	{keyauth.ErrMissing, metrics.OutcomeMissing, http.StatusUnauthorized, "api_key_required", "API Key required"},
	{keyauth.ErrInvalid, metrics.OutcomeInvalid, http.StatusForbidden, "invalid_api_key", "Invalid API Key"},
	{keyauth.ErrRevoked, metrics.OutcomeRevoked, http.StatusForbidden, "api_key_revoked", "Invalid API Key"},
	{keyauth.ErrExpired, metrics.OutcomeExpired, http.StatusForbidden, "api_key_expired", "Invalid API Key"},
}

// requireKey authenticates an API request by its key (x-api-key, or Authorization:
// Bearer) and checks it holds scope. Cookies play no part here.
func (s *Server) requireKey(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			now := s.Now()
			k, err := s.Keys.Verify(c.Request().Context(), keyFromRequest(c.Request()), now)
			if err != nil {
				for _, f := range keyFailures {
					if errors.Is(err, f.err) {
						s.keyChecked(k.ID, f.outcome, now)
						return apiError(f.status, f.code, f.message)
					}
				}
				s.keyChecked("", metrics.OutcomeError, now)
				return err
			}
			s.Usage.Note(k.ID, now)
			// Rate limited before the scope check: every request with a valid key counts,
			// and every answer to one carries the RateLimit-* headers.
			if err := s.rateLimit(c, k.ID, now); err != nil {
				s.keyChecked(k.ID, metrics.OutcomeRateLimited, now)
				return err
			}
			if !k.HasScope(scope) {
				s.keyChecked(k.ID, metrics.OutcomeInsufficientScope, now)
				return apiError(http.StatusForbidden, "insufficient_scope", "This API key lacks the "+scope+" scope")
			}
			s.keyChecked(k.ID, metrics.OutcomeOK, now)
			c.Set(apiKeyCtx, k)
			return next(c)
		}
	}
}

// keyChecked records how one key check ended (a metrics outcome): in the Prometheus
// counter, and in the usage counts of the key checked, when it exists (keyID not "").
// Every place that checks a key calls it once per check.
func (s *Server) keyChecked(keyID, outcome string, now time.Time) {
	s.Metrics.KeyVerified(outcome)
	if keyID == "" {
		return
	}
	var o usage.Outcome
	switch outcome {
	case metrics.OutcomeOK:
		o = usage.Valid
	case metrics.OutcomeRateLimited:
		o = usage.RateLimited
	case metrics.OutcomeInsufficientScope:
		o = usage.InsufficientScope
	case metrics.OutcomeRevoked:
		o = usage.Revoked
	case metrics.OutcomeExpired:
		o = usage.Expired
	default:
		return
	}
	s.Counts.Count(keyID, o, now)
}

func keyFromRequest(r *http.Request) string {
	if k := r.Header.Get("X-Api-Key"); k != "" {
		return strings.TrimSpace(k)
	}
	auth := r.Header.Get("Authorization")
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}

func keyFrom(c echo.Context) keyauth.Key {
	k, _ := c.Get(apiKeyCtx).(keyauth.Key)
	return k
}

// productPath guards GET /api/products/:id before the key check. Echo lets a parameter
// at the end of a route swallow the rest of the path, so /api/products/x/y would reach
// the key check and answer 401 for a route that does not exist: 404 instead. And
// /api/products/create is the POST-only alias, not a product id: 405.
func productPath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch id := c.Param("id"); {
		case strings.Contains(id, "/"):
			return echo.ErrNotFound
		case id == "create":
			c.Response().Header().Set(echo.HeaderAllow, http.MethodPost)
			return echo.ErrMethodNotAllowed
		}
		return next(c)
	}
}
