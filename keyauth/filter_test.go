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
	ctx := context.Background()
	f := setup(t)
	cached := f.newKey(t, "key_cached", "products:read", time.Time{})
	uncached := f.newKey(t, "key_uncached", "products:read", time.Time{})

	db, err := database.Open(ctx, f.db.Path(), testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	read := db.Read
	v := keyauth.NewVerifier(queries.New(read))
	if err := v.CheckEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(ctx, cached, now); err != nil {
		t.Fatal(err)
	}
	db.Close()

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

// On PostgreSQL two transactions store keys at once, the second taking a higher seq
// while the first is still open. Without the issue counter the second could commit first,
// a check would read past its seq, and the first key would be missed for good. The
// counter (migrations/postgres/0007_key_issue.sql) makes the second transaction
// wait at its insert until the first commits, here seen in pg_stat_activity; under
// SERIALIZABLE, as the group committer runs, the second then fails and runs again
// (database.Retry). A check while the first is still open sees neither key; the check
// after both committed folds in both, and they are numbered in commit order.
func TestFilterFollowsKeysCommittedOutOfOrder(t *testing.T) {
	testapp.PostgresOnly(t)
	ctx := context.Background()
	f := setup(t)
	second, err := database.Open(ctx, f.db.Path(), testapp.Assets(t).Migrations)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()

	first, err := f.otherDB.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback()
	key1 := storeKey(t, queries.New(first), "key_first", "products:read", time.Time{})

	attempts := 0
	var key2 string
	done := make(chan error, 1)
	go func() {
		done <- database.Retry(ctx, func() error {
			attempts++
			tx, err := second.Write.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelSerializable})
			if err != nil {
				return err
			}
			defer tx.Rollback()
			raw, err := apikey.Generate()
			if err != nil {
				return err
			}
			h := apikey.Hash(raw)
			if err := queries.New(tx).CreateAPIKey(ctx, queries.CreateAPIKeyParams{ID: "key_second", OrgID: "org_1", Name: "second",
				Hash: h[:], Hint: apikey.Hint(raw), Scopes: "products:read", CreatedAt: now.UnixMilli()}); err != nil {
				return err
			}
			key2 = raw
			return tx.Commit()
		})
	}()

	// The second insert has taken its seq and waits on the counter's row lock.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var waiting int
		if err := f.db.Read.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 1 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the second transaction finished while the first was open (%v): the counter did not make it wait", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the second transaction is not waiting on a lock after 5 s")
		}
		time.Sleep(time.Millisecond)
	}
	if err := f.verifier.CheckEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := f.verifier.Verify(ctx, key1, now); !errors.Is(err, keyauth.ErrInvalid) {
		t.Fatalf("first key, not committed yet: %v, want ErrInvalid", err)
	}
	if err := first.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if attempts < 2 {
		t.Errorf("the second transaction ran %d times, want a serialization failure and a second run", attempts)
	}
	if err := f.verifier.CheckEpoch(ctx); err != nil {
		t.Fatal(err)
	}
	for i, k := range []string{key1, key2} {
		if _, err := f.verifier.Verify(ctx, k, now); err != nil {
			t.Errorf("key %d after the check: %v", i+1, err)
		}
	}
	k1, err := f.other.GetAPIKeyByID(ctx, "key_first")
	if err != nil {
		t.Fatal(err)
	}
	k2, err := f.other.GetAPIKeyByID(ctx, "key_second")
	if err != nil {
		t.Fatal(err)
	}
	if !(k1.Seq < k2.Seq && k1.Issued < k2.Issued) {
		t.Errorf("first: seq %d issued %d; second: seq %d issued %d; want both in that order", k1.Seq, k1.Issued, k2.Seq, k2.Issued)
	}
}
