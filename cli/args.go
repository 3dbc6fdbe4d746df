package cli

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"keyport/database"
	"keyport/handlers/parse"
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

// parseFlags is parseArgs for a command that takes no positional arguments.
func parseFlags(fs *flag.FlagSet, env Env, args []string) error {
	pos, err := parseArgs(fs, env, args)
	if err == nil && len(pos) > 0 {
		err = fmt.Errorf("%w: unexpected argument %q", errUsage, pos[0])
	}
	return err
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

// emailFlag validates an --email value.
func emailFlag(s string) (string, error) {
	addr, err := parse.Email(s)
	if err != nil {
		return "", fmt.Errorf("%w: --email: %v", errUsage, err)
	}
	return addr, nil
}

// userByEmail finds the user a command names by --email.
func userByEmail(ctx context.Context, q *queries.Queries, addr string) (queries.User, error) {
	u, err := q.GetUserByEmail(ctx, addr)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fmt.Errorf("no user with email %s (see `keyport user create`)", addr)
	}
	return u, err
}
