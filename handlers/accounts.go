package handlers

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"keyport/input"
	"keyport/org"
	"keyport/queries"
	"keyport/team"
)

var errNoRows = sql.ErrNoRows

const (
	msgBadLogin   = "Incorrect email or password."
	dashboardPath = "/dashboard/integrations/api"
)

func (s *Server) home(c echo.Context) error {
	if memberFrom(c) != nil {
		return c.Redirect(http.StatusSeeOther, dashboardPath)
	}
	return c.Redirect(http.StatusSeeOther, "/login")
}

func (s *Server) signupForm(c echo.Context) error {
	if memberFrom(c) != nil {
		return c.Redirect(http.StatusSeeOther, dashboardPath)
	}
	return s.render(c, http.StatusOK, "signup", "", AuthPage{Layout: s.layout(c, "Create your account", "")})
}

func (s *Server) signup(c echo.Context) error {
	ctx := c.Request().Context()
	req := c.Request()
	// Read from the body only, like every credential (see login).
	typedEmail, typedOrg := req.PostFormValue("email"), req.PostFormValue("org")
	page := AuthPage{Layout: s.layout(c, "Create your account", ""),
		Email: echoField(typedEmail, input.MaxEmailLen), Org: echoField(typedOrg, input.MaxOrgNameChars)}
	fail := func(status int, msg string) error {
		page.Error = msg
		return s.render(c, status, "signup", "", page)
	}
	email, err := input.Email(typedEmail)
	if err != nil {
		return fail(http.StatusUnprocessableEntity, err.Error())
	}
	password, err := input.NewPassword(req.PostFormValue("password"))
	if err != nil {
		return fail(http.StatusUnprocessableEntity, err.Error())
	}
	orgName, err := input.OrgName(typedOrg, email)
	if err != nil {
		return fail(http.StatusUnprocessableEntity, err.Error())
	}
	// A signup is one of the client's sign-in attempts: a taken email (409) counts as a
	// failure, so signup is no faster way to learn who has an account, and a throttled
	// client learns nothing. Reserved before bcrypt, which is the expensive part.
	at, err := s.Org.ReserveSignIn(ctx, clientSubject(c.RealIP()), "")
	if wait := (*org.WaitError)(nil); errors.As(err, &wait) {
		return fail(http.StatusTooManyRequests, throttled(c, wait))
	}
	if err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return err
	}
	acct, err := s.Org.Signup(ctx, org.NewAccount{Email: email, PasswordHash: string(hash), OrgName: orgName, IP: c.RealIP(), Attempt: at})
	if errors.Is(err, org.ErrEmailTaken) {
		page.EmailTaken = true
		return fail(http.StatusConflict, "An account with this email already exists.")
	}
	if err != nil {
		return err
	}
	if err := s.startSession(ctx, acct.UserID); err != nil {
		return err
	}
	return redirect(c, dashboardPath)
}

func (s *Server) loginForm(c echo.Context) error {
	if memberFrom(c) != nil {
		return c.Redirect(http.StatusSeeOther, dashboardPath)
	}
	return s.render(c, http.StatusOK, "login", "", AuthPage{Layout: s.layout(c, "Sign in", "")})
}

func (s *Server) login(c echo.Context) error {
	ctx := c.Request().Context()
	// Credentials come from the body only: a query string ends up in proxy logs.
	typed := c.Request().PostFormValue("email")
	page := AuthPage{Layout: s.layout(c, "Sign in", ""), Email: echoField(typed, input.MaxEmailLen),
		Invite: c.Request().PostFormValue("invite")}
	ip := c.RealIP()
	// An invalid address is reported like a wrong password: the form never tells which
	// half was wrong. It is still counted, under what was typed.
	email, emailErr := input.Email(typed)
	if emailErr != nil {
		email = typed
		if len(email) > input.MaxEmailLen {
			email = email[:input.MaxEmailLen]
		}
		email = input.Storable(email)
	}
	// The attempt is counted before bcrypt runs, so parallel guesses cannot all pass a
	// check that none of them has yet failed.
	at, err := s.Org.ReserveSignIn(ctx, clientSubject(ip), accountSubject(email))
	if wait := (*org.WaitError)(nil); errors.As(err, &wait) {
		page.Error = throttled(c, wait)
		return s.render(c, http.StatusTooManyRequests, "login", "", page)
	}
	if err != nil {
		return err
	}

	user, err := s.Read.GetUserByEmail(ctx, email)
	hash := s.dummyHash
	if err == nil {
		hash = []byte(user.PasswordHash)
	} else if !errors.Is(err, errNoRows) {
		return err
	}
	// Always run bcrypt, also for unknown emails, so timing does not reveal accounts.
	password := c.Request().PostFormValue("password")
	pwErr := bcrypt.CompareHashAndPassword(hash, []byte(password))
	// bcrypt ignores bytes past 72, so a longer password would match a stored one that
	// is its prefix; no valid password is that long.
	_, lenErr := input.Password(password)
	var home string
	if err == nil {
		if home, err = s.homeOrg(ctx, user.ID); err != nil {
			return err
		}
	}
	if err != nil || pwErr != nil || lenErr != nil || emailErr != nil {
		attempt := org.SignIn{Email: email, IP: ip, OrgID: home, Attempt: at}
		if err == nil {
			attempt.UserID = user.ID
		}
		if err := s.Org.RecordLoginFailure(ctx, attempt); err != nil {
			return err
		}
		page.Error = msgBadLogin
		return s.render(c, http.StatusUnauthorized, "login", "", page)
	}

	if err := s.Org.RecordLogin(ctx, org.SignIn{Email: user.Email, IP: ip, UserID: user.ID, OrgID: home, Attempt: at}); err != nil {
		return err
	}
	if err := s.startSession(ctx, user.ID); err != nil {
		return err
	}
	if page.Invite != "" {
		return s.acceptInviteAs(c, user.ID, user.Email, page.Invite)
	}
	return redirect(c, dashboardPath)
}

func (s *Server) logout(c echo.Context) error {
	if err := s.endSession(c.Request().Context()); err != nil {
		return err
	}
	// Signing out to use an invitation as someone else returns to the invitation; no
	// other place, so the field cannot send anyone off the site.
	if next := c.FormValue("next"); strings.HasPrefix(next, "/invite/") {
		if _, err := team.HashInvitationToken(strings.TrimPrefix(next, "/invite/")); err == nil {
			return redirect(c, next)
		}
	}
	return redirect(c, "/login")
}

// homeOrg is the organization a new session of userID starts in (the one they joined
// first), "" when they are in none. Sign-ins are audited there.
func (s *Server) homeOrg(ctx context.Context, userID string) (string, error) {
	m, err := s.Read.GetSessionMember(ctx, queries.GetSessionMemberParams{UserID: userID})
	if errors.Is(err, errNoRows) {
		return "", nil
	}
	return m.OrgID, err
}

// PruneLoginFailures forgets throttle counters that hold nobody back any more and
// session rows past the sessions' absolute lifetime.
func (s *Server) PruneLoginFailures(ctx context.Context) error {
	return s.Org.PruneSignIns(ctx, s.Sessions.Lifetime)
}

// echoField is s to show again in a form, or "" when s is longer than the field may be:
// a page never sends back an oversized value.
func echoField(s string, maxChars int) string {
	if len(s) > maxChars && utf8.RuneCountInString(s) > maxChars {
		return ""
	}
	return s
}
