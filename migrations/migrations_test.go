package migrations

import (
	"io/fs"
	"path"
	"testing"
)

// Version N means the same on every engine: each version file has its counterpart with
// the same number and name on the other engine.
func TestEveryVersionOnBothEngines(t *testing.T) {
	names := func(dir string) []string {
		ns, err := fs.Glob(files, path.Join(dir, "*.sql"))
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range ns {
			ns[i] = path.Base(n)
		}
		return ns
	}
	sqlite, pg := names("sqlite"), names("postgres")
	if len(sqlite) == 0 || len(sqlite) != len(pg) {
		t.Fatalf("sqlite has %v, postgres has %v: every version needs both files", sqlite, pg)
	}
	for i := range sqlite {
		if sqlite[i] != pg[i] {
			t.Errorf("version %d: sqlite/%s but postgres/%s", i+1, sqlite[i], pg[i])
		}
	}
}
