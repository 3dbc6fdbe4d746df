package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"keyport/input"
	"keyport/org"
	"keyport/team"
)

// InvitePage is what an invitation link shows: to whom, from whom, for what; and what
// the visitor can do about it.
type InvitePage struct {
	Layout
	Token     string
	OrgName   string
	InvitedBy string
	Email     string // the invited email
	Role      team.Role
	// Signed in: Join when the email matches, otherwise WrongAccount.
	Join, WrongAccount bool
	// Signed out: SignIn when an account with the email exists, otherwise sign up.
	SignIn bool
	Error  string
}

// invitePage shows an invitation. Unknown, used, revoked and expired tokens all get the
// same 404 page, so a link reveals nothing once it is no longer valid.
func (s *Server) invitePage(c echo.Context) error {
	return s.renderInvite(c, http.StatusOK, "")
}

func (s *Server) renderInvite(c echo.Context, status int, msg string) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	inv, err := org.LookupInvitation(ctx, s.Read, token, s.Now().UnixMilli())
	if err != nil {
		return err
	}
	p := InvitePage{
		Layout: s.layout(c, "Join "+inv.OrgName, ""), Token: token, OrgName: inv.OrgName,
		InvitedBy: inv.InviterEmail, Email: inv.Email, Role: team.Role(inv.Role), Error: msg,
	}
	// A link carries a secret: keep it out of Referer headers and caches.
	c.Response().Header()[hdrCacheControl] = noStoreValue
	if m := memberFrom(c); m != nil {
		p.Join, p.WrongAccount = m.Email == inv.Email, m.Email != inv.Email
		return s.render(c, status, "invite", "", p)
	}
	switch _, err := s.Read.GetUserByEmail(ctx, inv.Email); {
	case err == nil:
		p.SignIn = c.QueryParam("as") != "new"
	case errors.Is(err, errNoRows):
		p.SignIn = c.QueryParam("as") == "existing"
	default:
		return err
	}
	return s.render(c, status, "invite", "", p)
}

// acceptInvite joins the signed-in user to the invitation's organization.
func (s *Server) acceptInvite(c echo.Context) error {
	m := memberFrom(c)
	if m == nil {
		if _, err := org.LookupInvitation(c.Request().Context(), s.Read, c.Param("token"), s.Now().UnixMilli()); err != nil {
			return err
		}
		return redirect(c, "/invite/"+c.Param("token"))
	}
	return s.acceptInviteAs(c, m.UserID, m.Email, c.Param("token"))
}

// acceptInviteAs accepts the invitation token for the user just signed in (or already
// signed in). For another account's invitation it goes back to the link, which says so.
func (s *Server) acceptInviteAs(c echo.Context, userID, email, token string) error {
	j, err := s.Org.AcceptInvitation(c.Request().Context(), org.Actor{UserID: userID, Email: email, IP: c.RealIP()}, token)
	if errors.Is(err, org.ErrWrongAccount) {
		return redirect(c, "/invite/"+token)
	}
	if err != nil {
		return err
	}
	return s.joined(c, j)
}

// joined makes the organization just joined the current one and says so.
func (s *Server) joined(c echo.Context, j org.Joined) error {
	ctx := c.Request().Context()
	o, err := s.Read.GetOrganization(ctx, j.OrgID)
	if err != nil {
		return err
	}
	s.Sessions.Put(ctx, sessionOrgID, j.OrgID)
	if j.Already {
		s.flash(c, "You are already a member of "+o.Name+"; your role is unchanged.")
	} else {
		s.flash(c, "You joined "+o.Name+".")
	}
	return redirect(c, dashboardPath)
}

// signupInvited is the signup form of an invitation link: the account gets the
// invitation's email and joins its organization, with no organization of its own.
func (s *Server) signupInvited(c echo.Context) error {
	ctx := c.Request().Context()
	token := c.Param("token")
	// Read from the body only, like every credential (see login).
	password, err := input.NewPassword(c.Request().PostFormValue("password"))
	if err != nil {
		return s.renderInvite(c, http.StatusUnprocessableEntity, err.Error())
	}
	// Counted like a signup, whose throttle it shares.
	at, err := s.Org.ReserveSignIn(ctx, clientSubject(c.RealIP()), "")
	if wait := (*org.WaitError)(nil); errors.As(err, &wait) {
		return s.renderInvite(c, http.StatusTooManyRequests, throttled(c, wait))
	}
	if err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return err
	}
	acct, err := s.Org.SignupInvited(ctx, org.NewAccount{PasswordHash: string(hash), IP: c.RealIP(), Attempt: at}, token)
	if errors.Is(err, org.ErrEmailTaken) {
		return s.renderInvite(c, http.StatusConflict, "An account with this email already exists. Sign in instead.")
	}
	if err != nil {
		return err
	}
	if err := s.startSession(ctx, acct.UserID); err != nil {
		return err
	}
	return s.joined(c, org.Joined{OrgID: acct.OrgID})
}
