package cli

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"keyport/database"
	"keyport/groupcommit"
	"keyport/input"
	"keyport/org"
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

const dbUsage = "SQLite database file, or a postgres:// URL (docs/SCALING.md)"

// dbFlag declares -db as serve does, so one KEYPORT_DB serves every command.
func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", "keyport.db", dbUsage)
}

// openDB opens the database the way the server does (migrations included). Unless
// create is set, a missing SQLite file is an error: a mistyped -db must not silently make
// a new, empty database.
func openDB(ctx context.Context, env Env, path string, create bool) (*database.DB, *queries.Queries, error) {
	if !create && database.EngineOf(path) == database.SQLite {
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

// writer makes the command line's audited writes on db, by the wall clock. Close its
// Commit when done.
func writer(db *database.DB, q *queries.Queries) *org.Writer {
	return &org.Writer{Commit: groupcommit.New(db.Write, q, nil), Queries: q, Now: time.Now}
}

// emailFlag validates an --email value.
func emailFlag(s string) (string, error) {
	addr, err := input.Email(s)
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

// findOrg finds the organization a command names by -org: its id or its exact name.
func findOrg(ctx context.Context, q *queries.Queries, ref string) (queries.Organization, error) {
	orgs, err := q.FindOrganizations(ctx, ref)
	if err != nil {
		return queries.Organization{}, err
	}
	switch {
	case len(orgs) == 0:
		return queries.Organization{}, fmt.Errorf("no organization with id or name %q", ref)
	case len(orgs) > 1:
		ids := make([]string, len(orgs))
		for i, o := range orgs {
			ids[i] = o.ID
		}
		return queries.Organization{}, fmt.Errorf("%d organizations are named %q; give an id: %s", len(orgs), ref, strings.Join(ids, ", "))
	}
	return orgs[0], nil
}

// userOrg is the organization a command acts in for user: -org (ref) when given, which
// the user must be a member of, otherwise the user's only organization.
func userOrg(ctx context.Context, q *queries.Queries, user queries.User, ref string) (string, error) {
	orgs, err := q.ListUserOrganizations(ctx, user.ID)
	if err != nil {
		return "", err
	}
	if ref == "" {
		switch len(orgs) {
		case 0:
			return "", fmt.Errorf("%s is not a member of any organization", user.Email)
		case 1:
			return orgs[0].ID, nil
		}
		return "", fmt.Errorf("%w: %s is a member of %d organizations; choose one with -org", errUsage, user.Email, len(orgs))
	}
	org, err := findOrg(ctx, q, ref)
	if err != nil {
		return "", err
	}
	for _, o := range orgs {
		if o.ID == org.ID {
			return o.ID, nil
		}
	}
	return "", fmt.Errorf("%s is not a member of %s", user.Email, org.Name)
}
