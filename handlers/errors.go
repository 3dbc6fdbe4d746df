package handlers

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/database"
	"keyport/handlers/parse"
	"keyport/input"
	"keyport/keyauth"
	"keyport/org"
	"keyport/ratelimit"
	"keyport/team"
)

// Application errors; handlers return them (wrapped with %w where useful) and
// handleError maps them to a status.
var ErrNotFound = errors.New("not found")

// APIError is the products API's error body.
type APIError struct {
	Status  int    `json:"-"`
	Message string `json:"message"`
	Code    string `json:"code"`
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

func apiError(status int, code, msg string) *APIError {
	return &APIError{Status: status, Code: code, Message: msg}
}

// The API's error answers that are always the same. Every error body the API sends is
// built in this file: these, the two below, and what toAPIError maps errors to.
var (
	errAPIKeyRequired    = apiError(http.StatusUnauthorized, "api_key_required", "API Key required")
	errInvalidAPIKey     = apiError(http.StatusForbidden, "invalid_api_key", "Invalid API Key")
	errAPIKeyRevoked     = apiError(http.StatusForbidden, "api_key_revoked", "Invalid API Key")
	errAPIKeyExpired     = apiError(http.StatusForbidden, "api_key_expired", "Invalid API Key")
	errAPIBodyUnreadable = apiError(http.StatusBadRequest, "invalid_json", "The request body could not be read")
	errAPIBodyTooLarge   = apiError(http.StatusRequestEntityTooLarge, "body_too_large", "Request body must be at most 64 KiB")
	errAPINotFound       = apiError(http.StatusNotFound, "not_found", "Not found")
)

// errAPIKeyNotRollable answers the key management API's roll of a key whose state does
// not allow it.
var errAPIKeyNotRollable = apiError(http.StatusConflict, "key_not_rollable", "This key can no longer be rolled: it is revoked, expired or already rolled")

// errCannotGrantScope answers a root key asking for a new key with a scope it lacks.
func errCannotGrantScope(scope string) *APIError {
	return apiError(http.StatusForbidden, "insufficient_scope", "This API key cannot grant the "+scope+" scope it lacks")
}

func errInsufficientScope(scope string) *APIError {
	return apiError(http.StatusForbidden, "insufficient_scope", "This API key lacks the "+scope+" scope")
}

func errRateLimited(d ratelimit.Decision) *APIError {
	return apiError(http.StatusTooManyRequests, "rate_limited",
		fmt.Sprintf("Rate limit exceeded: this key may make %d requests a minute; retry in %d s", d.Limit, retryAfter(d)))
}

// The forward-auth endpoint's answers about the root key it is given.
var (
	errRootKeyRequired = apiError(http.StatusUnauthorized, "root_key_required", "Root key required in "+headerRootKey)
	errInvalidRootKey  = apiError(http.StatusForbidden, "invalid_root_key", "Invalid root key")
	errRootKeyNoVerify = apiError(http.StatusForbidden, "invalid_root_key", "The root key lacks the "+keyauth.ScopeKeysVerify+" scope")
)

// handleError is Echo's error handler: JSON in the API's shape under /api, an HTML page
// (or fragment for htmx) elsewhere. requestLog logs 5xx errors with the request's line.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if isAPI(c) {
		s.writeAPIError(c, toAPIError(err))
		return
	}
	status, msg := http.StatusInternalServerError, "Something went wrong. Please try again."
	var he *echo.HTTPError
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, org.ErrMemberNotFound), errors.Is(err, org.ErrInvitationNotFound):
		status, msg = http.StatusNotFound, http.StatusText(http.StatusNotFound)
	case errors.Is(err, org.ErrInvitationInvalid):
		status, msg = http.StatusNotFound, "This invitation is not valid. It may have expired, been used or been revoked: ask for a new link."
	case errors.Is(err, team.ErrForbidden):
		// The refusal says what the role cannot do.
		status, msg = http.StatusForbidden, err.Error()
	case errors.Is(err, org.ErrLastOwner):
		status, msg = http.StatusConflict, "This organization needs at least one owner: make someone else an owner first."
	case database.IsUnavailable(err):
		status, msg = http.StatusServiceUnavailable, "The database is unavailable right now. Please try again shortly."
	case errors.As(err, &he):
		status = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(status)
		}
	}
	title := http.StatusText(status)
	if p, ok := errorPages[status]; ok && msg == title {
		title, msg = p.title, p.message
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(status)
		return
	}
	if isHTMX(c) {
		c.Response().Header().Set("HX-Reswap", "none")
		setTrigger(c, false, msg, "error")
		c.String(status, msg)
		return
	}
	if rerr := s.render(c, status, "error", "", ErrorPage{
		Layout: Layout{Title: title, Member: memberFrom(c)},
		Status: status, Message: msg,
	}); rerr != nil {
		s.Logger.Error("render error page", slog.Any("error", rerr))
		c.String(status, msg)
	}
}

