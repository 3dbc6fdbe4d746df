package parse

import (
	"fmt"
	"strconv"
)

// ErrUsageDays is a days parameter outside 1 to 90.
var ErrUsageDays = fmt.Errorf("%w: days must be an integer from 1 to 90", ErrInvalidRequest)

// UsageDays reads the usage API's ?days=: 1 to 90, empty meaning 7.
func UsageDays(s string) (int, error) {
	if s == "" {
		return 7, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 90 {
		return 0, ErrUsageDays
	}
	return n, nil
}
