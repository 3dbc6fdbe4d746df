package handlers

import (
	"context"
	"log/slog"
	"net/http"

	"keyport/database"
)

type sessionWriterKey struct{}

// loadAndSave is scs's LoadAndSave with store failures answered like any other database
// failure: 503 while the database is unavailable (a full disk), logged through slog,
// and without the handler's own page glued after that answer. scs commits the session
// (every signed-in request, to move the idle timeout) when the handler starts writing.
func (s *Server) loadAndSave(next http.Handler) http.Handler {
	inner := s.Sessions.LoadAndSave(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &sessionErrorWriter{ResponseWriter: w}
		inner.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), sessionWriterKey{}, sw)))
	})
}

// sessionError is the session manager's ErrorFunc.
func (s *Server) sessionError(w http.ResponseWriter, r *http.Request, err error) {
	sw, _ := r.Context().Value(sessionWriterKey{}).(*sessionErrorWriter)
	if sw != nil && sw.failed {
		return // scs retries the commit when the error page is written; answered already
	}
	status, msg := http.StatusInternalServerError, "Something went wrong. Please try again."
	if database.IsUnavailable(err) {
		status, msg = http.StatusServiceUnavailable, "The database is unavailable right now. Please try again shortly."
	}
	s.Logger.ErrorContext(r.Context(), "session store failed", slog.String("path", r.URL.Path), slog.Any("error", err))
	http.Error(w, msg, status)
	if sw != nil {
		sw.failed = true
	}
}

// sessionErrorWriter drops what the handler writes after a session error was answered.
type sessionErrorWriter struct {
	http.ResponseWriter
	failed bool
}

func (w *sessionErrorWriter) WriteHeader(code int) {
	if !w.failed {
		w.ResponseWriter.WriteHeader(code)
	}
}

func (w *sessionErrorWriter) Write(b []byte) (int, error) {
	if w.failed {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *sessionErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
