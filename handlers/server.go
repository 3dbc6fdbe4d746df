// Package handlers holds keyport's HTTP layer: the dashboard pages, the products API and
// the middleware that guards them.
package handlers

import (
	"log/slog"
	"net"
	"time"

	"github.com/alexedwards/scs/v2"

	"keyport/database"
	"keyport/keyauth"
	"keyport/lastused"
	"keyport/metrics"
	"keyport/org"
	"keyport/queries"
	"keyport/ratelimit"
	"keyport/usage"
)

// Server holds every dependency a handler needs; main builds it once.
type Server struct {
	DB       *database.DB
	Write    *queries.Queries // on the writer connection
	Read     *queries.Queries // prepared on the reader pool
	Sessions *scs.SessionManager
	Pages    *Templates
	Keys     *keyauth.Verifier
	// Org makes every audited write.
	Org *org.Writer
	// Usage notes each key's last use; it writes them in the background.
	Usage *lastused.Recorder
	// Counts counts each key's verifications by outcome; nil means counting is off.
	Counts *usage.Counter
	// Limiter limits API requests per key; nil means unlimited.
	Limiter *ratelimit.Limiter
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// Now is the clock; tests inject a fixed one.
	Now func() time.Time
	// TrustedProxies are the peers whose X-Forwarded-For names the client; none by default.
	TrustedProxies []*net.IPNet
	// BcryptCost for new passwords; tests lower it to keep signups fast.
	BcryptCost int
	// dummyHash is compared against when an email is unknown, so both failure cases take
	// the same time.
	dummyHash []byte
}
