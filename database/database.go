// Package database opens keyport's SQLite file: one writer connection, a pool of readers,
// and the schema applied at start under PRAGMA user_version.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"

	"github.com/mattn/go-sqlite3"
)

// DB holds the two pools. SQLite allows one writer at a time; a single writer connection
// with BEGIN IMMEDIATE queues writers in Go instead of failing them with SQLITE_BUSY, and
// readers run in parallel under WAL.
type DB struct {
	Write *sql.DB
	Read  *sql.DB
	path  string
}

// Open opens (creating if needed) the database at path and applies migrations.
// migrations[i] brings the schema from version i to i+1.
func Open(ctx context.Context, path string, migrations []string) (*DB, error) {
	if path == "" {
		return nil, errors.New("database: empty path")
	}
	if err := private(path); err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	w, err := sql.Open("sqlite3", dsn(path, false))
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	if err := migrate(ctx, w, migrations); err != nil {
		w.Close()
		return nil, fmt.Errorf("database: migrate %s: %w", path, err)
	}

	r, err := sql.Open("sqlite3", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, runtime.NumCPU()*2)
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)
	if err := r.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	return &DB{Write: w, Read: r, path: path}, nil
}

// private creates the database file 0600 if it is missing, before SQLite would create
// it 0644 (less the umask), and takes group and other access away from an existing one
// and its -wal and -shm: they hold password hashes and session data. SQLite creates a
// new -wal and -shm with the database file's mode.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			if err := os.Chmod(p, perm&^0o077); err != nil {
				return err
			}
		}
	}
	return nil
}

// Path is the file the database was opened from.
func (db *DB) Path() string { return db.path }

// Close closes both pools; the last connection to close checkpoints the WAL.
func (db *DB) Close() error {
	return errors.Join(db.Read.Close(), db.Write.Close())
}

// dsn puts every pragma in the connection string so each pooled connection gets them,
// not just the one that happened to run a one-off Exec.
func dsn(path string, readOnly bool) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_foreign_keys", "on")
	v.Set("_busy_timeout", "5000")
	v.Set("_synchronous", "NORMAL")
	v.Set("_txlock", "immediate")
	if readOnly {
		v.Set("_query_only", "true")
	}
	return "file:" + url.PathEscape(path) + "?" + v.Encode()
}

func migrate(ctx context.Context, db *sql.DB, migrations []string) error {
	var version int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return err
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this binary knows (%d)", version, len(migrations))
	}
	for i := version; i < len(migrations); i++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			tx.Rollback()
			return fmt.Errorf("to version %d: %w", i+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// SchemaVersion reports PRAGMA user_version.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.Read.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// IsUnavailable reports whether err means the database cannot take writes right now
// (busy, locked, read-only, disk full, I/O error): a condition that may clear by itself,
// so clients get 503 rather than 500.
func IsUnavailable(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrReadonly, sqlite3.ErrFull,
			sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrProtocol:
			return true
		}
	}
	return err != nil && strings.Contains(err.Error(), "database is locked")
}

// IsUniqueViolation reports whether err is a UNIQUE constraint failure.
func IsUniqueViolation(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}
