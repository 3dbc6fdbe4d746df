package handlers

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPIDoc describes the products API. openapi_test.go checks it against the routes
// Echo registers and against real answers, so it cannot drift from the code.
//
//go:embed openapi.json
var openAPIDoc []byte

// serveOpenAPI answers GET /api/openapi.json; no key needed, it is public documentation.
func serveOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", openAPIDoc)
}
