// Package keyauth verifies API keys against the database, with a cache of verified keys
// that revocation, roll and expiry can never outlive.
package keyauth

import (
	"context"
	"database/sql"
	"errors"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"keyport/apikey"
	"keyport/lastused"
	"keyport/queries"
	"keyport/ratelimit"
	"keyport/usage"
)

// Verification outcomes. Callers map them to the API's status codes.
var (
	ErrMissing = errors.New("api key required")
	ErrInvalid = errors.New("invalid api key")
	ErrRevoked = errors.New("api key revoked")
	ErrExpired = errors.New("api key expired")
)

// Scope names. Besides these a key may hold custom scopes, which keyport only stores and
// reports: they are for the organization's own services, checked through verify.
const (
	ScopeProductsRead  = "products:read"
	ScopeProductsWrite = "products:write"
	ScopeKeysVerify    = "keys:verify"
	ScopeKeysRead      = "keys:read"
	ScopeKeysWrite     = "keys:write"
)

// Scope groups, in display order: the products API, and key management, which makes a
// key a root key.
var (
	ProductScopes = []string{ScopeProductsRead, ScopeProductsWrite}
	RootScopes    = []string{ScopeKeysVerify, ScopeKeysRead, ScopeKeysWrite}
	// AllScopes lists every scope keyport itself defines, in display order.
	AllScopes = slices.Concat(ProductScopes, RootScopes)
	// DefaultScopes are preselected for a new key: a root key is never made by default.
	DefaultScopes = ProductScopes
)

// Key is what a request learns about the key it presented.
type Key struct {
	ID        string
	OrgID     string
	Name      string
	Hint      string
	Scopes    string // space-separated
	ExpiresAt int64  // Unix ms; 0 = never
	RevokedAt int64  // Unix ms; 0 = active

	// State is what the request path keeps in this process for the key, found with it in
	// Verify's cache so that a request looks its key up once; nil for a key Verify did
	// not cache (a disabled Verifier).
	State *State
	// defined holds which of AllScopes the key was granted, for HasScope; 0 when not
	// worked out (a Key made elsewhere than Verify).
	defined scopeSet
}

// State is one cached key's handles to its records in the request path's per-key
// memory, which live on in their packages when the cache entry goes (invalidation).
type State struct {
	// Limit is the key's bucket in the rate limiter.
	Limit ratelimit.Slot
	// LastUse is the key's entry in the last-used recorder.
	LastUse lastused.Slot
	// Usage is the key's record in the usage counter.
	Usage usage.Slot
}

// LimitSlot, LastUseSlot and UsageSlot are the key's slots; nil for a nil State, so that
// the record is looked up by key each time.
func (s *State) LimitSlot() *ratelimit.Slot {
	if s == nil {
		return nil
	}
	return &s.Limit
}

func (s *State) LastUseSlot() *lastused.Slot {
	if s == nil {
		return nil
	}
	return &s.LastUse
}

func (s *State) UsageSlot() *usage.Slot {
	if s == nil {
		return nil
	}
	return &s.Usage
}

// scopeSet is a set of AllScopes: bit i+1 for AllScopes[i], and bit 0 once worked out.
type scopeSet uint64

// scopeBit is scope's bit in a scopeSet, 0 for a scope not in AllScopes (or beyond what
// the set holds).
func scopeBit(scope string) scopeSet {
	if i := slices.Index(AllScopes, scope); i >= 0 && i < 63 {
		return 2 << i
	}
	return 0
}

func definedScopes(scopes string) scopeSet {
	set := scopeSet(1)
	for s := range strings.FieldsSeq(scopes) {
		set |= scopeBit(s)
	}
	return set
}

// IsRoot reports whether a key with scopes (space-separated) is a root key: one that may
// verify or manage its organization's keys.
func IsRoot(scopes string) bool {
	for s := range strings.FieldsSeq(scopes) {
		if slices.Contains(RootScopes, s) {
			return true
		}
	}
	return false
}

// HasScope reports whether the key was granted scope.
func (k Key) HasScope(scope string) bool {
	if k.defined != 0 {
		// Every API request asks for one of keyport's own scopes: a bit, not a scan.
		if bit := scopeBit(scope); bit != 0 {
			return k.defined&bit != 0
		}
	}
	for s := range strings.FieldsSeq(k.Scopes) {
		if s == scope {
			return true
		}
	}
	return false
}

// Verifier checks keys. Lookups that hit the database are remembered by hash; any change
// to a key's validity (Invalidate, or the key epoch moving because another process
// revoked a key) empties the cache before the next request is answered from it.
type Verifier struct {
	q *queries.Queries

	mu       sync.RWMutex
	disabled bool
	gen      uint64
	known    map[[32]byte]Key
	unknown  map[[32]byte]struct{}
	epoch    int64

	// The filter of stored keys (filter.go): nil until built, and while disabled.
	seed                maphash.Seed
	filter              atomic.Pointer[fingerprints]
	syncMu              sync.Mutex // one sync at a time
	fmu                 sync.Mutex // serializes changes to the filter and the fields below
	filterIssued        int64      // the highest api_keys.issued folded into the filter
	building            bool
	issuedWhileBuilding []uint32
}

