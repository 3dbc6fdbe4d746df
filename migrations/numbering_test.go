package migrations

import "testing"

func TestCheckNumbered(t *testing.T) {
	for _, tc := range []struct {
		names []string
		ok    bool
	}{
		{[]string{"sqlite/0001_init.sql"}, true},
		{[]string{"sqlite/0001_init.sql", "sqlite/0002_teams.sql", "sqlite/0003_usage.sql"}, true},
		{[]string{"sqlite/0001_init.sql", "sqlite/0003_usage.sql"}, false},
		{[]string{"sqlite/0001_init.sql", "sqlite/0002_a.sql", "sqlite/0002_b.sql"}, false},
		{[]string{"sqlite/init.sql"}, false},
	} {
		if err := checkNumbered(tc.names); (err == nil) != tc.ok {
			t.Errorf("checkNumbered(%v) = %v, want ok=%v", tc.names, err, tc.ok)
		}
	}
}

// The embedded files themselves pass the check (All panics otherwise).
func TestEmbeddedNumbered(t *testing.T) {
	if got := All(); len(got.SQLite) == 0 || len(got.Postgres) == 0 {
		t.Fatal("no migrations embedded")
	}
}
