package database

import (
	"context"
	"time"
)

// Watch calls onChange when another connection (this process's writer, another replica,
// or the CLI) may have committed a change, checking every interval until ctx is done.
//
// On SQLite it polls PRAGMA data_version on one dedicated connection, which is what makes
// the value meaningful, and calls onChange only when it moved. PostgreSQL has no such
// counter for a whole database, so there onChange is called on every tick and does its
// own cheap read (keyauth's key_epoch row). LISTEN/NOTIFY is not used: PostgreSQL-
// compatible engines and poolers in transaction mode do not all carry it.
func (db *DB) Watch(ctx context.Context, every time.Duration, onChange func()) error {
	moved := func() (bool, error) { return true, nil }
	if db.engine == SQLite {
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
		moved = func() (bool, error) {
			v, err := read()
			if err != nil || v == last {
				return false, err
			}
			last = v
			return true, nil
		}
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		// A failed read is tried again at the next tick.
		if ok, err := moved(); err == nil && ok {
			onChange()
		}
	}
}