// maxCached bounds memory: about 250 bytes an entry with a long name, so ~16 MB at the limit.
const maxCached = 65536

// NewVerifier returns a Verifier reading through q (ideally prepared on the read pool).
func NewVerifier(q *queries.Queries) *Verifier {
	return &Verifier{
		q:       q,
		known:   make(map[[32]byte]Key),
		unknown: make(map[[32]byte]struct{}),
		seed:    maphash.MakeSeed(),
	}
}

// Verify checks raw (the header value) at time now and returns the key, or one of
// ErrMissing, ErrInvalid, ErrRevoked, ErrExpired, or a database error.
func (v *Verifier) Verify(ctx context.Context, raw string, now time.Time) (Key, error) {
	if raw == "" {
		return Key{}, ErrMissing
	}
	if apikey.Parse(raw) != nil {
		return Key{}, ErrInvalid
	}
	h := apikey.Hash(raw)

	v.mu.RLock()
	k, hit := v.known[h]
	gen := v.gen
	v.mu.RUnlock()
	if !hit {
		// The filter before the keys known not to exist: it turns away a sprayed key
		// without the lock; that set only holds the filter's few false positives (and
		// every unknown key while there is no filter).
		if !v.mayExist(h) {
			return Key{}, ErrInvalid
		}
		v.mu.RLock()
		_, miss := v.unknown[h]
		v.mu.RUnlock()
		if miss {
			return Key{}, ErrInvalid
		}
		// A copy for the query, which keeps its slice: sliced, h itself would be moved to
		// the heap on every call, also those answered from the cache.
		hq := h
		row, err := v.q.GetAPIKeyByHash(ctx, hq[:])
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// A key that does not exist now cannot come to exist later: new keys are
			// random, so their hashes are never ones a client tried before.
			v.store(gen, h, nil)
			return Key{}, ErrInvalid
		case err != nil:
			return Key{}, err
		}
		k = Key{ID: row.ID, OrgID: row.OrgID, Name: row.Name, Hint: row.Hint, Scopes: row.Scopes,
			ExpiresAt: row.ExpiresAt.Int64, RevokedAt: row.RevokedAt.Int64,
			State: new(State), defined: definedScopes(row.Scopes)}
		if !v.store(gen, h, &k) {
			k.State = nil
		}
	}
	// Whether a key was rolled does not change whether it works, and is not read here.
	switch (apikey.Life{ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt}).State(now) {
	case apikey.Revoked:
		return k, ErrRevoked
	case apikey.Expired:
		return k, ErrExpired
	}
	return k, nil
}

// store caches a lookup unless the cache was invalidated while the lookup ran: then the
// row read may predate the change, and caching it would resurrect a revoked key. It
// reports whether it did.
func (v *Verifier) store(gen uint64, h [32]byte, k *Key) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if gen != v.gen || v.disabled {
		return false
	}
	if k == nil {
		if len(v.unknown) >= maxCached {
			clear(v.unknown)
		}
		v.unknown[h] = struct{}{}
		return true
	}
	if len(v.known) >= maxCached {
		for old := range v.known { // map order is random: evict an arbitrary entry
			delete(v.known, old)
			break
		}
	}
	v.known[h] = *k
	return true
}

// Invalidate drops every cached verified key. Call it after any change to a key's
// validity, before answering the request that made the change.
func (v *Verifier) Invalidate() {
	v.mu.Lock()
	v.gen++
	clear(v.known)
	v.mu.Unlock()
}

// Disable stops caching and filtering: every verification reads the database. Used when
// changes by other processes cannot be watched.
func (v *Verifier) Disable() {
	v.fmu.Lock()
	v.mu.Lock()
	v.disabled = true
	v.mu.Unlock()
	v.filter.Store(nil)
	v.fmu.Unlock()
	v.Invalidate()
}

// CheckEpoch catches up with changes to keys made by any process: it invalidates the
// cache if the database's key epoch moved since the last check (the epoch moves on every
// revoke, roll or scope change), and brings the key filter up to date, rebuilding it
// when the epoch moved and otherwise adding the keys stored since the last check.
func (v *Verifier) CheckEpoch(ctx context.Context) error {
	n, err := v.q.GetKeyEpoch(ctx)
	if err != nil {
		return err
	}
	v.mu.Lock()
	changed := n != v.epoch
	v.epoch = n
	v.mu.Unlock()
	if changed {
		v.Invalidate()
	}
	return v.syncFilter(ctx, changed)
}
