package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"keyport/queries"
	"keyport/team"
)

const (
	// sessionID names the session's row in user_sessions; the session is signed in while
	// that row exists.
	sessionID    = "session_id"
	sessionFlash = "flash"
	sessionOrgID = "org_id" // the current organization
	memberKey    = "member"
)

// loadMember puts the signed-in member, if any, on the context.
func (s *Server) loadMember(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		sid := s.Sessions.GetString(ctx, sessionID)
		if sid == "" {
			return next(c)
		}
		// The session row and the role are read from the database on every request (in
		// one query), never kept in the session, so a sign-out elsewhere, a removal or a
		// role change applies to every session at once.
		current := s.Sessions.GetString(ctx, sessionOrgID)
		m, err := s.Read.GetSignedInMember(ctx, queries.GetSignedInMemberParams{ID: sid, OrgID: current})
		if errors.Is(err, errNoRows) {
			return next(c) // the session was ended
		}
		if err != nil {
			return err
		}
		// OrgID is "" when they are in no organization (they left or were removed from all).
		member := &Member{UserID: m.UserID, Email: m.Email, OrgID: m.OrgID.String, OrgName: m.OrgName.String, Role: team.Role(m.Role.String)}
		c.Set(memberKey, member)
		if member.OrgID == "" {
			return next(c)
		}
		if member.OrgID != current {
			s.Sessions.Put(ctx, sessionOrgID, member.OrgID)
		}
		// The header's organization switcher; htmx fragments have no header.
		if !isHTMX(c) && c.Request().Method == http.MethodGet {
			if member.Orgs, err = s.userOrgs(c); err != nil {
				return err
			}
		}
		return next(c)
	}
}

// requireOrg sends a member who is in no organization to the organizations page, where
// they can create one.
func requireOrg(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if memberFrom(c).OrgID == "" {
			return redirect(c, orgsPath)
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
	c.Response().Header().Set("HX-Trigger", asciiJSON(b))
}

// asciiJSON escapes every non-ASCII character of the JSON b as \uXXXX. Header values
// are bytes that browsers read as Latin-1, so raw UTF-8 in one turns "Café" into
// "CafÃ©"; JSON.parse turns the escapes back into the characters.
func asciiJSON(b []byte) string {
	var sb strings.Builder
	for _, r := range string(b) {
		switch {
		case r < utf8.RuneSelf:
			sb.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&sb, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&sb, "\\u%04x", r)
		}
	}
	return sb.String()
}

// startSession signs userID in on a new token (so a token planted before sign-in is
// worthless) and a new session row.
func (s *Server) startSession(ctx context.Context, userID string) error {
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	id, err := s.Org.StartSession(ctx, userID)
	if err != nil {
		return err
	}
	s.Sessions.Put(ctx, sessionID, id)
	return nil
}

// endSession signs this session out: its row goes, which no request still in flight can
// undo, and the browser gets a new, signed-out token.
func (s *Server) endSession(ctx context.Context) error {
	if id := s.Sessions.GetString(ctx, sessionID); id != "" {
		if err := s.Org.EndSession(ctx, id); err != nil {
			return err
		}
	}
	if err := s.Sessions.RenewToken(ctx); err != nil {
		return err
	}
	s.Sessions.Remove(ctx, sessionID)
	s.Sessions.Remove(ctx, sessionOrgID)
	return nil
}
