package input

import "strings"

// Storable makes s something every engine's text column takes, for input that is stored
// as typed even when it is invalid (a failed sign-in's email): invalid UTF-8 and NUL,
// which PostgreSQL refuses, become U+FFFD.
func Storable(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}
