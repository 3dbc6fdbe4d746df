package handlers

import (
	"database/sql"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/apikey"
	"keyport/handlers/parse"
	"keyport/keyauth"
	"keyport/org"
	"keyport/queries"
)

// APIKey is the key management API's key: never the key itself.
type APIKey struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Hint       string   `json:"hint"`
	Scopes     []string `json:"scopes"`
	Status     string   `json:"status"` // active, expiring, expired or revoked
	CreatedAt  string   `json:"createdAt"`
	CreatedBy  *string  `json:"createdBy"` // the user who created it; null when a root key or the CLI did
	ExpiresAt  *string  `json:"expiresAt"`
	LastUsedAt *string  `json:"lastUsedAt"`
	RevokedAt  *string  `json:"revokedAt"`
}

// NewAPIKey is a created key with the full key, in the one response that ever holds it.
type NewAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// RolledAPIKey is a roll's new key and the key it replaces, which works until its
// expiresAt.
type RolledAPIKey struct {
	NewAPIKey
	PreviousKey APIKey `json:"previousKey"`
}

func (s *Server) apiKey(k queries.ApiKey) APIKey {
	status := org.KeyState(k, s.Now())
	if status == apikey.Rolled {
		// Rolled keys work until their grace period ends: to a client, they are expiring.
		status = apikey.Expiring
	}
	return APIKey{
		ID: k.ID, Name: k.Name, Hint: k.Hint, Scopes: strings.Fields(k.Scopes), Status: status.String(),
		CreatedAt:  apiTime(k.CreatedAt),
		CreatedBy:  nullable(k.CreatedBy.String, k.CreatedBy.Valid),
		ExpiresAt:  apiTimeOrNull(k.ExpiresAt.Int64, k.ExpiresAt.Valid),
		LastUsedAt: apiTimeOrNull(k.LastUsedAt.Int64, k.LastUsedAt.Valid),
		RevokedAt:  apiTimeOrNull(k.RevokedAt.Int64, k.RevokedAt.Valid),
	}
}

func nullable(s string, valid bool) *string {
	if !valid {
		return nil
	}
	return &s
}

func apiTimeOrNull(ms int64, valid bool) *string {
	if !valid {
		return nil
	}
	t := apiTime(ms)
	return &t
}

// rootActor is the root key making a change, as the audit log records it.
func rootActor(c echo.Context, k keyauth.Key) org.Actor {
	return org.Actor{Email: "Root key “" + k.Name + "” (" + k.Hint + ")", IP: c.RealIP()}
}

func (s *Server) listAPIKeys(c echo.Context, root keyauth.Key) error {
	status, err := parse.KeyStatus(c.QueryParam("status"))
	if err != nil {
		return err
	}
	now := sql.NullInt64{Int64: s.Now().UnixMilli(), Valid: true}
	page, err := apiPage(c, func(before, limit int64) ([]queries.ApiKey, error) {
		return s.Read.ListAPIKeysByStatus(c.Request().Context(), queries.ListAPIKeysByStatusParams{
			OrgID: root.OrgID, Before: before, Status: status, Now: now, Limit: limit,
		})
	}, func(k queries.ApiKey) int64 { return k.Seq }, s.apiKey)
	if err != nil {
		return err
	}
	return replyJSON(c, http.StatusOK, page)
}

func (s *Server) getAPIKey(c echo.Context, root keyauth.Key) error {
	k, err := s.Read.GetAPIKey(c.Request().Context(), queries.GetAPIKeyParams{OrgID: root.OrgID, ID: c.Param("id")})
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return replyJSON(c, http.StatusOK, s.apiKey(k))
}

// createAPIKey makes a key. A root key may grant keys:* scopes it holds itself, never
// more: keys:write alone must not mint a key that can also read or verify.
func (s *Server) createAPIKey(c echo.Context, root keyauth.Key) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	in, err := parse.APIKey(body, keyauth.AllScopes)
	if err != nil {
		return err
	}
	for scope := range strings.FieldsSeq(in.Scopes) {
		if slices.Contains(keyauth.RootScopes, scope) && !root.HasScope(scope) {
			return errCannotGrantScope(scope)
		}
	}
	created, err := s.Org.CreateKey(c.Request().Context(), org.NewKey{
		OrgID: root.OrgID, Name: in.Name, Scopes: in.Scopes, ExpiresIn: in.ExpiresIn, Actor: rootActor(c, root),
	})
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h[hdrCacheControl] = noStoreValue
	h[hdrLocation] = []string{"/api/v1/keys/" + created.Row.ID}
	return replyJSON(c, http.StatusCreated, NewAPIKey{APIKey: s.apiKey(created.Row), Key: created.Key})
}

func (s *Server) revokeAPIKey(c echo.Context, root keyauth.Key) error {
	revoked, err := s.Org.RevokeKey(c.Request().Context(), org.Revoke{
		OrgID: root.OrgID, ID: c.Param("id"), Actor: rootActor(c, root),
	})
	if errors.Is(err, org.ErrKeyNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return replyJSON(c, http.StatusOK, s.apiKey(revoked.Row))
}

func (s *Server) rollAPIKey(c echo.Context, root keyauth.Key) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	choice, grace, err := parse.RollBody(body)
	if err != nil {
		return err
	}
	rolled, err := s.Org.RollKey(c.Request().Context(), org.Roll{
		OrgID: root.OrgID, ID: c.Param("id"), Grace: grace, GraceLabel: graceLabel(choice), Actor: rootActor(c, root),
	})
	switch {
	case errors.Is(err, org.ErrKeyNotFound):
		return ErrNotFound
	case errors.Is(err, org.ErrNotRollable):
		return errAPIKeyNotRollable
	case err != nil:
		return err
	}
	h := c.Response().Header()
	h[hdrCacheControl] = noStoreValue
	h[hdrLocation] = []string{"/api/v1/keys/" + rolled.New.Row.ID}
	return replyJSON(c, http.StatusCreated, RolledAPIKey{
		NewAPIKey:   NewAPIKey{APIKey: s.apiKey(rolled.New.Row), Key: rolled.New.Key},
		PreviousKey: s.apiKey(rolled.Old),
	})
}

// keyPath guards /api/v1/keys/:id routes before the key check, as productPath does:
// an id with a slash is a route that does not exist.
func keyPath(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if strings.Contains(c.Param("id"), "/") {
			return echo.ErrNotFound
		}
		return next(c)
	}
}