// errorPages word the pages for errors whose status text alone would be the message
// ("Not Found" twice).
var errorPages = map[int]struct{ title, message string }{
	http.StatusNotFound:         {"Page not found", "There is nothing here: the link may be wrong, or what it pointed to is gone."},
	http.StatusMethodNotAllowed: {"Not allowed", "This address does not take that kind of request."},
}

func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/api" || strings.HasPrefix(p, "/api/")
}

func toAPIError(err error) *APIError {
	if ae, ok := err.(*APIError); ok {
		// The refused key's answer, unwrapped: errors.As would allocate its targets.
		return ae
	}
	var ae *APIError
	var he *echo.HTTPError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, parse.ErrInvalidJSON):
		return apiError(http.StatusBadRequest, "invalid_json", err.Error())
	case errors.Is(err, parse.ErrProductRequired):
		return apiError(http.StatusBadRequest, "invalid_request", "Name and Price are required")
	case errors.Is(err, parse.ErrInvalidRequest):
		return apiError(http.StatusBadRequest, "invalid_request", strings.TrimPrefix(err.Error(), parse.ErrInvalidRequest.Error()+": "))
	case errors.Is(err, input.ErrCursor):
		return apiError(http.StatusBadRequest, "invalid_request", err.Error())
	case errors.Is(err, ErrNotFound):
		return errAPINotFound
	case errors.As(err, &he) && he.Code < 500:
		// Before IsUnavailable, which formats the error: the router's 404 and 405 are
		// the cheapest answers keyport gives and should stay so.
		switch he.Code {
		case http.StatusNotFound:
			return errAPINotFound
		case http.StatusMethodNotAllowed:
			return apiError(he.Code, "method_not_allowed", "Method not allowed")
		case http.StatusRequestEntityTooLarge:
			return errAPIBodyTooLarge
		case http.StatusUnsupportedMediaType:
			return apiError(he.Code, "unsupported_media_type", "Content-Type must be application/json")
		}
		return apiError(he.Code, "bad_request", http.StatusText(he.Code))
	case database.IsUnavailable(err):
		return apiError(http.StatusServiceUnavailable, "unavailable", "The database is unavailable right now; retry shortly")
	}
	return apiError(http.StatusInternalServerError, "internal_error", "Internal server error")
}

// appendJSON appends e as encoding/json writes it.
func (e *APIError) appendJSON(b []byte) []byte {
	b = append(b, `{"message":`...)
	b = appendJSONString(b, e.Message)
	b = append(b, `,"code":`...)
	b = appendJSONString(b, e.Code)
	return append(b, '}')
}

func (s *Server) writeAPIError(c echo.Context, e *APIError) {
	if e.Status == http.StatusUnauthorized {
		// RFC 9110: a 401 names the scheme that would do; the key also goes in x-api-key.
		c.Response().Header()[hdrWWWAuthenticate] = bearerValue
	}
	if err := answerJSON(s, c, e.Status, e, (*APIError).appendJSON); err != nil {
		s.Logger.Error("write api error", slog.Any("error", err))
	}
}
