// Package database opens keyport's database: a SQLite file (the default: one writer
// connection, a pool of readers) or PostgreSQL (one pool shared by N replicas), with the
// schema applied at start. Every difference between the two engines lives in this
// package: opening, migrations, error classification and watching for changes made by
// other processes. The queries are the same sqlc-generated code on both.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"keyport/migrations"
)

// Engine is the kind of database a DB runs on.
type Engine int

const (
	SQLite Engine = iota
	Postgres
)

func (e Engine) String() string {
	if e == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// EngineOf tells from -db which engine it names: a postgres:// or postgresql:// URL is
// PostgreSQL, anything else a SQLite file path.
func EngineOf(dsn string) Engine {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// DB holds the pools. On SQLite, Write is a single connection (SQLite allows one writer
// at a time; BEGIN IMMEDIATE on one connection queues writers in Go instead of failing
// them with SQLITE_BUSY) and Read a pool of read-only connections under WAL. On
// PostgreSQL, Write and Read are the same pool.
type DB struct {
	Write       *sql.DB
	Read        *sql.DB
	checkpoints *sql.DB  // SQLite: one connection for Checkpoint
	shm         *os.File // SQLite: the WAL index, for WALFrames
	engine      Engine
	path        string
}

// Open opens the database dsn names (see EngineOf), creating a SQLite file if needed,
// and applies the migrations for its engine.
func Open(ctx context.Context, dsn string, m migrations.Set) (*DB, error) {
	if dsn == "" {
		return nil, errors.New("database: empty path")
	}
	if EngineOf(dsn) == Postgres {
		return openPostgres(ctx, dsn, m.Postgres)
	}
	return openSQLite(ctx, dsn, m.SQLite)
}

// Engine is the engine the database runs on.
func (db *DB) Engine() Engine { return db.engine }

// Path is the file or URL the database was opened from. A URL may hold a password: do
// not log it.
func (db *DB) Path() string { return db.path }

// Close closes the pools; on SQLite the last connection to close checkpoints the WAL.
func (db *DB) Close() error {
	if db.Read == db.Write {
		return db.Write.Close()
	}
	return errors.Join(db.shm.Close(), db.checkpoints.Close(), db.Read.Close(), db.Write.Close())
}

// SchemaVersion reports the version of the schema the database is at.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	q := "PRAGMA user_version"
	if db.engine == Postgres {
		q = "SELECT coalesce(max(version), 0) FROM schema_version"
	}
	err := db.Read.QueryRowContext(ctx, q).Scan(&v)
	return v, err
}

func newerSchema(have, know int) error {
	return fmt.Errorf("the database schema is at version %d, newer than this keyport binary knows (%d): run the newer keyport that migrated it", have, know)
}

// IsUnavailable reports whether err means the database cannot serve the request right
// now (busy, locked, read-only, disk full, I/O error, connection lost): a condition that
// may clear by itself, so clients get 503 rather than 500.
func IsUnavailable(err error) bool {
	return err != nil && (sqliteUnavailable(err) || postgresUnavailable(err))
}

// IsUniqueViolation reports whether err is a UNIQUE constraint failure.
func IsUniqueViolation(err error) bool {
	return err != nil && (sqliteUnique(err) || pgCode(err) == "23505")
}

// retry runs fn up to 5 times in all while it fails with an error retryable accepts,
// after a short random pause each time (1 ms up to 10, 20, 40, 80, 160 ms), so that
// processes that collided do not collide again in step.
func retry(ctx context.Context, retryable func(error) bool, fn func() error) error {
	var err error
	for attempt := range 5 {
		if err = fn(); !retryable(err) {
			return err
		}
		pause := time.Duration(1+rand.IntN(10<<attempt)) * time.Millisecond
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
	return err
}
