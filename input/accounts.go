// Package input validates what people give keyport — in the dashboard's forms, on the
// command line, in a page link — into the values it stores: emails, passwords, names,
// key lifetimes, scopes and page cursors. Every function is pure and returns a sentinel
// error whose text is a sentence shown to the person as it is. The products API's JSON
// bodies are parsed in handlers/parse.
package input

import (
	"errors"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Account errors; their text is shown on the forms.
var (
	ErrEmailInvalid    = errors.New("Enter a valid email address.")
	ErrPasswordLength  = errors.New("Password must be 8 to 72 bytes long.")
	ErrOrgNameInvalid  = errors.New("Organization name must be at most 100 characters, without control characters.")
	ErrPasswordInvalid = errors.New("Password must be valid UTF-8 without NUL bytes.")
)

// Longest values the account forms take: an email in bytes, an organization name in
// characters.
const (
	MaxEmailLen     = 254
	MaxOrgNameChars = 100
)

// Email trims and lower-cases s and checks it is a single plain address.
func Email(s string) (string, error) {
	// Checked before ToLower, which would turn invalid bytes into U+FFFD and accept them.
	if !utf8.ValidString(s) {
		return "", ErrEmailInvalid
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || len(s) > MaxEmailLen || HasControl(s) {
		return "", ErrEmailInvalid
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@')+1:], ".") {
		return "", ErrEmailInvalid
	}
	return s, nil
}

// Password checks the bcrypt-compatible length limits (bcrypt ignores bytes past 72).
func Password(s string) (string, error) {
	if len(s) < 8 || len(s) > 72 {
		return "", ErrPasswordLength
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return "", ErrPasswordInvalid
	}
	return s, nil
}

// OrgName trims s; an empty name falls back to one derived from the email.
func OrgName(s, email string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		local, _, _ := strings.Cut(email, "@")
		return local + "'s organization", nil
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxOrgNameChars || HasControl(s) {
		return "", ErrOrgNameInvalid
	}
	return s, nil
}

// HasControl reports whether s holds a control character (C0 or DEL), which no name
// keyport stores may contain.
func HasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}
