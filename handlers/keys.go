package handlers

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/handlers/parse"
	"keyport/keyauth"
	"keyport/provision"
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
	keys, more, err := listPage(c, s.Now(), path, 7,
		func(ctx context.Context, before, limit int64) ([]queries.ApiKey, error) {
			return s.Read.ListAPIKeys(ctx, queries.ListAPIKeysParams{
				OrgID: orgID, Before: before, IncludeRevoked: include, Limit: limit,
			})
		},
		func(k queries.ApiKey) int64 { return k.Seq }, keyRow)
	if err != nil {
		return KeysPage{}, err
	}
	has, err := s.Read.OrgHasAPIKeys(c.Request().Context(), orgID)
	if err != nil {
		return KeysPage{}, err
	}
	return KeysPage{Keys: keys, More: more, Empty: !has, ShowRevoked: showRevoked}, nil
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
	token, err := s.newFormToken(c.Request().Context(), memberFrom(c).UserID)
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

	name, err := parse.KeyName(form.Get("name"))
	expiresIn, expErr := parse.ExpiresIn(form.Get("expires_in_days"))
	scopes, scopeErr := parse.Scopes(append(form["scopes"], strings.Fields(custom)...), keyauth.AllScopes)
	if err = errors.Join(err, expErr, scopeErr); err != nil {
		f.Error = firstError(err)
		return s.render(c, http.StatusUnprocessableEntity, "key_new", "key-form", f)
	}

	var created provision.CreatedKey
	err = s.inTx(ctx, func(q *queries.Queries) error {
		if err := useFormToken(ctx, q, m.UserID, f.FormToken, s.Now()); err != nil {
			return err
		}
		created, err = provision.CreateKey(ctx, q, provision.NewKey{
			OrgID: m.OrgID, Name: name, Scopes: scopes, ExpiresIn: expiresIn,
			Actor: provision.Actor{UserID: m.UserID, Email: m.Email, IP: c.RealIP()}, Now: s.Now(),
		})
		return err
	})
	switch {
	case errors.Is(err, errFormResent):
		const msg = "This form was already sent: no second key was created."
		if isHTMX(c) {
			return echo.NewHTTPError(http.StatusConflict, msg)
		}
		s.flash(c, msg)
		return c.Redirect(http.StatusSeeOther, f.ListURL)
	case errors.Is(err, errFormExpired):
		if f.FormToken, err = s.newFormToken(ctx, m.UserID); err != nil {
			return err
		}
		f.Error = "This form had expired. Check the fields and press Create key again."
		return s.render(c, http.StatusUnprocessableEntity, "key_new", "key-form", f)
	case err != nil:
		return err
	}
	return s.showNewKey(c, created.Key, created.ID, nil)
}

// showNewKey renders the one response that ever contains the full key; replaces is the
// rolled key it replaces, if any.
func (s *Server) showNewKey(c echo.Context, key, id string, replaces *KeyRow) error {
	m := memberFrom(c)
	ctx := c.Request().Context()
	k, err := s.Write.GetAPIKey(ctx, queries.GetAPIKeyParams{OrgID: m.OrgID, ID: id})
	if err != nil {
		return err
	}
	list, err := s.listKeys(c, !hideRevoked(listFilter(c)))
	if err != nil {
		return err
	}
	list.OOB = true
	// The key must never be cached by a browser or proxy.
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusCreated, "key_created", "key-created", KeyCreated{
		Layout:   s.layout(c, "Your API Key", "keys"),
		Key:      key,
		Row:      keyRow(k, s.Now()),
		Replaces: replaces,
		List:     list,
	})
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
// POST .../revoke (answers with a redirect to the list).
func (s *Server) revokeKey(c echo.Context) error {
	m := memberFrom(c)
	ctx := c.Request().Context()
	row, err := s.ownKey(c)
	if err != nil {
		return err
	}
	if row.Active || row.Status == "expired" {
		err := s.inTx(ctx, func(q *queries.Queries) error {
			n, err := q.RevokeAPIKey(ctx, queries.RevokeAPIKeyParams{Now: sql.NullInt64{Int64: s.Now().UnixMilli(), Valid: true}, OrgID: m.OrgID, ID: row.ID})
			if err != nil || n == 0 {
				return err
			}
			return q.CreateAuditEvent(ctx, s.keyEvent(c, "key_revoked", row.ID, row.Name, ""))
		})
		// Whatever happened, forget cached verifications before answering: the next
		// request with this key must see the database.
		s.Keys.Invalidate()
		if err != nil {
			return err
		}
	}
	msg := "API key “" + row.Name + "” revoked"
	if isHTMX(c) {
		row, err := s.ownKey(c)
		if err != nil {
			return err
		}
		setTrigger(c, true, msg, "success")
		return s.render(c, http.StatusOK, "keys", "key-row", row)
	}
	s.flash(c, msg)
	return c.Redirect(http.StatusSeeOther, dashboardPath)
}

// ownKey loads the :id key of the signed-in organization as a table row.
func (s *Server) ownKey(c echo.Context) (KeyRow, error) {
	k, err := s.ownKeyRecord(c)
	if err != nil {
		return KeyRow{}, err
	}
	return keyRow(k, s.Now()), nil
}

// ownKeyRecord loads the :id key of the signed-in organization; another organization's
// key is reported as not found, never as forbidden.
func (s *Server) ownKeyRecord(c echo.Context) (queries.ApiKey, error) {
	m := memberFrom(c)
	k, err := s.Write.GetAPIKey(c.Request().Context(), queries.GetAPIKeyParams{OrgID: m.OrgID, ID: c.Param("id")})
	if errors.Is(err, sql.ErrNoRows) {
		return queries.ApiKey{}, ErrNotFound
	}
	return k, err
}

func (s *Server) keyEvent(c echo.Context, action, keyID, keyName, detail string) queries.CreateAuditEventParams {
	m := memberFrom(c)
	return queries.CreateAuditEventParams{
		OrgID: nullStr(m.OrgID), ActorID: nullStr(m.UserID), ActorEmail: m.Email, Action: action,
		KeyID: nullStr(keyID), KeyName: keyName, Detail: detail, IP: c.RealIP(), CreatedAt: s.Now().UnixMilli(),
	}
}

func firstError(err error) string {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()[0].Error()
	}
	return err.Error()
}
