package input

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
)

// ErrCursor is returned for a page cursor keyport did not make.
var ErrCursor = errors.New("cursor is not valid")

// Cursor decodes an opaque page cursor; empty means the first page.
func Cursor(s string) (int64, error) {
	if s == "" {
		return 1<<63 - 1, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return 0, ErrCursor
	}
	n, err := strconv.ParseInt(strings.TrimPrefix(string(b), "s"), 10, 64)
	if err != nil || n <= 0 || !strings.HasPrefix(string(b), "s") {
		return 0, ErrCursor
	}
	return n, nil
}

// EncodeCursor makes the cursor for the page after the row with sequence seq.
func EncodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("s" + strconv.FormatInt(seq, 10)))
}
