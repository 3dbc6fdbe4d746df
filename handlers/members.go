package handlers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/input"
	"keyport/org"
	"keyport/queries"
	"keyport/team"
)

const membersPath = "/dashboard/members"

// MembersPage is the organization's members and pending invitations.
type MembersPage struct {
	Layout
	Members     []MemberRow
	Invitations []InvitationRow
	CanInvite   bool
	OOB         bool // rendered as an htmx out-of-band swap
}

// MemberRow is one member, with what the viewer may do to them.
type MemberRow struct {
	UserID     string
	Email      string
	Role       team.Role
	Joined     Moment
	LastSignIn Moment
	You        bool
	Roles      []Option // the roles the viewer may give them; none: the role is not editable
	Removable  bool
}

// InvitationRow is one pending invitation.
type InvitationRow struct {
	ID        string
	Email     string
	Role      team.Role
	InvitedBy string
	Expires   Moment
	Revocable bool
}

// roleOptions are the roles viewer may give to someone whose role is from ("" for an
// invitation), with from selected.
func roleOptions(viewer, from team.Role) []Option {
	var out []Option
	for _, r := range team.Roles {
		if viewer.CheckGrant(from, r) == nil {
			out = append(out, Option{Value: string(r), Label: r.Label(), Selected: r == from})
		}
	}
	return out
}

// inviteRoles are the roles viewer may invite with, selected preselected.
func inviteRoles(viewer, selected team.Role) []Option {
	opts := roleOptions(viewer, "")
	for i := range opts {
		opts[i].Selected = opts[i].Value == string(selected)
	}
	return opts
}

func (s *Server) membersPage(c echo.Context) error {
	p, err := s.members(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "members", "members-section", p)
}

// members loads the page for the signed-in member, deciding per row what they may do.
func (s *Server) members(c echo.Context) (MembersPage, error) {
	m := memberFrom(c)
	ctx := c.Request().Context()
	now := s.Now()
	rows, err := s.Read.ListMembers(ctx, m.OrgID)
	if err != nil {
		return MembersPage{}, err
	}
	invs, err := s.Read.ListPendingInvitations(ctx, queries.ListPendingInvitationsParams{OrgID: m.OrgID, Now: now.UnixMilli()})
	if err != nil {
		return MembersPage{}, err
	}
	p := MembersPage{Layout: s.layout(c, "Members", "members"), CanInvite: m.Can(team.ManageMembers)}
	for _, r := range rows {
		role := team.Role(r.Role)
		row := MemberRow{
			UserID: r.UserID, Email: r.Email, Role: role, You: r.UserID == m.UserID,
			Joined:     moment(r.CreatedAt, true, now),
			LastSignIn: moment(r.LastSignInAt.Int64, r.LastSignInAt.Valid, now),
		}
		if !row.You {
			if opts := roleOptions(m.Role, role); len(opts) > 1 {
				row.Roles = opts
			}
			row.Removable = m.Role.CheckRemove(role) == nil
		}
		p.Members = append(p.Members, row)
	}
	for _, i := range invs {
		role := team.Role(i.Role)
		p.Invitations = append(p.Invitations, InvitationRow{
			ID: i.ID, Email: i.Email, Role: role, InvitedBy: i.InviterEmail,
			Expires:   moment(i.ExpiresAt, true, now),
			Revocable: m.Role.CheckGrant("", role) == nil,
		})
	}
	return p, nil
}

// inOrg is the signed-in member acting in their current organization.
func inOrg(c echo.Context) org.Member {
	return org.Member{OrgID: memberFrom(c).OrgID, Actor: actor(c)}
}

// memberChanged answers a member write: htmx gets the updated members section and a
// toast, a plain form a redirect to the page with the message.
func (s *Server) memberChanged(c echo.Context, msg string) error {
	if isHTMX(c) {
		p, err := s.members(c)
		if err != nil {
			return err
		}
		setTrigger(c, true, msg, "success")
		return s.render(c, http.StatusOK, "members", "members-section", p)
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, membersPath)
}

func (s *Server) changeRole(c echo.Context) error {
	to, err := team.ParseRole(c.FormValue("role"))
	if err != nil {
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "Choose a role: owner, admin, member or viewer.")
	}
	target, err := s.memberParam(c)
	if err != nil {
		return err
	}
	if err := s.Org.ChangeRole(c.Request().Context(), inOrg(c), target.UserID, to); err != nil {
		return err
	}
	return s.memberChanged(c, target.Email+" is now "+to.Indefinite()+".")
}

func (s *Server) removeConfirm(c echo.Context) error {
	target, err := s.memberParam(c)
	if err != nil {
		return err
	}
	if err := memberFrom(c).Role.CheckRemove(team.Role(target.Role)); err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "member_remove", "member-remove", MemberConfirm{
		Layout: s.layout(c, "Remove member", "members"), UserID: target.UserID, Email: target.Email,
	})
}

