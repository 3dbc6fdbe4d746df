package handlers

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/handlers/parse"
)

// Verification is the verify API's answer for a key of the root key's organization.
type Verification struct {
	Valid     bool       `json:"valid"`
	Code      string     `json:"code"`
	KeyID     string     `json:"keyId"`
	Name      string     `json:"name"`
	Scopes    []string   `json:"scopes"`
	ExpiresAt *string    `json:"expiresAt"`
	RateLimit *RateLimit `json:"ratelimit"`
}

// NotFound is the verify API's answer for any other key: it says nothing about it.
type NotFound struct {
	Valid bool    `json:"valid"`
	Code  string  `json:"code"`
	KeyID *string `json:"keyId"`
}

// RateLimit is the verified key's limiter after this verification; Reset in seconds.
type RateLimit struct {
	Limit     int `json:"limit"`
	Remaining int `json:"remaining"`
	Reset     int `json:"reset"`
}

// verifyKey answers POST /api/v1/keys/verify: 200 with the verdict on a key of the root
// key's organization, whatever it is; the root key's own problems were answered by
// requireKey.
func (s *Server) verifyKey(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	in, err := parse.Verify(body)
	if err != nil {
		return err
	}
	v, err := s.checkKey(c.Request().Context(), in.Key, keyFrom(c).OrgID, in.Scopes, s.Now())
	if err != nil {
		return err
	}
	if v.Code == CodeNotFound {
		return c.JSON(http.StatusOK, NotFound{Code: CodeNotFound})
	}
	out := Verification{
		Valid: v.Code == CodeValid, Code: v.Code, KeyID: v.Key.ID, Name: v.Key.Name,
		Scopes: strings.Fields(v.Key.Scopes),
	}
	if v.Key.ExpiresAt != 0 {
		t := apiTime(v.Key.ExpiresAt)
		out.ExpiresAt = &t
	}
	if d := v.Limit; d != nil {
		out.RateLimit = &RateLimit{Limit: d.Limit, Remaining: d.Remaining, Reset: ceilSeconds(d.Reset)}
	}
	return c.JSON(http.StatusOK, out)
}
