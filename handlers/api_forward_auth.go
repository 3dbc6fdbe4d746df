package handlers

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/handlers/parse"
	"keyport/keyauth"
)

// Forward auth's headers.
const (
	headerRootKey = "X-Keyport-Root-Key"
	// headerError repeats a refusal's JSON body, for proxies that drop the body of the
	// auth answer (nginx's auth_request) yet can copy its headers.
	headerError = "X-Keyport-Error"
)

// forwardAuth answers GET /api/v1/forward-auth for a reverse proxy: the proxy's root key
// in X-Keyport-Root-Key, the client's own headers with the client's key. 204 with the
// key's identity for the proxy to pass upstream, or exactly the products API's refusal.
//
// The root key is not rate limited here: every request to the proxy comes with it, so
// its limit would be the whole site's. Each call counts against the client's key.
func (s *Server) forwardAuth(c echo.Context) error {
	err := s.forwardAuthCheck(c)
	if err != nil {
		c.Response().Header()[headerError] = []string{asciiJSON(toAPIError(err).appendJSON(nil))}
	}
	return err
}

func (s *Server) forwardAuthCheck(c echo.Context) error {
	ctx := c.Request().Context()
	now := s.Now()
	root, err := s.Keys.Verify(ctx, strings.TrimSpace(c.Request().Header.Get(headerRootKey)), now)
	switch {
	case errors.Is(err, keyauth.ErrMissing):
		return errRootKeyRequired
	case errors.Is(err, keyauth.ErrInvalid), errors.Is(err, keyauth.ErrRevoked), errors.Is(err, keyauth.ErrExpired):
		return errInvalidRootKey
	case err != nil:
		return err
	case !root.HasScope(keyauth.ScopeKeysVerify):
		return errRootKeyNoVerify
	}
	s.Usage.NoteVia(root.State.LastUseSlot(), root.ID, now)
	scopes, err := parse.ScopeQuery(c.QueryParam("scopes"))
	if err != nil {
		return err
	}
	v, err := s.checkKey(ctx, keyFromRequest(c.Request()), root.OrgID, scopes, now)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	if err := v.apiError(h); err != nil {
		return err
	}
	// One allocation for the four values; full slices, so an Add to one cannot overwrite the next.
	vals := []string{v.Key.ID, headerText(v.Key.Name), v.Key.OrgID, v.Key.Scopes}
	h[hdrKeyID] = vals[0:1:1]
	h[hdrKeyName] = vals[1:2:2]
	h[hdrKeyOrgID] = vals[2:3:3]
	h[hdrKeyScopes] = vals[3:4:4]
	return c.NoContent(http.StatusNoContent)
}

// headerText makes a key name safe for a header, which carries ASCII only: UTF-8 bytes
// outside printable ASCII, and %, are percent-encoded ("Caf%C3%A9"), so plain names read
// as they are and any name decodes back exactly.
func headerText(s string) string {
	i := 0
	for i < len(s) && !escapedInHeader(s[i]) {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		if c := s[i]; escapedInHeader(c) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

func escapedInHeader(c byte) bool { return c < 0x20 || c >= 0x7f || c == '%' }
