package handlers

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/mattn/go-sqlite3"

	"keyport/database"
	"keyport/logging"
)

const csp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries.
func securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		// The value slices are shared by every response instead of allocated for each, as
		// Header.Set would; nothing appends to them in place (a full slice reallocates).
		h["Content-Security-Policy"] = cspValue
		h["X-Content-Type-Options"] = nosniffValue
		h["Referrer-Policy"] = sameOriginValue
		h["X-Frame-Options"] = denyValue
		return next(c)
	}
}

var (
	cspValue        = []string{csp}
	nosniffValue    = []string{"nosniff"}
	sameOriginValue = []string{"same-origin"}
	denyValue       = []string{"DENY"}
)

// sameOrigin refuses state-changing requests from another origin, with the semantics of
// net/http.CrossOriginProtection (Sec-Fetch-Site, then Origin against Host).
func sameOrigin() echo.MiddlewareFunc {
	cop := http.NewCrossOriginProtection()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := cop.Check(c.Request()); err != nil {
				return echo.NewHTTPError(http.StatusForbidden, "Cross-origin request refused.").SetInternal(err)
			}
			return next(c)
		}
	}
}

// requestLog gives each request an id (also sent as X-Request-Id), logs one line when it
// ends (method, route pattern, status, duration, and for a 5xx the error) and records the
// request's metrics. Never the raw URL, query string or headers, where a careless client
// may have put a key.
func (s *Server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		s.Metrics.RequestStarted()
		var b [8]byte
		rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		req := c.Request()

		err := next(c)
		if err != nil {
			c.Error(err)
		}
		end := time.Now()
		d := end.Sub(start)
		status := c.Response().Status
		route := c.Path()
		// The router's own 404 leaves the nearest partial match in c.Path(); label it
		// "unmatched" so made-up paths never look like a route.
		if route == "" || errors.Is(err, echo.ErrNotFound) {
			route = "unmatched"
		}
		s.Metrics.Request(req.Method, route, status, d)
		// A database error always answers 500 or 503, so other statuses skip the check
		// (which formats the error) on the 4xx paths that should cost least.
		if status == http.StatusServiceUnavailable || status >= 500 && isDBError(err) {
			s.Metrics.DBError()
		}

		line := logging.Request{
			Time: end, Level: slog.LevelInfo,
			Method: req.Method, Route: route, Status: status, Duration: d, ID: id,
		}
		if status >= 500 {
			line.Level = slog.LevelError
			// Error texts come from our code, the database driver or a panic value, never
			// from request headers or bodies.
			line.Err = err
			var p *panicError
			if errors.As(err, &p) {
				line.Stack = p.stack
			}
		}
		logging.LogRequest(req.Context(), s.Logger, &line)
		return nil
	}
}

// panicError is a recovered panic, carried to requestLog so it is logged with the request.
type panicError struct {
	err   error
	stack []byte
}

func (p *panicError) Error() string { return "panic: " + p.err.Error() }
func (p *panicError) Unwrap() error { return p.err }

// recovered is the Recover middleware's LogErrorFunc.
func recovered(_ echo.Context, err error, stack []byte) error {
	return &panicError{err: err, stack: stack}
}

// isDBError reports whether err came from the database rather than from the request.
func isDBError(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) ||
		database.IsUnavailable(err)
}
