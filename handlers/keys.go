package handlers

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/input"
	"keyport/keyauth"
	"keyport/org"
	"keyport/queries"
)

func (s *Server) keysPage(c echo.Context) error {
	page, err := s.listKeys(c, !hideRevoked(c.QueryParam("status")))
	if err != nil {
		return err
	}
	page.Layout = s.layout(c, "API Keys", "keys")
	if c.QueryParam("cursor") != "" {
		return s.render(c, http.StatusOK, "keys", "key-rows-more", page)
	}
	return s.render(c, http.StatusOK, "keys", "keys-section", page)
}

// listKeys is the page of the organization's keys below the request's ?cursor=.
func (s *Server) listKeys(c echo.Context, showRevoked bool) (KeysPage, error) {
	orgID := memberFrom(c).OrgID
	include, path := int64(0), dashboardPath+"?status=active"
	if showRevoked {
		include, path = 1, dashboardPath
	}
	var seqs [2]int64 // the page's lowest and highest, for its usage
	keys, more, err := listPage(c, s.Now(), path, 7,
		func(ctx context.Context, before, limit int64) ([]queries.ApiKey, error) {
			rows, err := s.Read.ListAPIKeys(ctx, queries.ListAPIKeysParams{
				OrgID: orgID, Before: before, IncludeRevoked: include, Limit: limit,
			})
			if len(rows) > 0 {
				seqs = [2]int64{rows[len(rows)-1].Seq, rows[0].Seq}
			}
			return rows, err
		},
		func(k queries.ApiKey) int64 { return k.Seq }, keyRow)
	if err != nil {
		return KeysPage{}, err
	}
	if err := s.withSparks(c.Request().Context(), orgID, keys, seqs[0], seqs[1]); err != nil {
		return KeysPage{}, err
	}
	// An organization with keys on this page has keys: only an empty page asks.
	empty := len(keys) == 0
	if empty {
		has, err := s.Read.OrgHasAPIKeys(c.Request().Context(), orgID)
		if err != nil {
			return KeysPage{}, err
		}
		empty = !has
	}
	return KeysPage{Keys: keys, More: more, Empty: empty, ShowRevoked: showRevoked}, nil
}

// hideRevoked tells from a status filter value whether revoked keys are left out.
func hideRevoked(status string) bool { return status == "active" }

// listFilter is the key list's filter the request came from: the form's status field
// (the no-JavaScript pages carry it), else the page htmx was on.
func listFilter(c echo.Context) string {
	if v := c.FormValue("status"); v != "" || !isHTMX(c) {
		return v
	}
	u, err := url.Parse(c.Request().Header.Get("HX-Current-URL"))
	if err != nil {
		return ""
	}
	return u.Query().Get("status")
}

func (s *Server) newKeyForm(c echo.Context) error {
	f := keyForm("", "0", keyauth.DefaultScopes, "")
	f.keepFilter(listFilter(c))
	token, err := s.Org.NewFormToken(c.Request().Context(), memberFrom(c).UserID)
	if err != nil {
		return err
	}
	f.FormToken = token
	f.Layout = s.layout(c, "Create new key", "keys")
	return s.render(c, http.StatusOK, "key_new", "key-form", f)
}

func (s *Server) createKey(c echo.Context) error {
	m := memberFrom(c)
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	custom := form.Get("custom_scopes")
	f := keyForm(form.Get("name"), form.Get("expires_in_days"), form["scopes"], custom)
	f.keepFilter(listFilter(c))
	f.FormToken = form.Get("form_token")
	f.Layout = s.layout(c, "Create new key", "keys")

	name, err := input.KeyName(form.Get("name"))
	expiresIn, expErr := input.ExpiresIn(form.Get("expires_in_days"))
	scopes, scopeErr := input.Scopes(append(form["scopes"], strings.Fields(custom)...), keyauth.AllScopes)
	if err = errors.Join(err, expErr, scopeErr); err != nil {
		f.Error = firstError(err)
		return s.render(c, http.StatusUnprocessableEntity, "key_new", "key-form", f)
	}

	created, err := s.Org.CreateKey(ctx, org.NewKey{
		OrgID: m.OrgID, Name: name, Scopes: scopes, ExpiresIn: expiresIn, Actor: actor(c), FormToken: f.FormToken,
	})
	switch {
	case errors.Is(err, org.ErrFormResent):
		const msg = "This form was already sent: no second key was created."
		if isHTMX(c) {
			return echo.NewHTTPError(http.StatusConflict, msg)
		}
		s.flash(c, msg)
		return c.Redirect(http.StatusSeeOther, f.ListURL)
	case errors.Is(err, org.ErrFormExpired):
		if f.FormToken, err = s.Org.NewFormToken(ctx, m.UserID); err != nil {
			return err
		}
		f.Error = "This form had expired. Check the fields and press Create key again."
		return s.render(c, http.StatusUnprocessableEntity, "key_new", "key-form", f)
	case err != nil:
		return err
	}
	return s.showNewKey(c, created, nil)
}

