package keyauth

import (
	"strings"
	"testing"
)

// TestHasScopeFromTheSet checks HasScope on a key whose scopes were worked out into a set
// (as Verify's are) against the scan of the scope string, for every subset of keyport's
// scopes with custom scopes and near misses beside them.
func TestHasScopeFromTheSet(t *testing.T) {
	asked := append([]string{"", "products", "products:readx", "Products:read", "billing:read", "keys:*"}, AllScopes...)
	for mask := range 1 << len(AllScopes) {
		var granted []string
		for i, s := range AllScopes {
			if mask&(1<<i) != 0 {
				granted = append(granted, s)
			}
		}
		for _, extra := range []string{"", "billing:read", " products:readx  keys:* "} {
			scopes := strings.Join(append(granted, extra), " ")
			scanned := Key{Scopes: scopes}
			set := Key{Scopes: scopes, defined: definedScopes(scopes)}
			for _, q := range asked {
				if got, want := set.HasScope(q), scanned.HasScope(q); got != want {
					t.Fatalf("scopes %q: HasScope(%q) = %v from the set, %v from the string", scopes, q, got, want)
				}
			}
		}
	}
}

// BenchmarkHasScope asks a key with the products scopes for the second of them: from the
// scope string, and from the set Verify works out.
func BenchmarkHasScope(b *testing.B) {
	scopes := ScopeProductsRead + " " + ScopeProductsWrite
	for _, k := range []struct {
		name string
		key  Key
	}{{"string", Key{Scopes: scopes}}, {"set", Key{Scopes: scopes, defined: definedScopes(scopes)}}} {
		b.Run(k.name, func(b *testing.B) {
			for b.Loop() {
				if !k.key.HasScope(ScopeProductsWrite) {
					b.Fatal("scope missing")
				}
			}
		})
	}
}
