package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"keyport/database"
	"keyport/queries"
)

// parseArgs parses flags that may come before, between or after the positional
// arguments (`key revoke ID -db x.db`), applies KEYPORT_* defaults and returns the
// positional arguments. A bad flag is a usage error.
func parseArgs(fs *flag.FlagSet, env Env, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
	return pos, envDefaults(fs, env)
}

// synopsis makes `-h` start with how the command is called.
func synopsis(fs *flag.FlagSet, line string) {
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: keyport %s\n\nFlags:\n", line)
		fs.PrintDefaults()
	}
}

// dbFlag declares -db as serve does, so one KEYPORT_DB serves every command.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "keyport.db", "SQLite database file")
}

// openDB opens the database the way the server does (migrations included). Unless
// create is set, a missing file is an error: a mistyped -db must not silently make a new,
// empty database.
func openDB(ctx context.Context, env Env, path string, create bool) (*database.DB, *queries.Queries, error) {
	if !create {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("database %s does not exist (set -db or KEYPORT_DB)", path)
		}
	}
	db, err := database.Open(ctx, path, env.Assets.Migrations)
	if err != nil {
		return nil, nil, err
	}
	return db, queries.New(db.Write), nil
}
