package cli

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"

	"github.com/mattn/go-sqlite3"

	"keyport/database"
)

// backup writes a consistent copy of the database to a new file with SQLite's online
// backup API, while a server may be writing to it. Copying the file instead could catch
// the database file and its WAL at different moments.
func backup(ctx context.Context, env Env, args []string) error {
	fs := newFlags("backup", env)
	synopsis(fs, "backup [-db FILE] [-force] PATH")
	dbFlagValue := dbFlag(fs)
	force := fs.Bool("force", false, "overwrite PATH if it exists")
	pos, err := parseArgs(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: want exactly one PATH to write the backup to", errUsage)
	}
	dbPath, dst := *dbFlagValue, pos[0]
	if database.EngineOf(dbPath) == database.Postgres {
		return errors.New("backup copies a SQLite file; on PostgreSQL use pg_dump (e.g. pg_dump -Fc -f keyport.dump URL) or your provider's backups")
	}
	if _, err := os.Stat(dbPath); err != nil {
		return fmt.Errorf("database %s: %w", dbPath, err)
	}
	if same, err := sameFile(dbPath, dst); err != nil {
		return err
	} else if same {
		return fmt.Errorf("%w: PATH is the database itself", errUsage)
	}
	if _, err := os.Stat(dst); err == nil && !*force {
		return fmt.Errorf("%s already exists; pass -force to overwrite it", dst)
	}

	// Write next to dst and rename at the end, so PATH is either the old file or a
	// complete backup, never half of one.
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	tmpPath := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpPath)

	pages, err := copyDB(ctx, dbPath, tmpPath)
	if err != nil {
		return err
	}
	if err := syncFile(tmpPath); err != nil {
		return err
	}
	if !*force {
		// Link fails if dst appeared meanwhile, where rename would replace it.
		if err := os.Link(tmpPath, dst); err != nil {
			return err
		}
	} else if err := os.Rename(tmpPath, dst); err != nil {
		return err
	}
	if err := syncFile(filepath.Dir(dst)); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "backed up %s to %s (%d pages)\n", dbPath, dst, pages)
	return nil
}

// copyDB copies src to dst (an empty file) in one backup step: one read transaction on
// src, so the copy is one consistent snapshot and writers are never blocked (WAL).
func copyDB(ctx context.Context, src, dst string) (pages int, err error) {
	srcDB, err := sql.Open("sqlite3", "file:"+url.PathEscape(src)+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return 0, err
	}
	defer srcDB.Close()
	dstDB, err := sql.Open("sqlite3", "file:"+url.PathEscape(dst))
	if err != nil {
		return 0, err
	}
	defer dstDB.Close()

	srcConn, err := srcDB.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer srcConn.Close()
	dstConn, err := dstDB.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer dstConn.Close()

	err = dstConn.Raw(func(d any) error {
		return srcConn.Raw(func(s any) error {
			b, err := d.(*sqlite3.SQLiteConn).Backup("main", s.(*sqlite3.SQLiteConn), "main")
			if err != nil {
				return err
			}
			done, stepErr := b.Step(-1)
			pages = b.PageCount()
			if err := errors.Join(stepErr, b.Finish()); err != nil {
				return fmt.Errorf("backup: %w", err)
			}
			if !done {
				return errors.New("backup: incomplete after copying every page")
			}
			return nil
		})
	})
	if err != nil {
		return 0, err
	}
	var check string
	if err := dstConn.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&check); err != nil {
		return 0, err
	}
	if check != "ok" {
		return 0, fmt.Errorf("backup failed its integrity check: %s", check)
	}
	return pages, errors.Join(dstConn.Close(), dstDB.Close())
}

func sameFile(a, b string) (bool, error) {
	ia, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	ib, err := os.Stat(b)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(ia, ib), nil
}

func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}
