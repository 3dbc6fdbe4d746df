package handlers

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

const (
	sessionUserID = "user_id"
	sessionFlash  = "flash"
	memberKey     = "member"
)

// loadMember puts the signed-in member, if any, on the context.
func (s *Server) loadMember(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if id := s.Sessions.GetString(ctx, sessionUserID); id != "" {
			m, err := s.Read.GetMember(ctx, id)
			if err == nil {
				c.Set(memberKey, &Member{UserID: m.ID, Email: m.Email, OrgID: m.OrgID, OrgName: m.OrgName})
			} else if !errors.Is(err, errNoRows) {
				return err
			}
		}
		return next(c)
	}
}

// requireMember sends signed-out visitors to /login.
func requireMember(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if memberFrom(c) == nil {
			if isHTMX(c) {
				c.Response().Header().Set("HX-Redirect", "/login")
				return c.NoContent(http.StatusUnauthorized)
			}
			return c.Redirect(http.StatusSeeOther, "/login")
		}
		return next(c)
	}
}

func memberFrom(c echo.Context) *Member {
	m, _ := c.Get(memberKey).(*Member)
	return m
}

// flash stores a one-time message for the next full page (the no-JavaScript path); htmx
// requests get a toast through setTrigger instead.
func (s *Server) flash(c echo.Context, msg string) {
	s.Sessions.Put(c.Request().Context(), sessionFlash, msg)
}

func (s *Server) layout(c echo.Context, title, nav string) Layout {
	l := Layout{Title: title, Member: memberFrom(c), Nav: nav, Now: s.Now()}
	// htmx fragments have no place for the flash; leave it for the next full page.
	if !isHTMX(c) {
		l.Flash = s.Sessions.PopString(c.Request().Context(), sessionFlash)
	}
	return l
}

// setTrigger asks htmx (through HX-Trigger) to show a toast and, if closeModal, to close
// the dialog.
func setTrigger(c echo.Context, closeModal bool, msg, kind string) {
	ev := map[string]any{"showToast": map[string]string{"message": msg, "kind": kind}}
	if closeModal {
		ev["closeModal"] = true
	}
	b, _ := json.Marshal(ev) // a map of strings always marshals
	c.Response().Header().Set("HX-Trigger", string(b))
}
