package parse

import (
	"strings"
	"unicode/utf8"
)

// scanner reads the shape nearly every API body has: one object of plain strings (no
// escapes) and numbers, in valid UTF-8. encoding/json's tokenizer costs a few µs a body
// (a Decoder, its buffer, a map of seen fields, a boxed token each); this costs a few
// hundred ns. It only ever says "this is exactly what encoding/json would read" or "not
// sure": anything else — escapes, null, nesting, a syntax error — is left to the strict
// parser, so that every error keeps its wording.
type scanner struct {
	b []byte
	i int
}

// space skips JSON's four whitespace bytes, the only ones encoding/json skips.
func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// eat consumes c after whitespace, if it is next.
func (s *scanner) eat(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports whether only whitespace is left.
func (s *scanner) end() bool {
	s.space()
	return s.i == len(s.b)
}

// str reads a string whose bytes are its value: no escapes, no control characters (which
// JSON refuses raw), valid UTF-8 (which encoding/json would replace).
func (s *scanner) str() ([]byte, bool) {
	if !s.eat('"') {
		return nil, false
	}
	start, ascii := s.i, true
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			v := s.b[start:s.i]
			s.i++
			return v, ascii || utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// number reads a number literal by JSON's grammar, as written.
func (s *scanner) number() ([]byte, bool) {
	s.space()
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = digits(b, i+1)
	default:
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		j := digits(b, i+1)
		if j == i+1 {
			return nil, false
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := digits(b, i)
		if j == i {
			return nil, false
		}
		i = j
	}
	v := b[s.i:i]
	s.i = i
	return v, true
}

func digits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// scanProduct is Product's fast path: ok only when body is an object of at most one
// string name and one number price, which tokenProduct would read the same.
func scanProduct(body []byte) (f productFields, ok bool) {
	s := scanner{b: body}
	if !s.eat('{') {
		return f, false
	}
	if s.eat('}') {
		return f, s.end()
	}
	for {
		key, ok := s.str()
		if !ok || !s.eat(':') {
			return f, false
		}
		switch string(key) {
		case "name":
			v, ok := s.str()
			if !ok || f.hasName {
				return f, false
			}
			f.name, f.hasName = string(v), true
		case "price":
			v, ok := s.number()
			if !ok || f.hasPrice {
				return f, false
			}
			f.price, f.hasPrice = string(v), true
		default:
			return f, false
		}
		if s.eat(',') {
			continue
		}
		return f, s.eat('}') && s.end()
	}
}

// scanVerify is Verify's fast path: ok only when body is an object of a string key and at
// most one array of string scopes, which decodeVerify would accept and read the same.
func scanVerify(body []byte) (in VerifyInput, ok bool) {
	s := scanner{b: body}
	if !s.eat('{') {
		return in, false
	}
	var hasKey, hasScopes bool
	for {
		field, ok := s.str()
		if !ok || !s.eat(':') {
			return in, false
		}
		switch string(field) {
		case "key":
			v, ok := s.str()
			if !ok || hasKey {
				return in, false
			}
			in.Key, hasKey = string(v), true
		case "scopes":
			if hasScopes || !s.eat('[') {
				return in, false
			}
			hasScopes = true
			for more := !s.eat(']'); more; more = !s.eat(']') {
				if len(in.Scopes) > 0 && !s.eat(',') {
					return in, false
				}
				v, ok := s.str()
				if !ok {
					return in, false
				}
				in.Scopes = append(in.Scopes, string(v))
			}
		default:
			return in, false
		}
		if s.eat(',') {
			continue
		}
		if !hasKey || !s.eat('}') || !s.end() {
			return in, false
		}
		in.Key = strings.TrimSpace(in.Key)
		return in, true
	}
}
