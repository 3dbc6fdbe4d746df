package queries_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"keyport/database"
)

// On PostgreSQL keyport runs this package's SQLite-generated code with the placeholders
// rebound by database.Rebind. For every query, the rebound text must be exactly what sqlc
// generates from the same queries/*.sql for the postgresql engine (package pgcheck), so a
// query whose two generated texts differ in more than placeholders fails here.
func TestRebindMatchesPostgresGeneration(t *testing.T) {
	sqlite := generatedQueries(t, ".")
	pg := generatedQueries(t, "pgcheck")
	if len(sqlite) == 0 {
		t.Fatal("no queries found in the generated code")
	}
	for name, text := range sqlite {
		want, ok := pg[name]
		if !ok {
			t.Errorf("%s: not in the PostgreSQL generation (go tool sqlc generate)", name)
			continue
		}
		if got := database.Rebind(text); got != want {
			t.Errorf("%s: rebound SQLite text differs from sqlc's PostgreSQL text\nrebound:\n%s\npostgresql:\n%s", name, got, want)
		}
	}
	for name := range pg {
		if _, ok := sqlite[name]; !ok {
			t.Errorf("%s: only in the PostgreSQL generation", name)
		}
	}
	t.Logf("%d queries compared", len(sqlite))
}

// generatedQueries reads the query constants sqlc wrote into dir's *.sql.go files, by
// the "-- name: X" line each starts with.
func generatedQueries(t *testing.T, dir string) map[string]string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.sql.go"))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, f := range files {
		file, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !strings.HasPrefix(s, "-- name: ") {
				return true
			}
			name := strings.Fields(s)[2]
			if _, dup := out[name]; dup {
				t.Errorf("%s: query named twice", name)
			}
			out[name] = s
			return false
		})
	}
	return out
}
