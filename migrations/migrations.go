// Package migrations holds keyport's schema, one file per version and engine. Version N
// means the same schema on every engine: migrations/sqlite/000N_*.sql and (with
// PostgreSQL) migrations/postgres/000N_*.sql. A new version is a new file; applied files
// are never edited.
package migrations

import (
	"embed"
	"io/fs"
	"path"
	"sort"
)

//go:embed sqlite/*.sql
var files embed.FS

// SQLite returns the SQLite schema versions in order: element i brings the schema from
// version i to i+1.
func SQLite() []string { return load("sqlite") }

func load(dir string) []string {
	names, err := fs.Glob(files, path.Join(dir, "*.sql"))
	if err != nil {
		panic(err) // the pattern is a literal; it cannot be malformed
	}
	sort.Strings(names)
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
