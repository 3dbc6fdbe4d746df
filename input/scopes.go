package input

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Scope errors. A custom scope's error names it, wrapped with %w.
var (
	ErrScopesRequired = errors.New("Choose at least one scope.")
	ErrScopeInvalid   = errors.New("is not a valid scope: use 1 to 64 lowercase letters, digits and _ . : -, starting with a letter or digit.")
	ErrScopeReserved  = errors.New("is reserved: scopes starting with products: or keys: belong to keyport.")
	ErrTooManyScopes  = fmt.Errorf("A key may have at most %d custom scopes.", MaxCustomScopes)
)

// MaxCustomScopes is how many scopes outside keyport's own a key may hold.
const MaxCustomScopes = 20

// isCustomScope reports whether s is a well-formed scope, ^[a-z0-9][a-z0-9_.:-]{0,63}$,
// checked by hand: forward auth checks each scope of its query on every request, and the
// regexp cost 0.5 µs a scope.
func isCustomScope(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == ':' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// Scopes checks a key's scopes and returns them space-separated: the ones in known (keyport's
// own) in the order of known, then custom ones in the order given, without duplicates. A
// custom scope matches ^[a-z0-9][a-z0-9_.:-]{0,63}$ and is not in the namespace of a known
// one (products:, keys:), so it can never be mistaken for one keyport grants.
func Scopes(submitted, known []string) (string, error) {
	var custom []string
	for _, s := range submitted {
		if slices.Contains(known, s) || slices.Contains(custom, s) {
			continue
		}
		if err := CheckScope(s); err != nil {
			return "", err
		}
		if slices.ContainsFunc(known, func(k string) bool { return sameNamespace(k, s) }) {
			return "", fmt.Errorf("“%s” %w", s, ErrScopeReserved)
		}
		custom = append(custom, s)
	}
	if len(custom) > MaxCustomScopes {
		return "", ErrTooManyScopes
	}
	var out []string
	for _, k := range known {
		if slices.Contains(submitted, k) {
			out = append(out, k)
		}
	}
	out = append(out, custom...)
	if len(out) == 0 {
		return "", ErrScopesRequired
	}
	return strings.Join(out, " "), nil
}

// CheckScope reports whether s is a well-formed scope name, keyport's own or custom:
// nil, or ErrScopeInvalid naming it.
func CheckScope(s string) error {
	if !isCustomScope(s) {
		return fmt.Errorf("“%s” %w", clip(s, 64), ErrScopeInvalid)
	}
	return nil
}

// sameNamespace reports whether s starts with known's namespace ("products:" for
// "products:read").
func sameNamespace(known, s string) bool {
	ns, _, ok := strings.Cut(known, ":")
	return ok && strings.HasPrefix(s, ns+":")
}

// clip makes s safe to echo back in a message: valid UTF-8, no control characters, at
// most n characters.
func clip(s string, n int) string {
	r := []rune(strings.ToValidUTF8(s, "�"))
	for i, c := range r {
		if unicode.IsControl(c) {
			r[i] = '�'
		}
	}
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return string(r)
}
