package sessionstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2/memstore"

	"keyport/sessionstore"
)

func TestHashedStoresOnlyTheHash(t *testing.T) {
	inner := memstore.NewWithCleanupInterval(0)
	h := sessionstore.Hash(inner)
	ctx := context.Background()
	const token = "the-token"
	if err := h.CommitCtx(ctx, token, []byte("data"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	all, err := inner.All()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := all[token]; ok || len(all) != 1 {
		t.Fatalf("inner store keys: %v; want only the hash", all)
	}
	if _, ok := all[sessionstore.Key(token)]; !ok {
		t.Fatalf("inner store has no entry under the token's hash")
	}
	for _, find := range []func(string) ([]byte, bool, error){
		h.Find, func(tok string) ([]byte, bool, error) { return h.FindCtx(ctx, tok) },
	} {
		if b, ok, err := find(token); err != nil || !ok || string(b) != "data" {
			t.Errorf("find by token: %q %v %v", b, ok, err)
		}
		// The hash itself is no token: whoever reads the store cannot use it.
		if _, ok, _ := find(sessionstore.Key(token)); ok {
			t.Error("the stored hash works as a token")
		}
	}
	if err := h.DeleteCtx(ctx, token); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := h.Find(token); ok {
		t.Error("found after delete")
	}
}
