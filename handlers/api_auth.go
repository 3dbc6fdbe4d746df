package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/keyauth"
)

const apiKeyCtx = "api_key"

// requireKey authenticates an API request by its key (x-api-key, or Authorization:
// Bearer) and checks it holds scope. Cookies play no part here.
func (s *Server) requireKey(scope string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			raw := keyFromRequest(c.Request())
			now := s.Now()
			k, err := s.Keys.Verify(c.Request().Context(), raw, now)
			switch {
			case err == nil:
			case errors.Is(err, keyauth.ErrMissing):
				return apiError(http.StatusUnauthorized, "api_key_required", "API Key required")
			case errors.Is(err, keyauth.ErrInvalid):
				return apiError(http.StatusForbidden, "invalid_api_key", "Invalid API Key")
			case errors.Is(err, keyauth.ErrRevoked):
				return apiError(http.StatusForbidden, "api_key_revoked", "Invalid API Key")
			case errors.Is(err, keyauth.ErrExpired):
				return apiError(http.StatusForbidden, "api_key_expired", "Invalid API Key")
			default:
				return err
			}
			// Rate limited before the scope check: every request with a valid key counts,
			// and every answer to one carries the RateLimit-* headers.
			if err := s.rateLimit(c, k.ID, now); err != nil {
				return err
			}
			if !k.HasScope(scope) {
				return apiError(http.StatusForbidden, "insufficient_scope", "This API key lacks the "+scope+" scope")
			}
			c.Set(apiKeyCtx, k)
			return next(c)
		}
	}
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
