package handlers

import (
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// answerJSON answers v exactly as c.JSON(code, v) would — the same bytes, trailing newline
// included, and the same Content-Type — but with v's JSON appended by hand: Echo's
// c.JSON builds a json.Encoder and walks v by reflection on every answer, a few µs on
// the hottest routes. ?pretty (or Echo's debug mode) asks c.JSON for indented JSON, which
// only it writes. The buffer comes from s.answers and goes back once written (a Writer
// keeps nothing of what it is given), as encoding/json reuses its own. The Content-Type
// is the shared value, not c.Blob's Get and Set of it.
func answerJSON[T any](s *Server, c echo.Context, code int, v T, appendJSON func(T, []byte) []byte) error {
	if c.Echo().Debug || c.QueryString() != "" && c.QueryParams().Has("pretty") {
		return replyJSON(c, code, v)
	}
	buf, _ := s.answers.Get().(*[]byte)
	if buf == nil {
		buf = new([]byte)
	}
	b := append(appendJSON(v, (*buf)[:0]), '\n')
	resp := c.Response()
	resp.Header()[hdrContentType] = jsonTypeValue
	resp.WriteHeader(code)
	_, err := resp.Write(b)
	if cap(b) <= maxPooledAnswer {
		*buf = b
		s.answers.Put(buf)
	}
	return err
}

// replyJSON is c.JSON with the shared Content-Type value, for the answers not worth
// writing by hand.
func replyJSON(c echo.Context, code int, v any) error {
	c.Response().Header()[hdrContentType] = jsonTypeValue
	return c.JSON(code, v)
}

// maxPooledAnswer bounds what s.answers keeps: a page of long names now and then must not
// hold its memory for good.
const maxPooledAnswer = 64 << 10

// appendJSONString appends s as encoding/json writes a string with its HTML escaping on (as
// json.Encoder and json.Marshal have it): <, > and & as \u003c, \u003e and \u0026,
// U+2028 and U+2029 escaped, each byte of invalid UTF-8 as \ufffd.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendJSONStrings appends list as encoding/json writes a []string: null when nil.
func appendJSONStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONNullString appends s as encoding/json writes a *string.
func appendJSONNullString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendJSONString(b, *s)
}
