// Package cli is keyport's command line: `serve` (the default) and the commands an
// operator scripts against the same database.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"

	"keyport/app"
)

// Env is the process environment a command runs in; tests substitute their own.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	Assets         app.Assets
}

type command struct {
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

// commands lists every command by its words ("key create").
var commands = map[string]command{
	"serve":         {"run the web server (the default)", serve},
	"backup":        {"write a consistent copy of the database to PATH, also while serving", backup},
	"import-sqlite": {"copy a SQLite database into an empty PostgreSQL one (not the sessions)", importSQLite},
	"migrate":       {"bring the database schema up to this binary's version and exit", migrate},
	"user create":   {"create a user and its organization (password from stdin or a prompt)", userCreate},
	"user password": {"set a user's password (from stdin or a prompt) and sign out all their sessions", userPassword},
	"key create":    {"create an API key and print it, once, on stdout", keyCreate},
	"key list":      {"list API keys (never the keys themselves)", keyList},
	"key revoke":    {"revoke an API key by id; a running server stops accepting it within 1 s", keyRevoke},
	"member list":   {"list the members of an organization", memberList},
	"member remove": {"remove a member from an organization (never its last owner)", memberRemove},
	"invite create": {"invite an email to an organization and print the link, once", inviteCreate},
	"version":       {"print the version and the commit it was built from", version},
}

// errUsage marks an error whose message is already the help the user needs.
var errUsage = errors.New("usage")

// Main runs the command named by args and returns the process exit code: 0 on success,
// 2 for a usage error, 1 for any other failure. Errors go to stderr.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
		usage(env.Stdout)
		return 0
	}
	name, rest := lookup(args)
	cmd, ok := commands[name]
	if !ok {
		if group := args[0]; len(subcommands(group)) > 0 {
			if len(args) == 1 || args[1] == "-h" || args[1] == "--help" {
				groupUsage(env.Stdout, group)
				return 0
			}
			fmt.Fprintf(env.Stderr, "keyport: unknown command %q\n\n", strings.Join(args, " "))
			groupUsage(env.Stderr, group)
			return 2
		}
		fmt.Fprintf(env.Stderr, "keyport: unknown command %q\n\n", strings.Join(args, " "))
		usage(env.Stderr)
		return 2
	}
	if err := cmd.run(ctx, env, rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(env.Stderr, "keyport %s: %v\n", name, err)
		if errors.Is(err, errUsage) {
			return 2
		}
		return 1
	}
	return 0
}

// lookup finds the longest command name made of the leading words of args; no words (or
// only flags) means serve.
func lookup(args []string) (string, []string) {
	for n := min(len(args), 2); n >= 1; n-- {
		name := strings.Join(args[:n], " ")
		if _, ok := commands[name]; ok {
			return name, args[n:]
		}
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "serve", args
	}
	return strings.Join(args, " "), nil
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: keyport [command] [flags]")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	listCommands(w, names)
	fmt.Fprintln(w, "\nRun `keyport COMMAND -h` for a command's flags. Every flag can also be set as KEYPORT_<NAME>.")
}

// subcommands returns the sorted names of the commands whose first word is group ("key").
func subcommands(group string) []string {
	var names []string
	for n := range commands {
		if strings.HasPrefix(n, group+" ") {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

func groupUsage(w io.Writer, group string) {
	fmt.Fprintf(w, "Usage: keyport %s COMMAND [flags]\n\nCommands:\n", group)
	listCommands(w, subcommands(group))
	fmt.Fprintf(w, "\nRun `keyport %s COMMAND -h` for a command's flags.\n", group)
}

func listCommands(w io.Writer, names []string) {
	for _, n := range names {
		fmt.Fprintf(w, "  %-14s %s\n", n, commands[n].summary)
	}
}

// newFlags makes a FlagSet whose defaults come from KEYPORT_* variables, so flags
// override the environment and the environment overrides built-in defaults.
func newFlags(name string, env Env) *flag.FlagSet {
	fs := flag.NewFlagSet("keyport "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	return fs
}

// envDefaults applies KEYPORT_<NAME> for every flag not given on the command line.
func envDefaults(fs *flag.FlagSet, env Env) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] {
			return
		}
		name := "KEYPORT_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v := env.Getenv(name); v != "" {
			if err := f.Value.Set(v); err != nil {
				errs = append(errs, fmt.Errorf("%w: %s=%q: %v", errUsage, name, v, err))
			}
		}
	})
	return errors.Join(errs...)
}
