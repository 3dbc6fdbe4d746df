package handlers

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport/input"
	"keyport/org"
)

var errNotRollable = echo.NewHTTPError(http.StatusConflict, "This key can no longer be rolled: it is revoked, expired or already rolled.")

func (s *Server) rollConfirm(c echo.Context) error {
	row, err := s.actionKey(c)
	if err != nil {
		return err
	}
	if !row.CanRoll {
		return errNotRollable
	}
	return s.renderRollForm(c, http.StatusOK, row, input.DefaultGrace, "")
}

func (s *Server) renderRollForm(c echo.Context, status int, row KeyRow, grace, msg string) error {
	return s.render(c, status, "key_roll", "key-roll", KeyConfirm{
		Layout: s.layout(c, "Roll API key", "keys"), Row: row, Error: msg, GraceChoices: graceChoices(grace),
	})
}

// rollKey replaces a key: a new key with the same name, scopes and expiry period, while
// the old one keeps working for the chosen grace period and then expires.
func (s *Server) rollKey(c echo.Context) error {
	graceField := c.FormValue("grace")
	grace, err := input.Grace(graceField)
	if err != nil {
		row, rerr := s.actionKey(c)
		if rerr != nil {
			return rerr
		}
		if !row.CanRoll {
			return errNotRollable
		}
		return s.renderRollForm(c, http.StatusUnprocessableEntity, row, input.DefaultGrace, err.Error())
	}
	m := memberFrom(c)
	rolled, err := s.Org.RollKey(c.Request().Context(), org.Roll{
		OrgID: m.OrgID, ID: c.Param("id"), Grace: grace, GraceLabel: graceLabel(graceField), Actor: actor(c), Check: mayManage(m),
	})
	switch {
	case errors.Is(err, org.ErrKeyNotFound):
		return ErrNotFound
	case errors.Is(err, org.ErrNotRollable):
		return errNotRollable
	case err != nil:
		return err
	}
	replaced := keyRow(rolled.Old, s.Now())
	return s.showNewKey(c, rolled.New, &replaced)
}
