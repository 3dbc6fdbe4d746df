package handlers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/apikey"
	"keyport/database"
	"keyport/keyauth"
	"keyport/lastused"
	"keyport/metrics"
	"keyport/migrations"
	"keyport/queries"
	"keyport/ratelimit"
)

// benchKeyServer is a Server with what requireKey uses, on a real SQLite file
// holding one valid key, which it returns.
func benchKeyServer(b *testing.B) (*Server, string) {
	b.Helper()
	ctx := context.Background()
	db, err := database.Open(ctx, filepath.Join(b.TempDir(), "keyport.db"), migrations.All())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	write := queries.New(db.Write)
	read, err := queries.Prepare(ctx, db.Read)
	if err != nil {
		b.Fatal(err)
	}
	key, err := apikey.Generate()
	if err != nil {
		b.Fatal(err)
	}
	h := apikey.Hash(key)
	if err := write.CreateOrganization(ctx, queries.CreateOrganizationParams{ID: "org_bench", Name: "Bench"}); err != nil {
		b.Fatal(err)
	}
	if err := write.CreateAPIKey(ctx, queries.CreateAPIKeyParams{
		ID: "key_bench", OrgID: "org_bench", Name: "bench", Hash: h[:], Hint: apikey.Hint(key),
		Scopes: keyauth.ScopeProductsRead + " " + keyauth.ScopeProductsWrite,
	}); err != nil {
		b.Fatal(err)
	}
	// As the app builds it, with a rate limit too high to trigger.
	return &Server{Deps: Deps{
		Keys:    keyauth.NewVerifier(read),
		Usage:   lastused.New(db.Write, write),
		Limiter: ratelimit.New(100_000_000, time.Minute, 0),
		Metrics: metrics.New(),
		Now:     time.Now,
	}}, key
}

// BenchmarkRequireKey measures the auth middleware alone (the next handler does nothing):
// a valid key after its first use (answered from the verification cache), a well-formed
// key no one issued (first as a new key each time, which costs a database lookup, then the
// same key again, answered from the cache of unknown hashes), and a bad checksum, refused
// before any lookup.
func BenchmarkRequireKey(b *testing.B) {
	s, valid := benchKeyServer(b)
	// More fresh keys than the verifier caches, so "unknown" never hits the cache.
	fresh := make([]string, 100_000)
	for i := range fresh {
		k, err := apikey.Generate()
		if err != nil {
			b.Fatal(err)
		}
		fresh[i] = k
	}
	last := byte('0')
	if valid[len(valid)-1] == '0' {
		last = '1'
	}
	badSum := valid[:len(valid)-1] + string(last)
	if apikey.Parse(badSum) != apikey.ErrChecksum {
		b.Fatal("badSum has a valid checksum")
	}
	cases := []struct {
		name string
		key  func(i int) string
		ok   bool
	}{
		{"valid-cached", func(int) string { return valid }, true},
		{"unknown-fresh", func(i int) string { return fresh[i%len(fresh)] }, false},
		{"unknown-repeated", func(int) string { return fresh[0] }, false},
		{"bad-checksum", func(int) string { return badSum }, false},
	}
	e := echo.New()
	h := s.requireKey(keyauth.ScopeProductsWrite)(func(echo.Context, keyauth.Key) error { return nil })
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodPost, "/api/products", nil)
			c := e.NewContext(req, httptest.NewRecorder())
			i := 0
			for b.Loop() {
				req.Header.Set("X-Api-Key", tc.key(i))
				i++
				if err := h(c); (err == nil) != tc.ok {
					b.Fatalf("requireKey: %v", err)
				}
			}
		})
	}
}
