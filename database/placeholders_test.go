package database

import "testing"

func TestRebind(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b = ?", "SELECT * FROM t WHERE a = $1 AND b = $2"},
		{"WHERE a = ?1 AND b > ?2 OR c > ?2 AND d = ?3", "WHERE a = $1 AND b > $2 OR c > $2 AND d = $3"},
		// A bare ? after numbered ones takes the next number, as in SQLite.
		{"VALUES (?2, ?1, ?)", "VALUES ($2, $1, $3)"},
		{"SELECT '?', \"a?\", ? -- what?\n, ? /* ? */", "SELECT '?', \"a?\", $1 -- what?\n, $2 /* ? */"},
		{"SELECT 'it''s?', ?", "SELECT 'it''s?', $1"},
		{"DO $$ BEGIN PERFORM '?'; END $$; SELECT ?", "DO $$ BEGIN PERFORM '?'; END $$; SELECT $1"},
		{"SELECT $tag$ ? $tag$, ?", "SELECT $tag$ ? $tag$, $1"},
		// Already PostgreSQL: left alone.
		{"SELECT pg_advisory_lock($1)", "SELECT pg_advisory_lock($1)"},
		{"SELECT ? -- trailing comment without newline ?", "SELECT $1 -- trailing comment without newline ?"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
	} {
		if got := Rebind(tc.in); got != tc.want {
			t.Errorf("Rebind(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}
