package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/term"

	"keyport/input"
	"keyport/org"
)

// userCreate creates a user and its organization, as signing up does, and prints
// "USER_ID ORG_ID".
func userCreate(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags("user create", env)
	synopsis(fs, "user create --email E [--org NAME] < password")
	email := fs.String("email", "", "the user's email (required)")
	orgFlag := fs.String("org", "", "name of the organization created for the user (default: from the email)")
	dbPath := dbFlag(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	addr, err := emailFlag(*email)
	if err != nil {
		return err
	}
	orgName, err := input.OrgName(*orgFlag, addr)
	if err != nil {
		return fmt.Errorf("%w: --org: %v", errUsage, err)
	}
	hash, err := newPasswordHash(env)
	if err != nil {
		return err
	}

	db, q, err := openDB(ctx, env, *dbPath, true)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	w := writer(db, q)
	defer w.Commit.Close()
	acct, err := w.Signup(ctx, org.NewAccount{Email: addr, PasswordHash: hash, OrgName: orgName})
	if errors.Is(err, org.ErrEmailTaken) {
		return fmt.Errorf("a user with email %s already exists", addr)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, acct.UserID, acct.OrgID)
	return err
}

// userPassword sets a user's password, as the account page does, and ends every session
// of the user: the way back in for an owner who forgot theirs, or out for an intruder.
func userPassword(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags("user password", env)
	synopsis(fs, "user password --email E < password")
	email := fs.String("email", "", "the user's email (required)")
	dbPath := dbFlag(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	addr, err := emailFlag(*email)
	if err != nil {
		return err
	}
	hash, err := newPasswordHash(env)
	if err != nil {
		return err
	}
	db, q, err := openDB(ctx, env, *dbPath, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	u, err := userByEmail(ctx, q, addr)
	if err != nil {
		return err
	}
	if err := writer(db, q).ChangePassword(ctx, org.Actor{UserID: u.ID, Email: u.Email}, "", hash, "", org.Attempt{}); err != nil {
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "password of %s changed; every session signed out\n", u.Email)
	return err
}

// newPasswordHash reads a new password (readPassword), checks it as every password
// being set is checked, and returns its bcrypt hash.
func newPasswordHash(env Env) (string, error) {
	password, err := readPassword(env)
	if err != nil {
		return "", err
	}
	if _, err := input.NewPassword(password); err != nil {
		return "", err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(hash), err
}

// readPassword prompts without echo on a terminal; otherwise it reads the first line of
// stdin, so scripts can pipe the password in (never pass it as an argument: argv is
// visible to every user of the machine).
func readPassword(env Env) (string, error) {
	if f, ok := env.Stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(env.Stderr, "Password: ")
		p, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(env.Stderr, "Repeat password: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		if string(p) != string(again) {
			return "", errors.New("the passwords do not match")
		}
		return string(p), nil
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		if errors.Is(err, io.EOF) {
			return "", errors.New("no password on stdin: pipe it in as one line, or run in a terminal to be prompted")
		}
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}
