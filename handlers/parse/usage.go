package parse

import "fmt"

// ErrUsageDays is a days parameter outside 1 to 90.
var ErrUsageDays = fmt.Errorf("%w: days must be an integer from 1 to 90", ErrInvalidRequest)

// UsageDays reads the usage API's ?days=: 1 to 90, empty meaning 7.
func UsageDays(s string) (int, error) { return intParam(s, 7, 1, 90, ErrUsageDays) }
