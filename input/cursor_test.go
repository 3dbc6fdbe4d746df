package input_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"keyport/input"
)

func TestCursor(t *testing.T) {
	first, err := input.Cursor("")
	if err != nil {
		t.Fatalf(`Cursor("") error: %v`, err)
	}
	for _, seq := range []int64{1, 2, 45, 1 << 40, 1<<63 - 2} {
		c := input.EncodeCursor(seq)
		if strings.ContainsAny(c, "+/=&?# ") {
			t.Errorf("EncodeCursor(%d) = %q is not URL-safe", seq, c)
		}
		got, err := input.Cursor(c)
		if err != nil || got != seq {
			t.Errorf("Cursor(EncodeCursor(%d)) = %d, %v", seq, got, err)
		}
		if seq >= first {
			t.Errorf("the first page starts below %d and would miss seq %d", first, seq)
		}
	}
	b64 := base64.RawURLEncoding.EncodeToString
	for _, bad := range []string{
		"!!!", "czE=", "s1", b64([]byte("s0")), b64([]byte("s-1")), b64([]byte("s")),
		b64([]byte("1")), b64([]byte("x1")), b64([]byte("sabc")), b64([]byte("s99999999999999999999")),
	} {
		if got, err := input.Cursor(bad); !errors.Is(err, input.ErrCursor) {
			t.Errorf("Cursor(%q) = %d, %v; want ErrCursor", bad, got, err)
		}
	}
}
