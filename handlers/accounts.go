package handlers

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"keyport/handlers/parse"
	"keyport/org"
	"keyport/queries"
)

var errNoRows = sql.ErrNoRows

const (
	loginWindow      = 15 * time.Minute
	maxLoginFailures = 10
	msgBadLogin      = "Incorrect email or password."
	dashboardPath    = "/dashboard/integrations/api"
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
	page := AuthPage{Layout: s.layout(c, "Create your account", ""), Email: c.FormValue("email"), Org: c.FormValue("org")}
	fail := func(status int, msg string) error {
		page.Error = msg
		return s.render(c, status, "signup", "", page)
	}
	email, err := parse.Email(page.Email)
	if err != nil {
		return fail(http.StatusUnprocessableEntity, err.Error())
	}
	password, err := parse.Password(c.FormValue("password"))
	if err != nil {
		return fail(http.StatusUnprocessableEntity, err.Error())
	}
	orgName, err := parse.OrgName(page.Org, email)
	if err != nil {
		return fail(http.StatusUnprocessableEntity, err.Error())
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), s.BcryptCost)
	if err != nil {
		return err
	}
	acct, err := s.Org.Signup(ctx, org.NewAccount{Email: email, PasswordHash: string(hash), OrgName: orgName, IP: c.RealIP()})
	if errors.Is(err, org.ErrEmailTaken) {
		page.EmailTaken = true
		return fail(http.StatusConflict, "An account with this email already exists.")
	}
	if err != nil {
		return err
	}
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.Sessions.Put(ctx, sessionUserID, acct.UserID)
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
	page := AuthPage{Layout: s.layout(c, "Sign in", ""), Email: c.FormValue("email")}
	ip := c.RealIP()
	now := s.Now()
	// An invalid address is reported like a wrong password: the form never tells which
	// half was wrong. It is still counted, under what was typed.
	email, emailErr := parse.Email(page.Email)
	if emailErr != nil {
		email = page.Email
		if len(email) > 254 {
			email = email[:254]
		}
	}
	counts, err := s.Read.CountLoginFailures(ctx, queries.CountLoginFailuresParams{
		Email: email, IP: ip, Since: now.Add(-loginWindow).UnixMilli(),
	})
	if err != nil {
		return err
	}
	if counts.ByEmail >= maxLoginFailures || counts.ByIP >= maxLoginFailures {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(loginWindow.Seconds())))
		page.Error = "Too many failed sign-in attempts. Try again in 15 minutes."
		return s.render(c, http.StatusTooManyRequests, "login", "", page)
	}

	user, err := s.Read.GetUserByEmail(ctx, email)
	hash := s.dummyHash
	if err == nil {
		hash = []byte(user.PasswordHash)
	} else if !errors.Is(err, errNoRows) {
		return err
	}
	// Always run bcrypt, also for unknown emails, so timing does not reveal accounts.
	password := c.FormValue("password")
	pwErr := bcrypt.CompareHashAndPassword(hash, []byte(password))
	// bcrypt ignores bytes past 72, so a longer password would match a stored one that
	// is its prefix; no valid password is that long.
	_, lenErr := parse.Password(password)
	var home string
	if err == nil {
		if home, err = s.homeOrg(ctx, user.ID); err != nil {
			return err
		}
	}
	if err != nil || pwErr != nil || lenErr != nil || emailErr != nil {
		attempt := org.SignIn{Email: email, IP: ip, OrgID: home}
		if err == nil {
			attempt.UserID = user.ID
		}
		if err := s.Org.RecordLoginFailure(ctx, attempt); err != nil {
			return err
		}
		page.Error = msgBadLogin
		return s.render(c, http.StatusUnauthorized, "login", "", page)
	}

	if err := s.Org.RecordLogin(ctx, org.SignIn{Email: user.Email, IP: ip, UserID: user.ID, OrgID: home}); err != nil {
		return err
	}
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.Sessions.Put(ctx, sessionUserID, user.ID)
	return redirect(c, dashboardPath)
}

func (s *Server) logout(c echo.Context) error {
	ctx := c.Request().Context()
	// RenewToken deletes the old token from the store, so a copied cookie stops working.
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.Sessions.Remove(ctx, sessionUserID)
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

// PruneLoginFailures forgets failed sign-ins too old to count towards the throttle, so
// the table stays small.
func (s *Server) PruneLoginFailures(ctx context.Context, now time.Time) error {
	return s.Write.DeleteLoginFailuresBefore(ctx, now.Add(-loginWindow).UnixMilli())
}
