package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/handlers/parse"
	"keyport/keyauth"
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

// appendJSON appends v as encoding/json writes it.
func (v Verification) appendJSON(b []byte) []byte {
	b = append(b, `{"valid":`...)
	b = strconv.AppendBool(b, v.Valid)
	b = append(b, `,"code":`...)
	b = appendJSONString(b, v.Code)
	b = append(b, `,"keyId":`...)
	b = appendJSONString(b, v.KeyID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, v.Name)
	b = append(b, `,"scopes":`...)
	b = appendJSONStrings(b, v.Scopes)
	b = append(b, `,"expiresAt":`...)
	b = appendJSONNullString(b, v.ExpiresAt)
	b = append(b, `,"ratelimit":`...)
	if r := v.RateLimit; r == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"limit":`...)
		b = strconv.AppendInt(b, int64(r.Limit), 10)
		b = append(b, `,"remaining":`...)
		b = strconv.AppendInt(b, int64(r.Remaining), 10)
		b = append(b, `,"reset":`...)
		b = strconv.AppendInt(b, int64(r.Reset), 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendJSON appends n as encoding/json writes it.
func (n NotFound) appendJSON(b []byte) []byte {
	b = append(b, `{"valid":`...)
	b = strconv.AppendBool(b, n.Valid)
	b = append(b, `,"code":`...)
	b = appendJSONString(b, n.Code)
	b = append(b, `,"keyId":`...)
	b = appendJSONNullString(b, n.KeyID)
	return append(b, '}')
}

// verifyKey answers POST /api/v1/keys/verify: 200 with the verdict on a key of the root
// key's organization, whatever it is; the root key's own problems were answered by
// requireKey.
func (s *Server) verifyKey(c echo.Context, root keyauth.Key) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	in, err := parse.Verify(body)
	if err != nil {
		return err
	}
	v, err := s.checkKey(c.Request().Context(), in.Key, root.OrgID, in.Scopes, s.Now())
	if err != nil {
		return err
	}
	if v.Code == CodeNotFound {
		return answerJSON(s, c, http.StatusOK, NotFound{Code: CodeNotFound}, NotFound.appendJSON)
	}
	out := Verification{
		Valid: v.Code == CodeValid, Code: v.Code, KeyID: v.Key.ID, Name: v.Key.Name,
		Scopes: strings.Fields(v.Key.Scopes),
	}
	if v.Key.ExpiresAt != 0 {
		t := apiTime(v.Key.ExpiresAt)
		out.ExpiresAt = &t
	}
	if d := v.Limit; v.Limited {
		out.RateLimit = &RateLimit{Limit: d.Limit, Remaining: d.Remaining, Reset: ceilSeconds(d.Reset)}
	}
	return answerJSON(s, c, http.StatusOK, out, Verification.appendJSON)
}
