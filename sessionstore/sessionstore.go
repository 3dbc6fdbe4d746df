// Package sessionstore keeps session tokens out of the database: Hashed wraps any scs
// store (the SQLite store, the PostgreSQL store) and hands it the SHA-256 of each token
// instead of the token, so a copy of the database (a backup, a stolen file) holds no
// token that would sign anyone in.
package sessionstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/alexedwards/scs/v2"
)

// Hashed is an scs.CtxStore that stores under hashed tokens.
type Hashed struct {
	inner scs.Store
}

// Hash wraps inner. Contexts reach inner when it is an scs.CtxStore.
func Hash(inner scs.Store) *Hashed { return &Hashed{inner: inner} }

// Key is what the inner store sees for token: the hex SHA-256. Tokens are 256 random
// bits from scs, so a fast unsalted hash is enough.
func Key(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (h *Hashed) Find(token string) ([]byte, bool, error) { return h.inner.Find(Key(token)) }

func (h *Hashed) Commit(token string, b []byte, expiry time.Time) error {
	return h.inner.Commit(Key(token), b, expiry)
}

func (h *Hashed) Delete(token string) error { return h.inner.Delete(Key(token)) }

func (h *Hashed) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	if cs, ok := h.inner.(scs.CtxStore); ok {
		return cs.FindCtx(ctx, Key(token))
	}
	return h.Find(token)
}

func (h *Hashed) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	if cs, ok := h.inner.(scs.CtxStore); ok {
		return cs.CommitCtx(ctx, Key(token), b, expiry)
	}
	return h.Commit(token, b, expiry)
}

func (h *Hashed) DeleteCtx(ctx context.Context, token string) error {
	if cs, ok := h.inner.(scs.CtxStore); ok {
		return cs.DeleteCtx(ctx, Key(token))
	}
	return h.Delete(token)
}

var _ scs.CtxStore = (*Hashed)(nil)
