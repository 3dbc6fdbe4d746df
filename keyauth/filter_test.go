package keyauth_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"keyport/apikey"
	"keyport/database"
	"keyport/keyauth"
	"keyport/queries"
	"keyport/testapp"
)

// storeKeys stores n keys through db in one transaction, without telling any verifier,
// and returns them.
func storeKeys(t *testing.T, db *sql.DB, prefix string, n int) []string {
	t.Helper()
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	q := queries.New(tx)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = storeKey(t, q, fmt.Sprintf("%s_%d", prefix, i), "products:read", time.Time{})
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return keys
}

func unknownKey(t *testing.T) string {
	t.Helper()
	k, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Once the filter is built, well-formed keys nobody issued are refused without a
// lookup: with the verifier's database closed they still get ErrInvalid, while a stored
// key that was not cached yet fails with the closed database's error, so the filter let
// it through to the lookup.
func TestFilterRefusesUnknownKeysWithoutTheDatabase(t *testing.T) {
	testapp.SQLiteOnly(t, "the key filter, which runs only on SQLite (Verifier.WithoutFilter)")
	ctx := context.Background()
	f := setup(t)
	cached := f.newKey(t, "key_cached", "products:read", time.Time{})
	uncached := f.newKey(t, "key_uncached", "products:read", time.Time{})

	read, err := sql.Open("sqlite3", "file:"+f.db.Path()+"?_query_only=true")
	if err != nil {
		t.Fatal(err)
	}
	v := keyauth.NewVerifier(queries.New(read))
	if err := v.CheckEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, cached, now); err != nil {
		t.Fatal(err)
	}
	read.Close()

	for i := range 1000 {
		if _, err := v.Verify(ctx, unknownKey(t), now); !errors.Is(err, keyauth.ErrInvalid) {
			t.Fatalf("unknown key %d with the database closed: %v, want ErrInvalid", i, err)
		}
	}
	if k, err := v.Verify(ctx, cached, now); err != nil || k.ID != "key_cached" {
		t.Errorf("cached key: %q, %v", k.ID, err)
	}
	if _, err := v.Verify(ctx, uncached, now); err == nil || errors.Is(err, keyauth.ErrInvalid) {
		t.Errorf("stored key not yet cached, database closed: %v, want the database's error", err)
	}
}

// A key stored by another process is not in the filter until CheckEpoch, which the
// server runs whenever the database changes; then it verifies. Enough keys that the
// extension reads more than one page.
func TestFilterFollowsKeysFromAnotherProcess(t *testing.T) {
	testapp.SQLiteOnly(t, "the key filter, which runs only on SQLite (Verifier.WithoutFilter)")
	ctx := context.Background()
	f := setup(t)
	other := f.otherDB
	keys := storeKeys(t, other, "key_other", 10_001)
	if _, err := f.verifier.Verify(ctx, keys[0], now); !errors.Is(err, keyauth.ErrInvalid) {
		t.Fatalf("before the check: %v, want ErrInvalid (the filter has not seen the key yet)", err)
	}
	if err := f.verifier.CheckEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if _, err := f.verifier.Verify(ctx, k, now); err != nil {
			t.Fatalf("key %d after the check: %v", i, err)
		}
	}
}

// When the key epoch moves the filter is rebuilt from the hash index, page by page, and
// holds every stored key, those issued here and those stored elsewhere.
func TestFilterRebuild(t *testing.T) {
	testapp.SQLiteOnly(t, "the key filter, which runs only on SQLite (Verifier.WithoutFilter)")
	ctx := context.Background()
	f := setup(t)
	mine := f.newKey(t, "key_mine", "products:read", time.Time{})
	other := f.otherDB
	keys := storeKeys(t, other, "key_other", 20_001)
	if _, err := queries.New(other).RevokeAPIKeyByID(ctx, queries.RevokeAPIKeyByIDParams{Now: sql.NullInt64{Int64: 1, Valid: true}, ID: "key_mine"}); err != nil {
		t.Fatal(err)
	}
	if err := f.verifier.CheckEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		if _, err := f.verifier.Verify(ctx, k, now); err != nil {
			t.Fatalf("key %d after the rebuild: %v", i, err)
		}
	}
	if _, err := f.verifier.Verify(ctx, mine, now); !errors.Is(err, keyauth.ErrRevoked) {
		t.Errorf("revoked key: %v, want ErrRevoked", err)
	}
}

// A fingerprint in the filter with no stored key behind it (a false positive) only
// sends the key to the lookup, which refuses it.
func TestFilterFalsePositiveIsLookedUp(t *testing.T) {
	testapp.SQLiteOnly(t, "the key filter, which runs only on SQLite (Verifier.WithoutFilter)")
	f := setup(t)
	ghost := unknownKey(t)
	f.verifier.Issued(ghost)
	if _, err := f.verifier.Verify(context.Background(), ghost, now); !errors.Is(err, keyauth.ErrInvalid) {
		t.Errorf("%v, want ErrInvalid", err)
	}
}

// Keys issued in this process verify at once, also while other processes' changes make
// the filter rebuild or extend at the same moment.
func TestFilterIssuedDuringRebuilds(t *testing.T) {
	testapp.SQLiteOnly(t, "the key filter, which runs only on SQLite (Verifier.WithoutFilter)")
	ctx := context.Background()
	f := setup(t)
	other := f.otherDB
	storeKeys(t, other, "key_bulk", 20_000) // so a rebuild takes a while
	if err := f.verifier.CheckEpoch(ctx); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			// A revocation moves the epoch (a rebuild); a key stored by the other
			// connection does not (an extension).
			if i%2 == 0 && i/2 < 20_000 {
				if _, err := queries.New(other).RevokeAPIKeyByID(ctx, queries.RevokeAPIKeyByIDParams{
					Now: sql.NullInt64{Int64: 1, Valid: true}, ID: fmt.Sprintf("key_bulk_%d", i/2)}); err != nil {
					t.Error(err)
					return
				}
			} else {
				storeKey(t, queries.New(other), fmt.Sprintf("key_else_%d", i), "products:read", time.Time{})
			}
			if err := f.verifier.CheckEpoch(ctx); err != nil {
				t.Error(err)
				return
			}
		}
	})
	for i := range 200 {
		k := f.newKey(t, fmt.Sprintf("key_new_%d", i), "products:read", time.Time{})
		if _, err := f.verifier.Verify(ctx, k, now); err != nil {
			t.Errorf("key %d issued here: %v", i, err)
		}
	}
	close(done)
	wg.Wait()
}

// Without the filter (PostgreSQL) an unknown key is looked up: with the verifier's
// database closed it fails with the database's error, not ErrInvalid.
func TestWithoutFilter(t *testing.T) {
	ctx := context.Background()
	f := setup(t)
	db, err := database.Open(ctx, f.db.Path(), testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	v := keyauth.NewVerifier(queries.New(db.Read))
	v.WithoutFilter()
	if err := v.CheckEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := v.Verify(ctx, unknownKey(t), now); err == nil || errors.Is(err, keyauth.ErrInvalid) {
		t.Errorf("unknown key without the filter, database closed: %v, want the database's error", err)
	}
}
