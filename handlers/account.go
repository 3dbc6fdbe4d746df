package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
	"golang.org/x/crypto/bcrypt"

	"keyport/input"
	"keyport/org"
)

func (s *Server) accountPage(c echo.Context) error {
	return s.renderAccount(c, http.StatusOK, "")
}

func (s *Server) renderAccount(c echo.Context, status int, msg string) error {
	n, err := s.Read.CountUserSessions(c.Request().Context(), memberFrom(c).UserID)
	if err != nil {
		return err
	}
	return s.render(c, status, "account", "", AccountPage{Layout: s.layout(c, "Account", "account"), Sessions: n, Error: msg})
}

// changePassword asks for the current password (a stolen session alone must not take
// the account over), counted by the sign-in throttle like any password check, then
// sets the new one and ends every other session.
func (s *Server) changePassword(c echo.Context) error {
	ctx := c.Request().Context()
	m := memberFrom(c)
	req := c.Request()
	newPassword, err := input.NewPassword(req.PostFormValue("new_password"))
	if err != nil {
		return s.renderAccount(c, http.StatusUnprocessableEntity, err.Error())
	}
	at, err := s.Org.ReserveSignIn(ctx, clientSubject(c.RealIP()), accountSubject(m.Email))
	if wait := (*org.WaitError)(nil); errors.As(err, &wait) {
		return s.renderAccount(c, http.StatusTooManyRequests, throttled(c, wait))
	}
	if err != nil {
		return err
	}
	user, err := s.Read.GetUser(ctx, m.UserID)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(user.PasswordHash), []byte(req.PostFormValue("current_password"))) != nil {
		if err := s.Org.RecordLoginFailure(ctx, org.SignIn{Email: m.Email, IP: c.RealIP(), UserID: m.UserID, OrgID: m.OrgID, Attempt: at}); err != nil {
			return err
		}
		return s.renderAccount(c, http.StatusUnprocessableEntity, "The current password is incorrect.")
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(newPassword), s.BcryptCost)
	if err != nil {
		return err
	}
	if err := s.Org.ChangePassword(ctx, actor(c), m.OrgID, string(hash), s.Sessions.GetString(ctx, sessionID), at); err != nil {
		return err
	}
	// A new token for this session too: the old one may be what leaked.
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.flash(c, "Password changed. Every other session was signed out.")
	return redirect(c, "/dashboard/account")
}

func (s *Server) signOutEverywhere(c echo.Context) error {
	ctx := c.Request().Context()
	m := memberFrom(c)
	if err := s.Org.SignOutEverywhere(ctx, actor(c), m.OrgID); err != nil {
		return err
	}
	if err := s.endSession(ctx); err != nil {
		return err
	}
	return redirect(c, "/login")
}
