package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"keyport/org"
	"keyport/queries"
	"keyport/team"
)

// memberList prints the members of an organization: email, role, joined, last sign-in.
func memberList(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags("member list", env)
	synopsis(fs, "member list -org ORG")
	orgRef := orgFlag(fs)
	dbPath := dbFlag(fs)
	if err := parseWithOrg(fs, env, args, orgRef); err != nil {
		return err
	}
	db, q, err := openDB(ctx, env, *dbPath, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	o, err := findOrg(ctx, q, *orgRef)
	if err != nil {
		return err
	}
	members, err := q.ListMembers(ctx, o.ID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tJOINED\tLAST SIGN-IN")
	for _, m := range members {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.Email, m.Role, stamp(m.CreatedAt), orDash(optStamp(m.LastSignInAt), "never"))
	}
	return tw.Flush()
}

// inviteCreate creates an invitation and prints its link, alone, on stdout; it is never
// shown again. keyport sends no mail: the operator sends the link.
func inviteCreate(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags("invite create", env)
	synopsis(fs, "invite create -org ORG -email E -role owner|admin|member|viewer")
	orgRef := orgFlag(fs)
	email := fs.String("email", "", "who is invited; only an account with this email can use the link (required)")
	roleFlag := fs.String("role", string(team.Member), "the role they get: owner, admin, member or viewer")
	base := fs.String("public-url", "http://127.0.0.1:8080", "the address people reach keyport at, which the link starts with")
	dbPath := dbFlag(fs)
	if err := parseWithOrg(fs, env, args, orgRef); err != nil {
		return err
	}
	addr, err := emailFlag(*email)
	if err != nil {
		return err
	}
	role, err := team.ParseRole(*roleFlag)
	if err != nil {
		return fmt.Errorf("%w: -role: %v", errUsage, err)
	}
	db, q, err := openDB(ctx, env, *dbPath, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	by, err := firstOwner(ctx, q, *orgRef)
	if err != nil {
		return err
	}
	inv, err := writer(db, q).Invite(ctx, org.NewInvitation{By: by, Email: addr, Role: role})
	if errors.Is(err, org.ErrAlreadyMember) {
		return fmt.Errorf("%s is already a member", addr)
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(env.Stdout, strings.TrimRight(*base, "/")+"/invite/"+inv.Token)
	return err
}

// memberRemove removes a member from an organization; the last owner stays.
func memberRemove(ctx context.Context, env Env, args []string) (err error) {
	fs := newFlags("member remove", env)
	synopsis(fs, "member remove -org ORG -email E")
	orgRef := orgFlag(fs)
	email := fs.String("email", "", "the member to remove (required)")
	dbPath := dbFlag(fs)
	if err := parseWithOrg(fs, env, args, orgRef); err != nil {
		return err
	}
	addr, err := emailFlag(*email)
	if err != nil {
		return err
	}
	db, q, err := openDB(ctx, env, *dbPath, false)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, db.Close()) }()
	by, err := firstOwner(ctx, q, *orgRef)
	if err != nil {
		return err
	}
	user, err := userByEmail(ctx, q, addr)
	if err != nil {
		return err
	}
	err = writer(db, q).RemoveMember(ctx, by, user.ID)
	switch {
	case errors.Is(err, org.ErrMemberNotFound):
		return fmt.Errorf("%s is not a member", addr)
	case errors.Is(err, org.ErrLastOwner):
		return fmt.Errorf("%s is the last owner: %w", addr, err)
	}
	return err
}

// orgFlag declares the -org every team command requires.
func orgFlag(fs *flag.FlagSet) *string {
	return fs.String("org", "", "the organization, by id or exact name (required)")
}

// parseWithOrg is parseFlags for a command whose -org must be given.
func parseWithOrg(fs *flag.FlagSet, env Env, args []string, org *string) error {
	if err := parseFlags(fs, env, args); err != nil {
		return err
	}
	if *org == "" {
		return fmt.Errorf("%w: -org is required", errUsage)
	}
	return nil
}

// firstOwner is the owner the command line acts as in the organization ref: the one who
// joined first, so that the role rules and the audit log apply to it as to the dashboard.
func firstOwner(ctx context.Context, q *queries.Queries, ref string) (org.Member, error) {
	o, err := findOrg(ctx, q, ref)
	if err != nil {
		return org.Member{}, err
	}
	members, err := q.ListMembers(ctx, o.ID)
	if err != nil {
		return org.Member{}, err
	}
	for _, m := range members {
		if team.Role(m.Role) == team.Owner {
			return org.Member{OrgID: o.ID, Actor: org.Actor{UserID: m.UserID, Email: m.Email}}, nil
		}
	}
	return org.Member{}, fmt.Errorf("%s has no owner", o.Name)
}
