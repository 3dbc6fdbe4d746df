package keyauth

import (
	"context"
	"hash/maphash"
	"slices"

	"keyport/apikey"
	"keyport/queries"
)

// The key filter answers "certainly not issued" for a well-formed key without a database
// lookup, so a client spraying made-up keys (each with a valid checksum) costs about what
// a request that does no work costs. It holds a 32-bit fingerprint of every stored key's
// hash, sorted: 4 bytes a key, 4 MB at a million keys. A key whose fingerprint is absent
// was never stored; one whose fingerprint is present is looked up as before, so a false
// positive (about one unknown key in 4,000 at a million keys) costs only the lookup.
//
// The one rule is no false negatives: every key a client can hold must be in the filter
// before it is checked against it. Keys created by this process are added by Issued
// before the creating request is answered. Keys created by another process (the CLI, a
// replica) are folded in by CheckEpoch, which the server runs whenever the database may
// have changed (on SQLite when PRAGMA data_version moves, on PostgreSQL on every poll):
// new rows are read by api_keys.issued, which numbers keys in commit order on both
// engines (migrations/*/0007_key_issue.sql), so reading past the highest number seen
// never skips a key that commits later. Such a key is refused by this process until its
// next check, as a key the CLI creates always was. When the key epoch moves (a key
// deleted, or its hash changed) the filter is rebuilt from the hash index. Fingerprints
// are keyed with a seed chosen at start, so no one can make up keys that pass the filter
// on purpose.

// filterPage is how many rows one query of a rebuild or extension reads.
const filterPage = 2000

type fingerprints []uint32

func (f fingerprints) has(fp uint32) bool {
	n := len(f)
	if n == 0 {
		return false
	}
	// Fingerprints are hashes, spread evenly over uint32: fp sits near fp/2³² of the way
	// in (within about √n/2 places). Searching out from there touches a few neighbouring
	// cache lines where a binary search of the whole filter takes ~20 probes across it at
	// a million keys (BenchmarkFilterHas: 340 → 90 ns).
	lo := int(uint64(fp) * uint64(n) >> 32)
	hi := lo
	for step := 8; lo > 0 && f[lo] > fp; step *= 2 {
		lo = max(lo-step, 0)
	}
	for step := 8; hi < n-1 && f[hi] < fp; step *= 2 {
		hi = min(hi+step, n-1)
	}
	// Now f[lo] ≤ fp or lo = 0, and f[hi] ≥ fp or hi = n-1: fp is in f only within.
	_, ok := slices.BinarySearch(f[lo:hi+1], fp)
	return ok
}

func (v *Verifier) fingerprint(hash []byte) uint32 {
	return uint32(maphash.Bytes(v.seed, hash))
}

// mayExist reports whether the key with hash h may be stored: false only when the filter
// is built and certain it is not.
func (v *Verifier) mayExist(h [32]byte) bool {
	f := v.filter.Load()
	return f == nil || f.has(v.fingerprint(h[:]))
}

// Issued adds a key this process has just stored to the filter. Call it after the row is
// committed and before the key is shown to anyone: then either a rebuild running at the
// same time reads the row, or the key lands in the filter that rebuild makes.
func (v *Verifier) Issued(raw string) {
	h := apikey.Hash(raw)
	fp := v.fingerprint(h[:])
	v.fmu.Lock()
	defer v.fmu.Unlock()
	if v.building {
		v.issuedWhileBuilding = append(v.issuedWhileBuilding, fp)
	}
	if f := v.filter.Load(); f != nil {
		nf := merge(*f, []uint32{fp})
		v.filter.Store(&nf)
	}
}

// syncFilter brings the filter up to date: a rebuild when rebuild is set or there is no
// filter yet, otherwise the keys stored since the last sync. Issued may run alongside.
func (v *Verifier) syncFilter(ctx context.Context, rebuild bool) error {
	v.syncMu.Lock()
	defer v.syncMu.Unlock()
	v.fmu.Lock()
	if v.disabled { // disabled is written under both fmu and mu
		v.fmu.Unlock()
		return nil
	}
	if v.filter.Load() == nil {
		rebuild = true
	}
	v.building = rebuild
	since := v.filterIssued
	v.fmu.Unlock()

	var built fingerprints
	var err error
	if rebuild {
		built, since, err = v.readAll(ctx)
	}
	var added []uint32
	var last int64
	if err == nil {
		added, last, err = v.readSince(ctx, since)
	}

	v.fmu.Lock()
	defer v.fmu.Unlock()
	v.building = false
	pending := v.issuedWhileBuilding
	v.issuedWhileBuilding = nil
	if err != nil || v.disabled {
		// Without the filter every key is looked up, and the next sync rebuilds it.
		v.filter.Store(nil)
		return err
	}
	if rebuild {
		// Keys this process issued while the rebuild read may have been stored after
		// the pages that would have held them.
		added = append(added, pending...)
	} else if len(added) == 0 {
		return nil
	} else {
		built = *v.filter.Load()
	}
	if len(added) > 0 {
		built = merge(built, added)
	}
	v.filter.Store(&built)
	v.filterIssued = last
	return nil
}

// readAll reads every stored key's fingerprint from the hash index and returns them
// sorted, with the highest issue number read before the scan began: every key with a
// number up to it had committed then and is in the scan, every later one has a higher
// number, so an extension from there misses none.
func (v *Verifier) readAll(ctx context.Context) (fingerprints, int64, error) {
	maxIssued, err := v.q.MaxAPIKeyIssued(ctx)
	if err != nil {
		return nil, 0, err
	}
	fps := make(fingerprints, 0, min(maxIssued, 1<<24))
	after := []byte{}
	for {
		page, err := v.q.ListAPIKeyHashes(ctx, queries.ListAPIKeyHashesParams{After: after, Limit: filterPage})
		if err != nil {
			return nil, 0, err
		}
		for _, h := range page {
			fps = append(fps, v.fingerprint(h))
		}
		if len(page) < filterPage {
			break
		}
		after = page[len(page)-1]
	}
	slices.Sort(fps)
	return fps, maxIssued, nil
}

// readSince reads the fingerprints of the keys issued after number since, and the
// highest number read (since if none).
func (v *Verifier) readSince(ctx context.Context, since int64) ([]uint32, int64, error) {
	var fps []uint32
	for {
		page, err := v.q.ListAPIKeyHashesSince(ctx, queries.ListAPIKeyHashesSinceParams{After: since, Limit: filterPage})
		if err != nil {
			return nil, 0, err
		}
		for _, r := range page {
			fps = append(fps, v.fingerprint(r.Hash))
			since = r.Issued
		}
		if len(page) < filterPage {
			return fps, since, nil
		}
	}
}

// merge returns a new sorted filter holding f and added (which it may reorder); f itself
// is never changed, since requests may be reading it.
func merge(f fingerprints, added []uint32) fingerprints {
	slices.Sort(added)
	out := make(fingerprints, 0, len(f)+len(added))
	i, j := 0, 0
	for i < len(f) && j < len(added) {
		if f[i] <= added[j] {
			out = append(out, f[i])
			i++
		} else {
			out = append(out, added[j])
			j++
		}
	}
	out = append(out, f[i:]...)
	return append(out, added[j:]...)
}