// showNewKey renders the one response that ever contains the full key; replaces is the
// rolled key it replaces, if any.
func (s *Server) showNewKey(c echo.Context, created org.CreatedKey, replaces *KeyRow) error {
	showRevoked := !hideRevoked(listFilter(c))
	page := KeyCreated{
		Layout:   s.layout(c, "Your API Key", "keys"),
		Key:      created.Key,
		Row:      keyRow(created.Row, s.Now()),
		Replaces: replaces,
		List:     KeysPage{ShowRevoked: showRevoked}, // where Done leads
	}
	// htmx also swaps in the list behind the dialog; the full page has no list.
	if isHTMX(c) {
		list, err := s.listKeys(c, showRevoked)
		if err != nil {
			return err
		}
		list.OOB = true
		page.List = list
	}
	// The key must never be cached by a browser or proxy.
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusCreated, "key_created", "key-created", page)
}

func (s *Server) revokeConfirm(c echo.Context) error {
	row, err := s.ownKey(c)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "key_revoke", "key-revoke", KeyConfirm{
		Layout: s.layout(c, "Revoke API key", "keys"), Row: row,
	})
}

// revokeKey serves both DELETE (htmx: answers with the updated row) and the plain form's
// POST .../revoke (answers with a redirect to the list). Revoking a revoked key changes
// nothing and answers the same.
func (s *Server) revokeKey(c echo.Context) error {
	revoked, err := s.Org.RevokeKey(c.Request().Context(), org.Revoke{
		OrgID: memberFrom(c).OrgID, ID: c.Param("id"), Actor: actor(c),
	})
	if errors.Is(err, org.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	msg := "API key “" + revoked.Row.Name + "” revoked"
	if isHTMX(c) && onKeyPage(c, revoked.Row.ID) {
		// The key's own page has no row to swap: it reloads, showing the flash.
		s.flash(c, msg)
		c.Response().Header().Set("HX-Refresh", "true")
		return c.NoContent(http.StatusOK)
	}
	if isHTMX(c) {
		row := keyRow(revoked.Row, s.Now())
		if err := s.withSpark(c.Request().Context(), &row); err != nil {
			return err
		}
		setTrigger(c, true, msg, "success")
		return s.render(c, http.StatusOK, "keys", "key-row", row)
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, dashboardPath)
}

// ownKey loads the :id key of the signed-in organization as a table row; another
// organization's key is reported as not found, never as forbidden.
func (s *Server) ownKey(c echo.Context) (KeyRow, error) {
	m := memberFrom(c)
	k, err := s.Write.GetAPIKey(c.Request().Context(), queries.GetAPIKeyParams{OrgID: m.OrgID, ID: c.Param("id")})
	if errors.Is(err, sql.ErrNoRows) {
		return KeyRow{}, ErrNotFound
	}
	if err != nil {
		return KeyRow{}, err
	}
	return keyRow(k, s.Now()), nil
}

// actor is the signed-in member making a change, as the audit log records them.
func actor(c echo.Context) org.Actor {
	m := memberFrom(c)
	return org.Actor{UserID: m.UserID, Email: m.Email, IP: c.RealIP()}
}

func firstError(err error) string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()[0].Error()
	}
	return err.Error()
}
