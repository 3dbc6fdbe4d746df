// Package migrations holds keyport's schema, one file per version and engine. Version N
// means the same schema on every engine: migrations/sqlite/000N_*.sql and
// migrations/postgres/000N_*.sql. A new version is a new file on both engines; applied
// files are never edited.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
)

//go:embed sqlite/*.sql postgres/*.sql
var files embed.FS

// Set is the schema versions for every engine: element i of each brings the schema from
// version i to i+1.
type Set struct {
	SQLite   []string
	Postgres []string
}

// All returns the embedded schema versions.
func All() Set { return Set{SQLite: load("sqlite"), Postgres: load("postgres")} }

func load(dir string) []string {
	names, err := fs.Glob(files, path.Join(dir, "*.sql"))
	if err != nil {
		panic(err) // the pattern is a literal; it cannot be malformed
	}
	sort.Strings(names)
	if err := checkNumbered(names); err != nil {
		panic(err) // the files are embedded: a gap or a duplicate is a build mistake
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(files, n)
		if err != nil {
			panic(err) // embedded at build time; reading it cannot fail
		}
		out = append(out, string(b))
	}
	return out
}

// checkNumbered insists that the files are numbered 0001, 0002, … with no gap and no
// repeat: a version's number is its place in the list, so two engineers who both add
// "0003" would otherwise give one database version 3 and the other version 4 for the
// same file.
func checkNumbered(names []string) error {
	for i, n := range names {
		var v int
		if _, err := fmt.Sscanf(path.Base(n), "%04d_", &v); err != nil || v != i+1 {
			return fmt.Errorf("migrations: %s should be numbered %04d (versions are 0001, 0002, … with no gap or repeat)", n, i+1)
		}
	}
	return nil
}
