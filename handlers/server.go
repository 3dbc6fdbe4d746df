// Package handlers holds keyport's HTTP layer: the dashboard pages, the products API and
// the middleware that guards them.
package handlers

import (
	"log/slog"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/alexedwards/scs/v2"
	"golang.org/x/crypto/bcrypt"

	"keyport/database"
	"keyport/groupcommit"
	"keyport/keyauth"
	"keyport/lastused"
	"keyport/metrics"
	"keyport/org"
	"keyport/queries"
	"keyport/ratelimit"
	"keyport/usage"
)

// Deps are the server's dependencies; package app builds them once.
type Deps struct {
	DB    *database.DB
	Write *queries.Queries // on the writer connection
	// Commit runs the audited writes and product inserts on the writer connection,
	// committing those that arrive together in one transaction.
	Commit   *groupcommit.Committer
	Read     *queries.Queries // prepared on the reader pool
	Sessions *scs.SessionManager
	Pages    *Templates
	Keys     *keyauth.Verifier
	// Usage notes each key's last use; it writes them in the background.
	Usage *lastused.Recorder
	// Counts counts each key's verifications by outcome; nil means counting is off.
	Counts *usage.Counter
	// Limiter limits API requests per key (in this process or shared through the
	// database); nil means unlimited.
	Limiter ratelimit.Store
	Logger  *slog.Logger
	Metrics *metrics.Metrics
	// Now is the clock; tests inject a fixed one.
	Now func() time.Time
	// TrustedProxies are the peers whose X-Forwarded-For names the client; none by default.
	TrustedProxies []*net.IPNet
	// PublicURL, if set, is the only address keyport answers at (see publicHost).
	PublicURL *url.URL
	// BcryptCost for new passwords; tests lower it to keep signups fast.
	BcryptCost int
}

// Server is the HTTP layer: its dependencies and what New derives from them.
type Server struct {
	Deps
	// Org makes every audited write, on the writer connection.
	Org *org.Writer
	// dummyHash is compared against when an email is unknown, so both failure cases take
	// the same time.
	dummyHash []byte
	// answers are the buffers answerJSON writes JSON answers in.
	answers sync.Pool
}

// New builds the server; Routes then registers its routes.
func New(d Deps) (*Server, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte("keyport-timing-equalizer"), d.BcryptCost)
	if err != nil {
		return nil, err
	}
	s := &Server{Deps: d, dummyHash: hash}
	s.Org = &org.Writer{Commit: d.Commit, Queries: d.Write, Now: d.Now, KeysChanged: d.Keys.Invalidate, KeyIssued: d.Keys.Issued}
	s.Sessions.ErrorFunc = s.sessionError
	return s, nil
}
