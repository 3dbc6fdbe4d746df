package handlers

import (
	"context"
	"database/sql"

	"github.com/labstack/echo/v4"

	"keyport/queries"
)

// auditPage lists the organization's audit events, newest first. "Load more" (htmx)
// appends the next page's rows; without JavaScript the link opens that page.
func (s *Server) auditPage(c echo.Context) error {
	orgID := sql.NullString{String: memberFrom(c).OrgID, Valid: true}
	events, more, err := listPage(c, s.Now(), "/dashboard/audit", 6,
		func(ctx context.Context, before, limit int64) ([]queries.AuditEvent, error) {
			return s.Read.ListAuditEvents(ctx, queries.ListAuditEventsParams{OrgID: orgID, Before: before, Limit: limit})
		},
		func(e queries.AuditEvent) int64 { return e.Seq }, auditRow)
	if err != nil {
		return err
	}
	return s.renderList(c, "audit", "audit-rows", AuditPage{
		Layout: s.layout(c, "Audit log", "audit"), Events: events, More: more,
	})
}
