package database

import (
	"context"
	"time"
)

// WatchDataVersion calls onChange whenever another connection (this process's writer or
// another process, such as the CLI) commits to the database. It polls PRAGMA
// data_version on one dedicated connection, which is what makes the value meaningful.
func (db *DB) WatchDataVersion(ctx context.Context, every time.Duration, onChange func()) error {
	conn, err := db.Read.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	read := func() (int64, error) {
		var v int64
		err := conn.QueryRowContext(ctx, "PRAGMA data_version").Scan(&v)
		return v, err
	}
	last, err := read()
	if err != nil {
		return err
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		v, err := read()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			continue
		}
		if v != last {
			last = v
			onChange()
		}
	}
}
