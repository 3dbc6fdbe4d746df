package input

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Key form errors.
var (
	ErrKeyNameRequired = errors.New("Name is required.")
	ErrKeyNameTooLong  = errors.New("Name must be at most 100 characters.")
	ErrKeyNameInvalid  = errors.New("Name must not contain control characters.")
	ErrExpiryInvalid   = errors.New("Choose an expiry: never, 7, 30, 90 or 365 days.")
	ErrGraceInvalid    = errors.New("Choose a grace period: now, 1 hour, 24 hours or 7 days.")
)

// ExpiryDays are the expiry choices offered, in days; 0 means never.
var ExpiryDays = []int{0, 7, 30, 90, 365}

// GraceChoices are the roll grace periods offered, as sent by the form.
var GraceChoices = []string{"0", "1h", "24h", "168h"}

// DefaultGrace is the roll grace period preselected, and taken when none is asked for:
// long enough to deploy the new key everywhere without an outage.
const DefaultGrace = "24h"

// MaxKeyNameChars is the longest key name.
const MaxKeyNameChars = 100

// KeyName trims s and checks it is 1 to 100 characters.
func KeyName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", ErrKeyNameRequired
	case !utf8.ValidString(s) || HasControl(s):
		return "", ErrKeyNameInvalid
	case utf8.RuneCountInString(s) > MaxKeyNameChars:
		return "", ErrKeyNameTooLong
	}
	return s, nil
}

// ExpiresIn parses expires_in_days; an empty value means never.
func ExpiresIn(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || !slices.Contains(ExpiryDays, n) {
		return 0, ErrExpiryInvalid
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// Grace parses the roll form's grace field.
func Grace(s string) (time.Duration, error) {
	if !slices.Contains(GraceChoices, s) {
		return 0, ErrGraceInvalid
	}
	if s == "0" {
		return 0, nil
	}
	return time.ParseDuration(s)
}
