package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"runtime"
	"strings"

	"github.com/mattn/go-sqlite3"
)

func openSQLite(ctx context.Context, path string, migrations []string) (*DB, error) {
	if err := private(path); err != nil {
		return nil, fmt.Errorf("database: %w", err)
	}
	w := sql.OpenDB(writerConnector{sqliteDSN(path, false)})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	if err := migrateSQLite(ctx, w, migrations); err != nil {
		w.Close()
		return nil, fmt.Errorf("database: migrate %s: %w", path, err)
	}

	r, err := sql.Open("sqlite3", sqliteDSN(path, true))
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
	// Checkpoints get a connection of their own: on a reader's they could wait for one
	// while the writer waits for them.
	c, err := sql.Open("sqlite3", sqliteDSN(path, true))
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	c.SetMaxOpenConns(1)
	// The writer's connection, open for as long as the pool is, keeps the -shm in place.
	shm, err := os.Open(path + "-shm")
	if err != nil {
		w.Close()
		r.Close()
		c.Close()
		return nil, fmt.Errorf("database: %w", err)
	}
	return &DB{Write: w, Read: r, checkpoints: c, shm: shm, engine: SQLite, path: path}, nil
}

// CheckpointFrames is the size of SQLite's WAL, in pages, at which the server's group
// committer copies it into the database file from another connection, while it goes on
// writing (groupcommit.NewCheckpointing). Left to SQLite, the copy and its two fsyncs
// run inside the commit that finds the WAL past 1,000 pages, and every write waits.
const CheckpointFrames = 4000

// writerAutoCheckpoint is the writer's own automatic checkpoint, at a WAL larger than
// background checkpoints let it grow: it bounds the WAL if they fail, fall behind, or do
// not run at all (the CLI's commands; each checkpoints when it closes the database).
const writerAutoCheckpoint = 3 * CheckpointFrames

// writerConnector opens the writer connection with its own automatic checkpoint, which
// is a per-connection setting the DSN cannot carry.
type writerConnector struct{ dsn string }

var writerDriver = &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
	_, err := c.Exec(fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", writerAutoCheckpoint), nil)
	return err
}}

// Connect retries when SQLite answers busy at once. Connecting turns a new file's journal
// to WAL, which needs the exclusive lock on top of a shared one; when processes that open
// one new file together do that at the same moment, SQLite returns SQLITE_BUSY without
// calling the busy handler (waiting could deadlock), so the busy timeout does not cover
// it. Once the file is WAL, connecting takes no such lock.
func (c writerConnector) Connect(ctx context.Context) (driver.Conn, error) {
	var conn driver.Conn
	err := retry(ctx, sqliteBusy, func() (err error) {
		conn, err = writerDriver.Open(c.dsn)
		return err
	})
	return conn, err
}

func (writerConnector) Driver() driver.Driver { return writerDriver }

// Checkpoint copies what SQLite's WAL holds into the database file, on a connection of
// its own, without waiting for the writer or any reader (PASSIVE: it stops at what the
// oldest reader still reads), and returns how many pages the WAL held. The writer
// starts the WAL again from its beginning at its next transaction if, at that point,
// every page in it has been copied. On PostgreSQL it does nothing.
func (db *DB) Checkpoint(ctx context.Context) (walPages int, err error) {
	if db.engine != SQLite {
		return 0, nil
	}
	var busy, copied int
	err = db.checkpoints.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &walPages, &copied)
	return walPages, err
}

// WALFrames is how many pages SQLite's WAL holds now, read from the WAL-index header at
// the start of the -shm file (mxFrame, a native-endian 32-bit count at byte 16 of its
// first copy: https://sqlite.org/walformat.html), the count PRAGMA wal_checkpoint
// reports as the log's size. A read of 4 bytes costs a syscall, not a checkpoint's
// locks, so the group committer asks after every batch. On PostgreSQL it is 0.
func (db *DB) WALFrames() (int, error) {
	if db.shm == nil {
		return 0, nil
	}
	var b [4]byte
	if _, err := db.shm.ReadAt(b[:], 16); err != nil {
		return 0, fmt.Errorf("database: read the WAL index: %w", err)
	}
	return int(binary.NativeEndian.Uint32(b[:])), nil
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

// sqliteDSN puts every pragma in the connection string so each pooled connection gets
// them, not just the one that happened to run a one-off Exec.
func sqliteDSN(path string, readOnly bool) string {
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

// migrateSQLite applies one version per transaction under PRAGMA user_version. The
// version is read inside the transaction (BEGIN IMMEDIATE takes the write lock), so two
// processes starting on one new file do not both apply version 1.
func migrateSQLite(ctx context.Context, db *sql.DB, migrations []string) error {
	for {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var version int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			tx.Rollback()
			return err
		}
		if version >= len(migrations) {
			tx.Rollback()
			if version > len(migrations) {
				return newerSchema(version, len(migrations))
			}
			return nil
		}
		if _, err := tx.ExecContext(ctx, migrations[version]); err != nil {
			tx.Rollback()
			return fmt.Errorf("to version %d: %w", version+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
}

func sqliteBusy(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrBusy
}

func sqliteUnavailable(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrBusy, sqlite3.ErrLocked, sqlite3.ErrReadonly, sqlite3.ErrFull,
			sqlite3.ErrIoErr, sqlite3.ErrCantOpen, sqlite3.ErrProtocol:
			return true
		}
	}
	return strings.Contains(err.Error(), "database is locked")
}

func sqliteUnique(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique
}
