package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/keyauth"
	"keyport/metrics"
	"keyport/ratelimit"
	"keyport/usage"
)

// Verdict codes, as POST /api/v1/keys/verify reports them.
const (
	CodeValid             = "VALID"
	CodeNotFound          = "NOT_FOUND"
	CodeRevoked           = "REVOKED"
	CodeExpired           = "EXPIRED"
	CodeRateLimited       = "RATE_LIMITED"
	CodeInsufficientScope = "INSUFFICIENT_SCOPE"
)

// verdict is the outcome of checking one presented key.
type verdict struct {
	Code    string
	Key     keyauth.Key // set unless Code is CodeNotFound
	Missing bool        // no key was presented at all (Code is CodeNotFound)
	// Limit is the rate limiter's decision when Limited; unset when the key was refused
	// before the limiter, or nothing is limited. A value, not a pointer: that cost an
	// allocation on every request.
	Limit   ratelimit.Decision
	Limited bool
	Scope   string // the first required scope the key lacks
}

// checkKey is the one place a presented key is judged, for the products API, verify and
// forward auth alike, in the SPEC's order: exists → revoked → expired → rate limit →
// scopes. org, when set, is the only organization whose keys exist for the caller. A key
// that gets as far as the limiter counts against its rate limit and is noted as used.
func (s *Server) checkKey(ctx context.Context, raw, org string, scopes []string, now time.Time) (verdict, error) {
	k, err := s.Keys.Verify(ctx, raw, now)
	if err == nil && org != "" && k.OrgID != org {
		err = keyauth.ErrInvalid
	}
	v := verdict{Key: k}
	switch {
	case err == nil:
	case errors.Is(err, keyauth.ErrMissing):
		s.keyChecked(nil, metrics.OutcomeMissing, now)
		return verdict{Code: CodeNotFound, Missing: true}, nil
	case errors.Is(err, keyauth.ErrInvalid):
		s.keyChecked(nil, metrics.OutcomeInvalid, now)
		return verdict{Code: CodeNotFound}, nil
	case errors.Is(err, keyauth.ErrRevoked):
		s.keyChecked(&k, metrics.OutcomeRevoked, now)
		v.Code = CodeRevoked
		return v, nil
	case errors.Is(err, keyauth.ErrExpired):
		s.keyChecked(&k, metrics.OutcomeExpired, now)
		v.Code = CodeExpired
		return v, nil
	default:
		s.keyChecked(nil, metrics.OutcomeError, now)
		return verdict{}, err
	}
	// The key's records in the recorder and the limiter, without looking the key up again.
	s.Usage.NoteVia(k.State.LastUseSlot(), k.ID, now)
	// Rate limited before the scope check: every request with a good key counts, and every
	// answer to one carries the RateLimit-* headers.
	if s.Limiter != nil {
		v.Limit, v.Limited = s.Limiter.AllowVia(k.State.LimitSlot(), k.ID, now), true
		if !v.Limit.Allowed {
			s.keyChecked(&k, metrics.OutcomeRateLimited, now)
			v.Code = CodeRateLimited
			return v, nil
		}
	}
	for _, scope := range scopes {
		if !k.HasScope(scope) {
			s.keyChecked(&k, metrics.OutcomeInsufficientScope, now)
			v.Code, v.Scope = CodeInsufficientScope, scope
			return v, nil
		}
	}
	s.keyChecked(&k, metrics.OutcomeOK, now)
	v.Code = CodeValid
	return v, nil
}

// apiError is the products API's answer to a refused verdict, nil for a valid one. h gets
// the RateLimit-* headers (and Retry-After when limited).
func (v verdict) apiError(h http.Header) error {
	if v.Limited {
		setRateLimitHeaders(h, v.Limit)
	}
	switch v.Code {
	case CodeValid:
		return nil
	case CodeNotFound:
		if v.Missing {
			return errAPIKeyRequired
		}
		return errInvalidAPIKey
	case CodeRevoked:
		return errAPIKeyRevoked
	case CodeExpired:
		return errAPIKeyExpired
	case CodeRateLimited:
		return errRateLimited(v.Limit)
	}
	return errInsufficientScope(v.Scope)
}

// keyHandler is an API handler, given the key requireKey checked. The key is an argument
// rather than something the context carries: c.Set cost the context's map and a boxed
// copy of the Key, and a wrapper around the context one allocation, on every request.
type keyHandler func(c echo.Context, k keyauth.Key) error

// requireKey authenticates an API request by its key (x-api-key, or Authorization:
// Bearer) and checks it holds scope. Cookies play no part here.
func (s *Server) requireKey(scope string) func(keyHandler) echo.HandlerFunc {
	scopes := []string{scope}
	return func(next keyHandler) echo.HandlerFunc {
		return func(c echo.Context) error {
			v, err := s.checkKey(c.Request().Context(), keyFromRequest(c.Request()), "", scopes, s.Now())
			if err != nil {
				return err
			}
			if err := v.apiError(c.Response().Header()); err != nil {
				return err
			}
			return next(c, v.Key)
		}
	}
}

// keyChecked records how one key check ended (a metrics outcome): in the Prometheus
// counter, and in the usage counts of the key checked, when it exists (k not nil).
// Every place that checks a key calls it once per check.
func (s *Server) keyChecked(k *keyauth.Key, outcome string, now time.Time) {
	s.Metrics.KeyVerified(outcome)
	if k == nil {
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
	s.Counts.CountVia(k.State.UsageSlot(), k.ID, o, now) // the key's record, without looking the key up again
}

// keyFromRequest is the key a request presents. The header map is read with the names'
// canonical forms, as Header.Get would after canonicalizing them on every request.
func keyFromRequest(r *http.Request) string {
	if k := firstValue(r.Header[headerAPIKey]); k != "" {
		return strings.TrimSpace(k)
	}
	auth := firstValue(r.Header[echo.HeaderAuthorization])
	if len(auth) > 7 && strings.EqualFold(auth[:7], "bearer ") {
		return strings.TrimSpace(auth[7:])
	}
	return ""
}

var headerAPIKey = http.CanonicalHeaderKey("X-Api-Key")

func firstValue(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// setRateLimitHeaders reports d in RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset (whole seconds, rounded up, until the key's full burst is back), and in
// Retry-After (whole seconds until one more request is allowed) when d refused.
//
// Every answer with a key carries them, so they are set in two allocations instead of up
// to eleven (Header.Set allocates each value's slice, and strconv each number past 99):
// the numbers share one string, their values one slice.
func setRateLimitHeaders(h http.Header, d ratelimit.Decision) {
	var buf [4 * 20]byte
	b := strconv.AppendInt(buf[:0], int64(d.Limit), 10)
	i := len(b)
	b = strconv.AppendInt(b, int64(d.Remaining), 10)
	j := len(b)
	b = strconv.AppendInt(b, int64(ceilSeconds(d.Reset)), 10)
	k := len(b)
	if !d.Allowed {
		b = strconv.AppendInt(b, int64(retryAfter(d)), 10)
	}
	nums := string(b)
	vals := []string{nums[:i], nums[i:j], nums[j:k], nums[k:]}
	// Full slices: an Add to one header reallocates instead of overwriting the next.
	h[hdrRateLimit] = vals[0:1:1]
	h[hdrRateRemaining] = vals[1:2:2]
	h[hdrRateReset] = vals[2:3:3]
	if !d.Allowed {
		h[hdrRetryAfter] = vals[3:4:4]
	}
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
			c.Response().Header()[hdrAllow] = allowPostValue
			return echo.ErrMethodNotAllowed
		}
		return next(c)
	}
}
