package handlers_test

import (
	"net/http"
	"testing"

	"keyport/apikey"
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

// BenchmarkUnknownKey sends the bench's "403 unknown key" request, a well-formed key no
// one was issued, a new one each time as a sprayer would, to the route BenchmarkNoWork's
// is read against: what the key check adds to the no-work route.
func BenchmarkUnknownKey(b *testing.B) {
	a := testapp.New(b, highRateLimit)
	a.Signup(b, "bench@example.com").CreateKey("bench")
	keys := make([]string, 4096)
	for i := range keys {
		keys[i], _ = apikey.Generate()
	}
	defer testapp.ReportCPU(b)()
	i := 0
	for b.Loop() {
		serveAPI(b, a, http.MethodGet, "/api/products", keys[i%len(keys)], "", http.StatusForbidden)
		i++
	}
}
