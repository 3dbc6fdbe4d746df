package handlers_test

import (
	"net/http"
	"testing"

	"keyport/testapp"
)

// BenchmarkNoWork sends the bench's no-work request (an /api path no route matches, with
// a key) through the router: the request log, metrics, security headers and the API's
// 404, and nothing else.
func BenchmarkNoWork(b *testing.B) {
	a := testapp.New(b, highRateLimit)
	key, _ := a.Signup(b, "bench@example.com").CreateKey("bench")
	defer testapp.ReportCPU(b)()
	for b.Loop() {
		serveAPI(b, a, http.MethodGet, "/api/none", key, "", http.StatusNotFound)
	}
}
