package handlers

import (
	"database/sql"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/handlers/parse"
	"keyport/keyauth"
	"keyport/queries"
	"keyport/usage"
)

// KeyUsage is GET /api/v1/keys/{id}/usage's answer: every bucket of the period, oldest
// first, empty ones included.
type KeyUsage struct {
	Granularity string        `json:"granularity"` // "hour" or "day"
	Data        []UsageBucket `json:"data"`
}

// UsageBucket is one hour's or UTC day's verifications of the key, by outcome.
type UsageBucket struct {
	Start             string `json:"start"`
	Valid             int64  `json:"valid"`
	RateLimited       int64  `json:"rateLimited"`
	InsufficientScope int64  `json:"insufficientScope"`
	Revoked           int64  `json:"revoked"`
	Expired           int64  `json:"expired"`
}

// keyUsage answers GET /api/v1/keys/{id}/usage?days=1..90 for a key of the root key's
// organization: by the hour up to 2 days, by UTC day beyond.
func (s *Server) keyUsage(c echo.Context, root keyauth.Key) error {
	days, err := parse.UsageDays(c.QueryParam("days"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	k, err := s.Read.GetAPIKey(ctx, queries.GetAPIKeyParams{OrgID: root.OrgID, ID: c.Param("id")})
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	w := usage.LastDays(s.Now(), days)
	rows, err := s.Read.ListKeyUsage(ctx, queries.ListKeyUsageParams{KeyID: k.ID, Since: w.Start.UnixMilli()})
	if err != nil {
		return err
	}
	out := KeyUsage{Granularity: "day", Data: make([]UsageBucket, 0, w.N)}
	if w.Step == time.Hour {
		out.Granularity = "hour"
	}
	for _, b := range w.Sum(rows) {
		out.Data = append(out.Data, UsageBucket{
			Start: apiTime(b.Start.UnixMilli()), Valid: b.Counts[usage.Valid], RateLimited: b.Counts[usage.RateLimited],
			InsufficientScope: b.Counts[usage.InsufficientScope], Revoked: b.Counts[usage.Revoked], Expired: b.Counts[usage.Expired],
		})
	}
	return replyJSON(c, http.StatusOK, out)
}
