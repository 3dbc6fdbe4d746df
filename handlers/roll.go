package handlers

import (
	"database/sql"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/handlers/parse"
	"keyport/provision"
	"keyport/queries"
)

// defaultGrace is preselected in the roll dialog: long enough to deploy the new key
// everywhere without an outage.
const defaultGrace = "24h"

var errNotRollable = echo.NewHTTPError(http.StatusConflict, "This key can no longer be rolled: it is revoked, expired or already rolled.")

func (s *Server) rollConfirm(c echo.Context) error {
	row, err := s.ownKey(c)
	if err != nil {
		return err
	}
	if !row.Rollable {
		return errNotRollable
	}
	return s.renderRollForm(c, http.StatusOK, row, defaultGrace, "")
}

func (s *Server) renderRollForm(c echo.Context, status int, row KeyRow, grace, msg string) error {
	return s.render(c, status, "key_roll", "key-roll", KeyConfirm{
		Layout: s.layout(c, "Roll API key", "keys"), Row: row, Error: msg, GraceChoices: graceChoices(grace),
	})
}

// rollKey replaces a key: a new key with the same name, scopes and expiry period, while
// the old one keeps working for the chosen grace period and then expires.
func (s *Server) rollKey(c echo.Context) error {
	m := memberFrom(c)
	ctx := c.Request().Context()
	old, err := s.ownKeyRecord(c)
	if err != nil {
		return err
	}
	now := s.Now()
	if !keyRow(old, now).Rollable {
		return errNotRollable
	}
	graceField := c.FormValue("grace")
	grace, err := parse.Grace(graceField)
	if err != nil {
		return s.renderRollForm(c, http.StatusUnprocessableEntity, keyRow(old, now), defaultGrace, err.Error())
	}

	// The new key gets the same expiry period the old one was given, counted from now.
	var period time.Duration
	if old.ExpiresAt.Valid {
		period = time.Duration(old.ExpiresAt.Int64-old.CreatedAt) * time.Millisecond
	}
	key, params, err := provision.Generate(provision.NewKey{
		OrgID: m.OrgID, Name: old.Name, Scopes: old.Scopes, ExpiresIn: period,
		Actor: provision.Actor{UserID: m.UserID}, Now: now,
	})
	if err != nil {
		return err
	}
	detail := "New key " + params.Hint + "; grace period: " + graceLabel(graceField)
	err = s.inTx(ctx, func(q *queries.Queries) error {
		if err := q.CreateAPIKey(ctx, params); err != nil {
			return err
		}
		n, err := q.SetAPIKeyRolled(ctx, queries.SetAPIKeyRolledParams{
			RolledTo: nullStr(params.ID), GraceEnd: sql.NullInt64{Int64: now.Add(grace).UnixMilli(), Valid: true},
			OrgID: m.OrgID, ID: old.ID,
		})
		if err != nil {
			return err
		}
		if n == 0 { // revoked or rolled since it was read
			return errNotRollable
		}
		return q.CreateAuditEvent(ctx, s.keyEvent(c, "key_rolled", old.ID, old.Name, detail))
	})
	// The old key's expiry changed: no cached verification may outlive that.
	s.Keys.Invalidate()
	if err != nil {
		return err
	}
	replaced, err := s.ownKey(c)
	if err != nil {
		return err
	}
	return s.showNewKey(c, key, params.ID, &replaced)
}
