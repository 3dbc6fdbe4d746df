package cli

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/jackc/pgx/v5"

	"keyport/database"
)

// importTables are copied by import-sqlite, parents before children, every column as it
// is: ids, seqs (so cursors and order survive), hashes and times.
var importTables = []string{
	"organizations", "users", "memberships", "api_keys", "products", "audit_events",
	"invitations", "key_usage",
}

// importSkipped are left behind: sessions (everyone signs in again), short-lived state
// (form tokens, the sign-in throttle, rate limit buckets) and bookkeeping each engine
// keeps itself.
var importSkipped = map[string]bool{
	"sessions": true, "user_sessions": true, "form_tokens": true, "login_throttle": true,
	"key_rate_limits": true, "key_epoch": true, "key_issue": true,
}

// importSQLite copies a SQLite database into an empty PostgreSQL database in one
// transaction, so a failed import leaves the target as empty as it found it.
func importSQLite(ctx context.Context, env Env, args []string) error {
	fs := newFlags("import-sqlite", env)
	synopsis(fs, "import-sqlite -from FILE -to postgres://…")
	from := fs.String("from", "", "the SQLite database file to copy (not changed)")
	to := fs.String("to", "", "the PostgreSQL database to copy into; it must hold no data")
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *from == "" || database.EngineOf(*from) != database.SQLite {
		return fmt.Errorf("%w: -from must name a SQLite file", errUsage)
	}
	if database.EngineOf(*to) != database.Postgres {
		return fmt.Errorf("%w: -to must be a postgres:// URL", errUsage)
	}
	if _, err := os.Stat(*from); err != nil {
		return err
	}
	src, err := sql.Open("sqlite3", "file:"+url.PathEscape(*from)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return err
	}
	defer src.Close()
	want := len(env.Assets.Migrations.SQLite)
	var version int
	if err := src.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version != want {
		return fmt.Errorf("%s is at schema version %d and this keyport at %d: run `keyport migrate -db %s` with this binary first", *from, version, want, *from)
	}
	if err := checkTablesKnown(ctx, src); err != nil {
		return err
	}

	dst, err := database.Open(ctx, *to, env.Assets.Migrations)
	if err != nil {
		return err
	}
	defer dst.Close()
	var counts []int64
	err = dst.WithPgx(ctx, func(pc *pgx.Conn) error {
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(ctx)
		for _, table := range importTables {
			var n int64
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("the target is not empty (%s has %d rows): import-sqlite only fills a new database", table, n)
			}
		}
		for _, table := range importTables {
			n, err := copyTable(ctx, src, tx, table)
			if err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
			counts = append(counts, n)
		}
		// New rows continue after the copied seqs, and new keys after the copied issue
		// numbers (migrations/postgres/0007_key_issue.sql).
		for _, table := range []string{"api_keys", "products", "audit_events", "invitations"} {
			if _, err := tx.Exec(ctx, fmt.Sprintf(
				"SELECT setval(pg_get_serial_sequence('%[1]s', 'seq'), coalesce(max(seq), 1), max(seq) IS NOT NULL) FROM %[1]s", table)); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, "UPDATE key_issue SET n = (SELECT coalesce(max(issued), 0) FROM api_keys) WHERE id = 1"); err != nil {
			return err
		}
		if err := tx.Commit(ctx); err != nil {
			return err
		}
		// Planner statistics, and the visibility map without which an index-only scan
		// (the key filter's rebuild, keyauth/filter.go) reads the table too: 11 s instead
		// of 0.5 s at a million keys, until autovacuum comes by.
		_, err = pc.Exec(ctx, "VACUUM (ANALYZE)")
		return err
	})
	if err != nil {
		return err
	}
	for i, table := range importTables {
		fmt.Fprintf(env.Stdout, "%-14s %d\n", table, counts[i])
	}
	return nil
}

// checkTablesKnown refuses a source with a table this command neither copies nor skips
// on purpose: a new table must be added to one list or the other, not lost quietly.
func checkTablesKnown(ctx context.Context, src *sql.DB) error {
	rows, err := src.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
	if err != nil {
		return err
	}
	defer rows.Close()
	known := map[string]bool{}
	for _, t := range importTables {
		known[t] = true
	}
	var unknown []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		if !known[name] && !importSkipped[name] {
			unknown = append(unknown, name)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(unknown) > 0 {
		return fmt.Errorf("import-sqlite does not know the tables %s (cli/importsqlite.go)", strings.Join(unknown, ", "))
	}
	return nil
}

// copyTable streams table from the SQLite file into PostgreSQL with COPY, in the
// source's rowid order.
func copyTable(ctx context.Context, src *sql.DB, tx pgx.Tx, table string) (int64, error) {
	rows, err := src.QueryContext(ctx, "SELECT * FROM "+table+" ORDER BY rowid")
	if err != nil && strings.Contains(err.Error(), "no such column: rowid") {
		rows, err = src.QueryContext(ctx, "SELECT * FROM "+table) // WITHOUT ROWID tables
	}
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	return tx.CopyFrom(ctx, pgx.Identifier{table}, cols, &sqlRows{rows: rows, vals: make([]any, len(cols))})
}

// sqlRows adapts *sql.Rows to pgx.CopyFromSource.
type sqlRows struct {
	rows *sql.Rows
	vals []any
}

func (r *sqlRows) Next() bool { return r.rows.Next() }

func (r *sqlRows) Values() ([]any, error) {
	ptrs := make([]any, len(r.vals))
	for i := range r.vals {
		ptrs[i] = &r.vals[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	return r.vals, nil
}

func (r *sqlRows) Err() error { return r.rows.Err() }
