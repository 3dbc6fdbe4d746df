package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// DefaultPoolSize is how many connections one keyport process opens to PostgreSQL at
// most, unless the URL says otherwise with pool_max_conns (docs/SCALING.md).
func DefaultPoolSize() int { return max(8, 4*runtime.NumCPU()) }

func openPostgres(ctx context.Context, dsn string, migrations []string) (*DB, error) {
	dsn, poolSize, err := takePoolSize(dsn)
	if err != nil {
		return nil, err
	}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("database: the PostgreSQL URL is malformed")
	}
	db := sql.OpenDB(rebindConnector{stdlib.GetConnector(*cfg)})
	db.SetMaxOpenConns(poolSize)
	db.SetMaxIdleConns(poolSize)
	// Replaced now and then so a pool follows a failover or a PgBouncer restart.
	db.SetConnMaxLifetime(30 * time.Minute)
	if err := migratePostgres(ctx, db, migrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("database: migrate %s@%s/%s: %w", cfg.User, cfg.Host, cfg.Database, err)
	}
	return &DB{Write: db, Read: db, engine: Postgres, path: dsn}, nil
}

// takePoolSize removes pool_max_conns (pgxpool's name for it) from the URL, since
// PostgreSQL would take an unknown parameter for a setting and refuse the connection.
func takePoolSize(dsn string) (string, int, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", 0, errors.New("database: the PostgreSQL URL is malformed")
	}
	q := u.Query()
	s := q.Get("pool_max_conns")
	if s == "" {
		return dsn, DefaultPoolSize(), nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 {
		return "", 0, fmt.Errorf("database: pool_max_conns must be a positive number, not %q", s)
	}
	q.Del("pool_max_conns")
	u.RawQuery = q.Encode()
	return u.String(), n, nil
}

// migrationLock is the pg_advisory_lock key migrations run under ("keyport" in ASCII),
// so replicas that start together apply each version once.
const migrationLock = 0x6b6579706f7274

// migratePostgres applies one version per transaction and records it in schema_version.
// PostgreSQL's DDL is transactional: a failed version leaves no trace.
func migratePostgres(ctx context.Context, db *sql.DB, migrations []string) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock)

	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
	)`); err != nil {
		return err
	}
	var version int
	if err := conn.QueryRowContext(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return newerSchema(version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("to version %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES ($1)", i+1); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

func pgCode(err error) string {
	if err == nil {
		// Every successful write asks (Retry): errors.As's target would be allocated.
		return ""
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func postgresUnavailable(err error) bool {
	if code := pgCode(err); code != "" {
		switch code[:2] {
		case "08", // connection exception
			"53", // insufficient resources: disk full, too many connections
			"57", // operator intervention: shutdown, cannot connect now
			"58": // system error: I/O
			return true
		}
		// A read-only transaction (a standby, or default_transaction_read_only), and
		// serialization failures and deadlocks that outlasted Retry.
		return code == "25006" || IsRetryable(err)
	}
	var ne net.Error
	var ce *pgconn.ConnectError
	return errors.As(err, &ce) || errors.As(err, &ne) || pgconn.Timeout(err) ||
		errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF)
}

// IsRetryable reports whether err is a serialization failure or a deadlock: PostgreSQL
// rolled the transaction back and running it again may succeed.
func IsRetryable(err error) bool {
	code := pgCode(err)
	return code == "40001" || code == "40P01"
}

// Retry runs fn, and runs it again (up to 5 times in all, after a short random pause)
// while it fails with IsRetryable. fn must be a whole transaction. SQLite, with its
// single writer, never fails that way.
func Retry(ctx context.Context, fn func() error) error {
	return retry(ctx, IsRetryable, fn)
}

// WithPgx runs fn on one of the pool's connections as pgx itself, for what database/sql
// cannot do (COPY). PostgreSQL only.
func (db *DB) WithPgx(ctx context.Context, fn func(*pgx.Conn) error) error {
	if db.engine != Postgres {
		return errors.New("database: WithPgx needs PostgreSQL")
	}
	conn, err := db.Write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error { return fn(dc.(rebindConn).Conn.Conn()) })
}
