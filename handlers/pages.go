package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/input"
)

// pageSize is how many rows the dashboard's tables show at a time.
const pageSize = 50

// listPage fetches the page of rows below the request's ?cursor= (asking for one more
// than a page, to know whether there is a next one), converts them for display with
// view, and builds the "Load more" link to path's next page.
func listPage[R, V any](c echo.Context, now time.Time, path string, cols int,
	fetch func(ctx context.Context, before, limit int64) ([]R, error),
	seq func(R) int64, view func(R, time.Time) V,
) ([]V, MoreLink, error) {
	before, err := input.Cursor(c.QueryParam("cursor"))
	if err != nil {
		return nil, MoreLink{}, echo.NewHTTPError(http.StatusBadRequest, "That page link is not valid.")
	}
	rows, err := fetch(c.Request().Context(), before, pageSize+1)
	if err != nil {
		return nil, MoreLink{}, err
	}
	more := MoreLink{Cols: cols}
	if len(rows) > pageSize {
		rows = rows[:pageSize]
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		more.URL = path + sep + "cursor=" + input.EncodeCursor(seq(rows[len(rows)-1]))
	}
	out := make([]V, len(rows))
	for i, r := range rows {
		out[i] = view(r, now)
	}
	return out, more, nil
}

// renderList renders a paged list: the whole page, or for htmx's "Load more" (a request
// with a cursor) only the rows block.
func (s *Server) renderList(c echo.Context, page, rowsBlock string, data any) error {
	if c.QueryParam("cursor") == "" {
		rowsBlock = ""
	}
	return s.render(c, http.StatusOK, page, rowsBlock, data)
}
