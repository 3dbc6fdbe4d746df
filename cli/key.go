package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"keyport/input"
	"keyport/keyauth"
	"keyport/org"
)

// keyCreate creates a key for the organization of the user --email and prints the full
// key, alone, on stdout: `KEY=$(keyport key create ...)`. It is never shown again.
func keyCreate(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags("key create", env)
	synopsis(fs, "key create --email E --name N [--org ORG] [--scopes products:read,products:write] [--expires-in 30d|0]")
	email := fs.String("email", "", "the user who creates the key (required)")
	orgFlag := fs.String("org", "", "the organization the key belongs to, by id or exact name (default: the user's only one)")
	name := fs.String("name", "", "the key's name, 1 to 100 characters (required)")
	scopeList := fs.String("scopes", strings.Join(keyauth.DefaultScopes, ","), "comma-separated scopes: "+strings.Join(keyauth.AllScopes, ", ")+", or custom ones")
	expires := fs.String("expires-in", "0", "lifetime: days (30d) or a Go duration (12h); 0 means never")
	dbPath := dbFlag(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	addr, err := emailFlag(*email)
	if err != nil {
		return err
	}
	keyName, err := input.KeyName(*name)
	if err != nil {
		return fmt.Errorf("%w: --name: %v", errUsage, err)
	}
	var submitted []string
	for s := range strings.SplitSeq(*scopeList, ",") {
		if s = strings.TrimSpace(s); s != "" {
			submitted = append(submitted, s)
		}
	}
	scopes, err := input.Scopes(submitted, keyauth.AllScopes)
	if err != nil {
		return fmt.Errorf("%w: --scopes: %v", errUsage, err)
	}
	lifetime, err := parseLifetime(*expires)
	if err != nil {
		return fmt.Errorf("%w: --expires-in: %v", errUsage, err)
	}

	db, q, err := openDB(ctx, env, *dbPath, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	user, err := userByEmail(ctx, q, addr)
	if err != nil {
		return err
	}
	orgID, err := userOrg(ctx, q, user, *orgFlag)
	if err != nil {
		return err
	}
	w := writer(db, q)
	defer w.Commit.Close()
	created, err := w.CreateKey(ctx, org.NewKey{
		OrgID: orgID, Name: keyName, Scopes: scopes, ExpiresIn: lifetime,
		Actor: org.Actor{UserID: user.ID, Email: user.Email}, Detail: "keyport key create",
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, created.Key)
	return err
}

// parseLifetime reads --expires-in: "0" (never), whole days ("30d") or a Go duration.
func parseLifetime(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "0" || s == "" {
		return 0, nil
	}
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n > 100*365 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not 0, a number of days (30d) or a duration (12h)", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("%q must be positive (0 means never)", s)
	}
	return d, nil
}

// keyInfo is one line of `key list`; never the key itself, which is not stored.
type keyInfo struct {
	ID         string   `json:"id"`
	OrgID      string   `json:"orgId"`
	OrgName    string   `json:"orgName"`
	Name       string   `json:"name"`
	Hint       string   `json:"hint"`
	Scopes     []string `json:"scopes"`
	CreatedAt  string   `json:"createdAt"`
	ExpiresAt  *string  `json:"expiresAt"`
	LastUsedAt *string  `json:"lastUsedAt"`
	RevokedAt  *string  `json:"revokedAt"`
	Status     string   `json:"status"`
}

func keyList(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags("key list", env)
	synopsis(fs, "key list [--email E | --org ORG] [--json]")
	email := fs.String("email", "", "only keys of this user's organizations")
	orgFlag := fs.String("org", "", "only keys of this organization, by id or exact name")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	dbPath := dbFlag(fs)
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *email != "" && *orgFlag != "" {
		return fmt.Errorf("%w: give --email or --org, not both", errUsage)
	}
	var addr string
	if *email != "" {
		if addr, err = emailFlag(*email); err != nil {
			return err
		}
	}

	db, q, err := openDB(ctx, env, *dbPath, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	var orgIDs map[string]bool // nil: every organization
	switch {
	case *orgFlag != "":
		o, err := findOrg(ctx, q, *orgFlag)
		if err != nil {
			return err
		}
		orgIDs = map[string]bool{o.ID: true}
	case addr != "":
		user, err := userByEmail(ctx, q, addr)
		if err != nil {
			return err
		}
		orgs, err := q.ListUserOrganizations(ctx, user.ID)
		if err != nil {
			return err
		}
		orgIDs = map[string]bool{}
		for _, o := range orgs {
			orgIDs[o.ID] = true
		}
	}
	rows, err := q.ListAllAPIKeys(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	keys := []keyInfo{}
	for _, r := range rows {
		k := r.ApiKey
		if orgIDs != nil && !orgIDs[k.OrgID] {
			continue
		}
		keys = append(keys, keyInfo{
			ID: k.ID, OrgID: k.OrgID, OrgName: r.OrgName, Name: k.Name, Hint: k.Hint,
			Scopes:     strings.Fields(k.Scopes),
			CreatedAt:  stamp(k.CreatedAt),
			ExpiresAt:  optStamp(k.ExpiresAt),
			LastUsedAt: optStamp(k.LastUsedAt),
			RevokedAt:  optStamp(k.RevokedAt),
			Status:     org.KeyState(k, now).String(),
		})
	}
	if *asJSON {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(keys)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tORG\tNAME\tHINT\tSCOPES\tCREATED\tEXPIRES\tLAST USED\tSTATUS")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.OrgID, k.Name, k.Hint,
			strings.Join(k.Scopes, ","), k.CreatedAt, orDash(k.ExpiresAt, "never"),
			orDash(k.LastUsedAt, "never"), k.Status)
	}
	return tw.Flush()
}

func stamp(ms int64) string {
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

func optStamp(v sql.NullInt64) *string {
	if !v.Valid {
		return nil
	}
	s := stamp(v.Int64)
	return &s
}

func orDash(s *string, none string) string {
	if s == nil {
		return none
	}
	return *s
}

// keyRevoke revokes a key by id. A running server stops accepting it within a second
// (it watches the database for changes made by other processes).
func keyRevoke(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags("key revoke", env)
	synopsis(fs, "key revoke ID")
	dbPath := dbFlag(fs)
	pos, err := parseArgs(fs, env, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fmt.Errorf("%w: give exactly one key id (see `keyport key list`)", errUsage)
	}
	id := pos[0]

	db, q, err := openDB(ctx, env, *dbPath, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	// No one is signed in on the command line; the audit log says so.
	w := writer(db, q)
	defer w.Commit.Close()
	revoked, err := w.RevokeKey(ctx, org.Revoke{
		ID: id, Actor: org.Actor{Email: "keyport CLI"}, Detail: "keyport key revoke",
	})
	if errors.Is(err, org.ErrKeyNotFound) {
		return fmt.Errorf("no API key with id %q", id)
	}
	if err != nil {
		return err
	}
	if revoked.Already {
		_, err = fmt.Fprintf(env.Stdout, "%s was already revoked\n", id)
		return err
	}
	_, err = fmt.Fprintf(env.Stdout, "revoked %s\n", id)
	return err
}