func (s *Server) removeMember(c echo.Context) error {
	target, err := s.memberParam(c)
	if err != nil {
		return err
	}
	if err := s.Org.RemoveMember(c.Request().Context(), inOrg(c), target.UserID); err != nil {
		return err
	}
	return s.memberChanged(c, target.Email+" was removed from "+memberFrom(c).OrgName+".")
}

func (s *Server) leaveConfirm(c echo.Context) error {
	return s.render(c, http.StatusOK, "member_remove", "member-remove", MemberConfirm{
		Layout: s.layout(c, "Leave organization", "members"), Leave: true,
	})
}

func (s *Server) leave(c echo.Context) error {
	m := memberFrom(c)
	if err := s.Org.Leave(c.Request().Context(), inOrg(c)); err != nil {
		return err
	}
	s.flash(c, "You left "+m.OrgName+".")
	return redirect(c, dashboardPath)
}

// MemberConfirm is the remove (or leave) confirmation.
type MemberConfirm struct {
	Layout
	UserID, Email string
	Leave         bool
}

// memberParam loads the :user_id member of the signed-in organization; a user of
// another organization is not found.
func (s *Server) memberParam(c echo.Context) (queries.GetMembershipRow, error) {
	t, err := s.Read.GetMembership(c.Request().Context(), queries.GetMembershipParams{
		OrgID: memberFrom(c).OrgID, UserID: c.Param("user_id"),
	})
	if errors.Is(err, errNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// InviteForm is the invite dialog (or page, without JavaScript), and after a successful
// post the link, shown once.
type InviteForm struct {
	Layout
	FormToken string
	Email     string
	Roles     []Option
	Error     string
	Link      string
	Expires   Moment
	Role      team.Role
	List      MembersPage
}

func (s *Server) inviteForm(c echo.Context) error {
	m := memberFrom(c)
	if err := m.Role.Check(team.ManageMembers); err != nil {
		return err
	}
	token, err := s.Org.NewFormToken(c.Request().Context(), m.UserID)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "member_invite", "member-invite", InviteForm{
		Layout: s.layout(c, "Invite member", "members"), Roles: inviteRoles(m.Role, team.Member), FormToken: token,
	})
}

func (s *Server) invite(c echo.Context) error {
	m := memberFrom(c)
	f := InviteForm{Layout: s.layout(c, "Invite member", "members"), Email: c.FormValue("email"), FormToken: c.FormValue("form_token")}
	role, roleErr := team.ParseRole(c.FormValue("role"))
	f.Roles = inviteRoles(m.Role, role)
	email, err := input.Email(f.Email)
	if err = errors.Join(err, roleErr); err != nil {
		f.Error = firstError(err)
		return s.render(c, http.StatusUnprocessableEntity, "member_invite", "member-invite", f)
	}
	inv, err := s.Org.Invite(c.Request().Context(), org.NewInvitation{By: inOrg(c), Email: email, Role: role, FormToken: f.FormToken})
	switch {
	case errors.Is(err, org.ErrAlreadyMember):
		f.Error = email + " is already a member of " + m.OrgName + "."
		return s.render(c, http.StatusConflict, "member_invite", "member-invite", f)
	case errors.Is(err, org.ErrFormResent):
		const msg = "This form was already sent: no second invitation was created."
		if isHTMX(c) {
			return echo.NewHTTPError(http.StatusConflict, msg)
		}
		s.flash(c, msg)
		return c.Redirect(http.StatusSeeOther, membersPath)
	case errors.Is(err, org.ErrFormExpired):
		if f.FormToken, err = s.Org.NewFormToken(c.Request().Context(), m.UserID); err != nil {
			return err
		}
		f.Error = "This form had expired. Check the fields and press Create invitation link again."
		return s.render(c, http.StatusUnprocessableEntity, "member_invite", "member-invite", f)
	case err != nil:
		return err
	}
	list, err := s.members(c)
	if err != nil {
		return err
	}
	list.OOB = true
	// The link must never be cached by a browser or proxy.
	c.Response().Header()[hdrCacheControl] = noStoreValue
	return s.render(c, http.StatusCreated, "member_invite", "member-invited", InviteForm{
		Layout: s.layout(c, "Invitation link", "members"),
		Email:  email, Role: role, Link: s.baseURL(c) + "/invite/" + inv.Token,
		Expires: moment(s.Now().Add(team.InvitationTTL).UnixMilli(), true, s.Now()),
		List:    list,
	})
}

func (s *Server) revokeInvitation(c echo.Context) error {
	err := s.Org.RevokeInvitation(c.Request().Context(), inOrg(c), c.Param("id"))
	if errors.Is(err, org.ErrInvitationNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return s.memberChanged(c, "Invitation revoked.")
}

// baseURL is where this server is reached, for links shown to be sent elsewhere: the
// -public-url when set (behind a TLS proxy the request itself may say http), else the
// address the request came to.
func (s *Server) baseURL(c echo.Context) string {
	if s.PublicURL != nil {
		return strings.TrimRight(s.PublicURL.String(), "/")
	}
	return c.Scheme() + "://" + c.Request().Host
}
