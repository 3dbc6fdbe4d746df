package parse

import (
	"errors"
	"testing"
)

func TestUsageDays(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		err  error
	}{
		{"", 7, nil},
		{"1", 1, nil},
		{"2", 2, nil},
		{"90", 90, nil},
		{"0", 0, ErrUsageDays},
		{"91", 0, ErrUsageDays},
		{"-1", 0, ErrUsageDays},
		{"7.5", 0, ErrUsageDays},
		{"seven", 0, ErrUsageDays},
		{" 7", 0, ErrUsageDays},
	} {
		got, err := UsageDays(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("UsageDays(%q) = %d, %v; want %d, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}
