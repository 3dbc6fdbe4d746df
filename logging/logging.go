// Package logging is keyport's logger: slog's own TextHandler or JSONHandler, plus a
// hand-written formatter for the one line every request logs. That line is the only
// record on the hot path; through slog it cost ~3 µs (runtime.Callers, the Record's attr
// handling, the handler's generic value switch), by hand a fraction of that, with the same
// bytes (TestRequestLineMatchesSlog).
package logging

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Handler is slog's TextHandler or JSONHandler on w, with a fast path for request lines.
type Handler struct {
	slog.Handler // slog's own, for every record but the request line
	json         bool
	w            lineSink
}

// NewText returns a Handler that writes to w what slog.NewTextHandler writes with
// HandlerOptions{Level: level}.
func NewText(w io.Writer, level slog.Leveler) *Handler {
	lw := sink(w)
	return &Handler{Handler: slog.NewTextHandler(lw, &slog.HandlerOptions{Level: level}), w: lw}
}

// NewJSON is NewText for slog.NewJSONHandler.
func NewJSON(w io.Writer, level slog.Leveler) *Handler {
	lw := sink(w)
	return &Handler{Handler: slog.NewJSONHandler(lw, &slog.HandlerOptions{Level: level}), json: true, w: lw}
}

// lineSink takes a Handler's lines: Write for slog's records, writeLine for request
// lines, which a *Buffer may hold back.
type lineSink interface {
	io.Writer
	writeLine(p []byte)
}

func sink(w io.Writer) lineSink {
	if b, ok := w.(*Buffer); ok {
		return b
	}
	return &lineWriter{w: w}
}

// lineWriter serializes the writes of both paths, as slog's handler does its own.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lineWriter) writeLine(p []byte) { l.Write(p) }

// Request is one request's log line: message "request" and these attributes, in this
// order.
type Request struct {
	Time     time.Time
	Level    slog.Level
	Method   string
	Route    string
	Status   int
	Duration time.Duration
	ID       string // logged as request_id
	// Err, when not nil, is logged as error; Stack, when not nil, as stack.
	Err   error
	Stack []byte
}

// RequestMessage is the request line's msg.
const RequestMessage = "request"

// LogRequest logs r on l: formatted by hand when l's handler is a *Handler, else as a
// slog.Record through the handler (what Logger.LogAttrs does, without the caller's pc).
func LogRequest(ctx context.Context, l *slog.Logger, r *Request) {
	h := l.Handler()
	if !h.Enabled(ctx, r.Level) {
		return
	}
	if f, ok := h.(*Handler); ok {
		f.writeRequest(r)
		return
	}
	_ = h.Handle(ctx, r.Record())
}

// Record is r as slog would have it.
func (r *Request) Record() slog.Record {
	rec := slog.NewRecord(r.Time, r.Level, RequestMessage, 0)
	rec.AddAttrs(
		slog.String("method", r.Method),
		slog.String("route", r.Route),
		slog.Int("status", r.Status),
		slog.Duration("duration", r.Duration),
		slog.String("request_id", r.ID),
	)
	if r.Err != nil {
		rec.AddAttrs(slog.String("error", r.Err.Error()))
	}
	if r.Stack != nil {
		rec.AddAttrs(slog.String("stack", string(r.Stack)))
	}
	return rec
}

var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (h *Handler) writeRequest(r *Request) {
	bp := bufs.Get().(*[]byte)
	b := h.appendRequest((*bp)[:0], r)
	// Like slog's handlers, a failed write is not reported to the request. A 5xx's line
	// goes out at once, as slog's records do: it is what an operator looks for first.
	if r.Level >= slog.LevelWarn {
		_, _ = h.w.Write(b)
	} else {
		h.w.writeLine(b)
	}
	if cap(b) <= 64<<10 { // a panic's stack can be large; don't keep such a buffer
		*bp = b
		bufs.Put(bp)
	}
}

// appendRequest appends r's line as slog's handler would write it: built-in keys first
// (time, level, msg), then the attributes, each key and value encoded as slog encodes a
// string, int or duration in that format.
func (h *Handler) appendRequest(b []byte, r *Request) []byte {
	if h.json {
		b = append(b, `{"time":"`...)
		b = r.Time.Round(0).AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	} else {
		b = append(b, "time="...)
		b = appendRFC3339Millis(b, r.Time.Round(0))
	}
	b = h.appendString(h.appendKey(b, "level"), r.Level.String())
	b = h.appendString(h.appendKey(b, "msg"), RequestMessage)
	b = h.appendString(h.appendKey(b, "method"), r.Method)
	b = h.appendString(h.appendKey(b, "route"), r.Route)
	b = strconv.AppendInt(h.appendKey(b, "status"), int64(r.Status), 10)
	b = h.appendKey(b, "duration")
	if h.json {
		b = strconv.AppendInt(b, int64(r.Duration), 10)
	} else {
		b = append(b, r.Duration.String()...)
	}
	b = h.appendString(h.appendKey(b, "request_id"), r.ID)
	if r.Err != nil {
		b = h.appendString(h.appendKey(b, "error"), r.Err.Error())
	}
	if r.Stack != nil {
		b = h.appendString(h.appendKey(b, "stack"), string(r.Stack))
	}
	if h.json {
		b = append(b, '}')
	}
	return append(b, '\n')
}

// appendKey appends the separator and key; every key here is plain ASCII that neither
// format quotes or escapes.
func (h *Handler) appendKey(b []byte, key string) []byte {
	if h.json {
		b = append(b, ',', '"')
		b = append(b, key...)
		return append(b, '"', ':')
	}
	b = append(b, ' ')
	b = append(b, key...)
	return append(b, '=')
}

func (h *Handler) appendString(b []byte, s string) []byte {
	if h.json {
		b = append(b, '"')
		b = appendEscapedJSONString(b, s)
		return append(b, '"')
	}
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

// The functions below are log/slog's own (Go 1.26, handler.go, text_handler.go and
// json_handler.go), which it does not export.

func appendRFC3339Millis(b []byte, t time.Time) []byte {
	// RFC3339Nano trims trailing zeros, so add 1/10 ms to keep exactly 4 digits after
	// the point, then drop the 4th.
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

func needsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			// Anything but a backslash that a JSON string would escape, and space and '='.
			if b != '\\' && (b == ' ' || b == '=' || !safe(b)) {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// safe reports whether ASCII byte b stands for itself inside a JSON string (slog's and
// encoding/json's safeSet: all but the control characters, '"' and '\\').
func safe(b byte) bool { return b >= 0x20 && b != '"' && b != '\\' }

func appendEscapedJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if safe(b) {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\')
			switch b {
			case '\\', '"':
				buf = append(buf, b)
			case '\n':
				buf = append(buf, 'n')
			case '\r':
				buf = append(buf, 'r')
			case '\t':
				buf = append(buf, 't')
			default:
				buf = append(buf, 'u', '0', '0', hex[b>>4], hex[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		// U+2028 and U+2029 are valid in JSON but not in JavaScript; slog escapes them.
		if c == '\u2028' || c == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\u202`...)
			buf = append(buf, hex[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(buf, s[start:]...)
}
