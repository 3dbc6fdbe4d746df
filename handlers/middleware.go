package handlers

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/mattn/go-sqlite3"

	"keyport/database"
	"keyport/logging"
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

// requestLog gives each request an id (also sent as X-Request-Id) and the security
// headers, turns a panic into an error, logs one line when the request ends (method, route
// pattern, status, duration, and for a 5xx the error) and records the request's metrics.
// Never the raw URL, query string or headers, where a careless client may have put a key.
// It is the only global middleware because Echo wraps each one around the handler anew on
// every request, an allocation and a call each.
func (s *Server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		s.Metrics.RequestStarted()
		var b [8]byte
		rand.Read(b[:])
		var x [16]byte
		hex.Encode(x[:], b[:])
		id := string(x[:])
		h := c.Response().Header()
		h[hdrRequestID] = []string{id}
		setSecurityHeaders(h)
		req := c.Request()

		err := recovering(next, c)
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

// recovering runs next, and returns a panic in it as a *panicError with the stacks of
// all goroutines (at most 4 KiB), as Echo's Recover middleware did; http.ErrAbortHandler
// is passed on.
func recovering(next echo.HandlerFunc, c echo.Context) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if r == http.ErrAbortHandler {
			panic(r)
		}
		e, ok := r.(error)
		if !ok {
			e = fmt.Errorf("%v", r)
		}
		stack := make([]byte, 4<<10)
		err = &panicError{err: e, stack: stack[:runtime.Stack(stack, true)]}
	}()
	return next(c)
}

// isDBError reports whether err came from the database rather than from the request.
func isDBError(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, sql.ErrTxDone) ||
		database.IsUnavailable(err)
}
