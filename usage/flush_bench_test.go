package usage_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"keyport/usage"
)

// BenchmarkFlush1000Keys is one flush of 1,000 keys' counts for the current hour (the
// load `make bench` puts on the writer every 5 s: one upsert a key), into a table that
// already holds their row: ns/op is per flush.
func BenchmarkFlush1000Keys(b *testing.B) {
	c, _ := openTB(b)
	now := time.Now()
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = fmt.Sprintf("key_%022d", i)
	}
	for b.Loop() {
		for _, id := range ids {
			c.Count(id, usage.Valid, now)
		}
		if _, err := c.Flush(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
