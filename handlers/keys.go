package handlers

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/input"
	"keyport/keyauth"
	"keyport/org"
	"keyport/queries"
	"keyport/team"
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
	m := memberFrom(c)
	include, path := int64(0), dashboardPath+"?status=active"
	if showRevoked {
		include, path = 1, dashboardPath
	}
	var seqs [2]int64 // the page's lowest and highest, for its usage
	keys, more, err := listPage(c, s.Now(), path, 7,
		func(ctx context.Context, before, limit int64) ([]queries.ListAPIKeysRow, error) {
			rows, err := s.Read.ListAPIKeys(ctx, queries.ListAPIKeysParams{
				OrgID: m.OrgID, Before: before, IncludeRevoked: include, Limit: limit,
			})
			if len(rows) > 0 {
				seqs = [2]int64{rows[len(rows)-1].ApiKey.Seq, rows[0].ApiKey.Seq}
			}
			return rows, err
		},
		func(r queries.ListAPIKeysRow) int64 { return r.ApiKey.Seq },
		func(r queries.ListAPIKeysRow, now time.Time) KeyRow {
			row := m.keyRow(r.ApiKey, now)
			row.CreatedBy, row.CreatorLeft = r.CreatorEmail, r.CreatorLeft == 1
			return row
		})
	if err != nil {
		return KeysPage{}, err
	}
	if err := s.withSparks(c.Request().Context(), m.OrgID, keys, seqs[0], seqs[1]); err != nil {
		return KeysPage{}, err
	}
	// An organization with keys on this page has keys: only an empty page asks.
	empty := len(keys) == 0
	if empty {
		has, err := s.Read.OrgHasAPIKeys(c.Request().Context(), m.OrgID)
		if err != nil {
			return KeysPage{}, err
		}
		empty = !has
	}
	return KeysPage{Keys: keys, More: more, Empty: empty, ShowRevoked: showRevoked, CanCreate: m.Can(team.CreateKey)}, nil
}

// keyRow is k's row as m sees it: without the actions m's role does not allow.
func (m *Member) keyRow(k queries.ApiKey, now time.Time) KeyRow {
	r := keyRow(k, now)
	if !m.Role.CanManageKey(k.CreatedBy.String == m.UserID) {
		r.CanRoll, r.CanRevoke = false, false
	}
	return r
}

// creator is the email of k's creator and whether they have left the organization, as
// the keys table shows them.
func (s *Server) creator(c echo.Context, k queries.ApiKey) (string, bool, error) {
	if !k.CreatedBy.Valid {
		return "", false, nil
	}
	ctx := c.Request().Context()
	u, err := s.Read.GetUser(ctx, k.CreatedBy.String)
	if err != nil {
		return "", false, err
	}
	_, err = s.Read.GetMembership(ctx, queries.GetMembershipParams{OrgID: k.OrgID, UserID: u.ID})
	if errors.Is(err, sql.ErrNoRows) {
		return u.Email, true, nil
	}
	return u.Email, false, err
}

// hideRootScopes leaves the root scopes out of the form for a role that may not create
// root keys.
func (f *KeyForm) hideRootScopes(m *Member) {
	if !m.Can(team.CreateRootKey) {
		f.RootScopes = nil
	}
}

// orgKey loads the :id key of the signed-in organization; another organization's key is
// reported as not found, never as forbidden.
func (s *Server) orgKey(c echo.Context) (queries.ApiKey, error) {
	k, err := s.Write.GetAPIKey(c.Request().Context(), queries.GetAPIKeyParams{OrgID: memberFrom(c).OrgID, ID: c.Param("id")})
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	return k, err
}

// keyForAction loads the :id key for a roll or revoke, refused unless the member's role
// allows it on this key.
func (s *Server) keyForAction(c echo.Context) (queries.ApiKey, error) {
	k, err := s.orgKey(c)
	if err != nil {
		return k, err
	}
	return k, mayManage(memberFrom(c))(k)
}

// mayManage is m's role rule for rolling or revoking a key; the writes apply it to the
// key they read.
func mayManage(m *Member) func(queries.ApiKey) error {
	return func(k queries.ApiKey) error { return m.Role.CheckKey(k.CreatedBy.String == m.UserID) }
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
	if err := memberFrom(c).Role.Check(team.CreateKey); err != nil {
		return err
	}
	f := keyForm("", "0", keyauth.DefaultScopes, "")
	f.hideRootScopes(memberFrom(c))
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
	if err := m.Role.Check(team.CreateKey); err != nil {
		return err
	}
	ctx := c.Request().Context()
	form, err := c.FormParams()
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The form could not be read.")
	}
	custom := form.Get("custom_scopes")
	f := keyForm(form.Get("name"), form.Get("expires_in_days"), form["scopes"], custom)
	f.hideRootScopes(m)
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
	if keyauth.IsRoot(scopes) {
		err = m.Role.Check(team.CreateRootKey)
	}
	if err != nil {
		return err
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
	// htmx also swaps in the list behind the dialog; the full page has no list, nor has
	// the rolled key's own page.
	if isHTMX(c) && replaces != nil && onKeyPage(c, replaces.ID) {
		page.KeyPage = dashboardPath + "/keys/" + created.Row.ID
	} else if isHTMX(c) {
		list, err := s.listKeys(c, showRevoked)
		if err != nil {
			return err
		}
		list.OOB = true
		page.List = list
	}
	// The key must never be cached by a browser or proxy.
	c.Response().Header()[hdrCacheControl] = noStoreValue
	return s.render(c, http.StatusCreated, "key_created", "key-created", page)
}

func (s *Server) revokeConfirm(c echo.Context) error {
	row, err := s.actionKey(c)
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
	m := memberFrom(c)
	revoked, err := s.Org.RevokeKey(c.Request().Context(), org.Revoke{
		OrgID: m.OrgID, ID: c.Param("id"), Actor: actor(c), Check: mayManage(m),
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
		if row.CreatedBy, row.CreatorLeft, err = s.creator(c, revoked.Row); err != nil {
			return err
		}
		return s.render(c, http.StatusOK, "keys", "key-row", row)
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, dashboardPath)
}

// ownKey loads the :id key of the signed-in organization as a table row, with only the
// actions the member's role allows on it.
func (s *Server) ownKey(c echo.Context) (KeyRow, error) {
	k, err := s.orgKey(c)
	if err != nil {
		return KeyRow{}, err
	}
	return memberFrom(c).keyRow(k, s.Now()), nil
}

// actionKey is ownKey for a roll or revoke dialog: refused unless the role allows it.
func (s *Server) actionKey(c echo.Context) (KeyRow, error) {
	k, err := s.keyForAction(c)
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
