package handlers_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"keyport/app"
	"keyport/testapp"
)

// apiContract is the SPEC's table per route: the success status and, per error status,
// the codes the route can answer with. Every /api route Echo registers must be here.
var apiContract = func() map[string]struct {
	ok     int
	errors map[int][]string
} {
	forbidden := []string{"invalid_api_key", "api_key_revoked", "api_key_expired", "insufficient_scope"}
	keyed := map[int][]string{401: {"api_key_required"}, 403: forbidden, 429: {"rate_limited"}, 503: {"unavailable"}}
	with := func(extra map[int][]string) map[int][]string {
		m := maps.Clone(keyed)
		maps.Copy(m, extra)
		return m
	}
	write := with(map[int][]string{400: {"invalid_json", "invalid_request"}, 413: {"body_too_large"}})
	type route = struct {
		ok     int
		errors map[int][]string
	}
	return map[string]route{
		"POST /api/products":            {201, write},
		"POST /api/products/create":     {201, write},
		"GET /api/products":             {200, with(map[int][]string{400: {"invalid_request"}})},
		"GET /api/products/{id}":        {200, with(map[int][]string{404: {"not_found"}})},
		"POST /api/v1/keys/verify":      {200, write},
		"GET /api/v1/keys":              {200, with(map[int][]string{400: {"invalid_request"}})},
		"POST /api/v1/keys":             {201, write},
		"GET /api/v1/keys/{id}":         {200, with(map[int][]string{404: {"not_found"}})},
		"POST /api/v1/keys/{id}/revoke": {200, with(map[int][]string{404: {"not_found"}})},
		"POST /api/v1/keys/{id}/roll": {201, with(map[int][]string{
			400: {"invalid_json", "invalid_request"}, 404: {"not_found"}, 409: {"key_not_rollable"}, 413: {"body_too_large"},
		})},
		"GET /api/v1/keys/{id}/usage": {200, with(map[int][]string{400: {"invalid_request"}, 404: {"not_found"}})},
		"GET /api/v1/forward-auth": {204, with(map[int][]string{
			400: {"invalid_request"}, 401: {"api_key_required", "root_key_required"},
			403: append(slices.Clone(forbidden), "invalid_root_key"),
		})},
	}
}()

func fetchOpenAPI(t *testing.T, a *testapp.App) *openapi3.T {
	t.Helper()
	resp, body := a.Request(t, "GET", "/api/openapi.json", "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/openapi.json without a key: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(body))
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	if got, want := doc.OpenAPI, "3.1.0"; got != want {
		t.Fatalf("openapi = %v, want %v", got, want)
	}
	return doc
}

// operations lists "METHOD /path" → status → the response.
func operations(t *testing.T, doc *openapi3.T) map[string]map[int]*openapi3.Response {
	t.Helper()
	ops := map[string]map[int]*openapi3.Response{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			responses := map[int]*openapi3.Response{}
			for status, r := range op.Responses.Map() {
				n, err := strconv.Atoi(status)
				if err != nil {
					t.Fatalf("%s %s: response %q is not a status code", method, path, status)
				}
				responses[n] = r.Value
			}
			ops[method+" "+path] = responses
		}
	}
	return ops
}

// errorCodes reads the code enum of an error response's schema.
func errorCodes(response *openapi3.Response) []string {
	var codes []string
	for _, part := range response.Content.Get("application/json").Schema.Value.AllOf {
		if code := part.Value.Properties["code"]; code != nil {
			for _, c := range code.Value.Enum {
				codes = append(codes, c.(string))
			}
		}
	}
	slices.Sort(codes)
	return codes
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	a := testapp.New(t)
	ops := operations(t, fetchOpenAPI(t, a))

	registered := map[string]bool{}
	for _, r := range a.Echo.Routes() {
		if !strings.HasPrefix(r.Path, "/api") || r.Path == "/api/openapi.json" {
			continue
		}
		route := r.Method + " " + regexp.MustCompile(`:(\w+)`).ReplaceAllString(r.Path, "{$1}")
		registered[route] = true
		if _, ok := apiContract[route]; !ok {
			t.Errorf("%s is registered but not in this test's contract table: add its statuses and codes", route)
		}
		if _, ok := ops[route]; !ok {
			t.Errorf("%s is registered but missing from openapi.json", route)
		}
	}
	for route, responses := range ops {
		if !registered[route] {
			t.Errorf("openapi.json documents %s, which Echo does not serve", route)
			continue
		}
		want := apiContract[route]
		wantStatuses := append(slices.Collect(maps.Keys(want.errors)), want.ok)
		slices.Sort(wantStatuses)
		if got := slices.Sorted(maps.Keys(responses)); !slices.Equal(got, wantStatuses) {
			t.Errorf("%s: documented statuses %v, want %v", route, got, wantStatuses)
		}
		for status, codes := range want.errors {
			if r, ok := responses[status]; ok {
				codes = slices.Sorted(slices.Values(codes))
				if got := errorCodes(r); !slices.Equal(got, codes) {
					t.Errorf("%s %d: documented codes %v, want %v", route, status, got, codes)
				}
			}
		}
	}
}

// exchange is one request of TestOpenAPIMatchesRealAnswers: a key by name (or literal),
// the proxy's root key for forward auth, a body, a query and a product id.
type exchange struct{ key, root, body, query, id string }

// TestOpenAPIMatchesRealAnswers makes every documented answer happen. testapp checks each
// exchange against the document with kin-openapi (status, headers, body schema); this
// test checks that each status and error code really occurs.
func TestOpenAPIMatchesRealAnswers(t *testing.T) {
	const limit = 3
	a := testapp.New(t, func(c *app.Config) { c.KeyRateLimit = limit })
	ops := operations(t, fetchOpenAPI(t, a))
	c := a.Signup(t, "openapi@example.com")
	keys := map[string]string{}
	keys["full"], _ = c.CreateKey("full")
	keys["read"], _ = c.CreateKey("read", testapp.KeyOptions{Scopes: []string{"products:read"}})
	keys["write"], _ = c.CreateKey("write", testapp.KeyOptions{Scopes: []string{"products:write"}})
	keys["root"], _ = rootKey(c, "root")
	var readerID string
	keys["reader"], readerID = rootKey(c, "reader", "keys:read")
	keys["admin"], _ = rootKey(c, "admin", "keys:read", "keys:write")
	ids := map[string]string{}
	_, ids["target"] = c.CreateKey("target")
	_, ids["revoke me"] = c.CreateKey("revoke me")
	_, ids["roll me"] = c.CreateKey("roll me")
	keys["limited"], _ = c.CreateKey("limited")
	var revokedID string
	keys["revoked"], revokedID = c.CreateKey("revoked")
	ids["revoked"] = revokedID
	c.Do(http.MethodDelete, "/dashboard/integrations/api/keys/"+revokedID, nil, "HX-Request: true")
	keys["expired"], _ = c.CreateKey("expired", testapp.KeyOptions{ExpiresInDays: 7})
	a.Clock.Advance(8 * 24 * time.Hour)
	_, created := a.API(t, "POST", "/api/products", keys["full"], `{"name":"Known","price":1.5}`)
	var known struct{ ID string }
	if err := json.Unmarshal([]byte(created), &known); err != nil || known.ID == "" {
		t.Fatalf("create a product: %s", created)
	}

	good := `{"name":"Widget","price":9.99}`
	huge := `{"name":"` + strings.Repeat("x", 65<<10) + `","price":1}`
	verify := func(key string) string { return `{"key":"` + key + `","scopes":["products:read"]}` }
	// By route, then by status and code ("ok" for success); "*" holds the requests that
	// serve every route.
	scenarios := map[string]map[string]exchange{
		"*": {
			"401 api_key_required":   {},
			"403 invalid_api_key":    {key: "kp_" + strings.Repeat("x", 49)},
			"403 api_key_revoked":    {key: "revoked"},
			"403 api_key_expired":    {key: "expired"},
			"429 rate_limited":       {key: "limited"},
			"503 unavailable":        {key: "full"},
			"404 not_found":          {key: "full", id: "prod_missing"},
			"403 insufficient_scope": {key: "write"},
		},
		"POST /api/products": {
			"ok": {key: "full", body: good}, "400 invalid_json": {key: "full", body: `{"name":`},
			"400 invalid_request": {key: "full", body: `{"name":"no price"}`}, "413 body_too_large": {key: "full", body: huge},
			"403 insufficient_scope": {key: "read", body: good},
		},
		"GET /api/products":      {"ok": {key: "full"}, "400 invalid_request": {key: "full", query: "?limit=0"}},
		"GET /api/products/{id}": {"ok": {key: "full"}},
		"POST /api/v1/keys/verify": {
			"ok": {key: "root", body: verify(keys["read"])}, "400 invalid_json": {key: "root", body: `{"key":`},
			"400 invalid_request": {key: "root", body: `{"scopes":[]}`}, "413 body_too_large": {key: "root", body: huge},
			"403 insufficient_scope": {key: "full", body: verify(keys["read"])},
		},
		"GET /api/v1/keys/{id}/usage": {
			"ok": {key: "reader", id: readerID}, "400 invalid_request": {key: "reader", id: readerID, query: "?days=91"},
			"404 not_found": {key: "reader", id: "key_missing"}, "403 insufficient_scope": {key: "root", id: readerID},
		},
		"GET /api/v1/keys": {"ok": {key: "admin", query: "?status=active"}, "400 invalid_request": {key: "admin", query: "?status=rolled"}},
		"POST /api/v1/keys": {
			"ok":                  {key: "admin", body: `{"name":"new","scopes":["products:read","billing:read"],"expiresInDays":30}`},
			"400 invalid_json":    {key: "admin", body: `{"name":"new","scopes":"products:read"}`},
			"400 invalid_request": {key: "admin", body: `{"name":"","scopes":["products:read"]}`},
			"413 body_too_large":  {key: "admin", body: huge},
		},
		"GET /api/v1/keys/{id}":         {"ok": {key: "admin"}},
		"POST /api/v1/keys/{id}/revoke": {"ok": {key: "admin", id: "revoke me"}},
		"POST /api/v1/keys/{id}/roll": {
			"ok": {key: "admin", id: "roll me", body: `{"grace":"1h"}`}, "400 invalid_json": {key: "admin", body: `{"grace":`},
			"400 invalid_request": {key: "admin", body: `{"grace":"2h"}`}, "413 body_too_large": {key: "admin", body: huge},
			"409 key_not_rollable": {key: "admin", id: "revoked"},
		},
		"GET /api/v1/forward-auth": {
			"ok":                     {root: "root", key: "read", query: "?scopes=products:read"},
			"400 invalid_request":    {root: "root", key: "read", query: "?scopes=Products"},
			"401 api_key_required":   {root: "root"},
			"401 root_key_required":  {key: "read"},
			"403 invalid_root_key":   {root: "read", key: "read"},
			"403 insufficient_scope": {root: "root", key: "write", query: "?scopes=products:read"},
		},
	}
	scenarios["POST /api/products/create"] = scenarios["POST /api/products"]
	// Reads go through the read-only pool, which cannot be failed from outside cheaply.
	unprovable := map[string]bool{
		"GET /api/products 503": true, "GET /api/products/{id} 503": true,
		"POST /api/v1/keys/verify 503": true, "GET /api/v1/forward-auth 503": true,
		"GET /api/v1/keys/{id}/usage 503": true,
		"GET /api/v1/keys 503":            true, "GET /api/v1/keys/{id} 503": true,
	}
	// The key management routes take a root key where the products API takes "full", and
	// a products key lacks their scope.
	manage := map[string]string{"full": "admin", "write": "full"}
	defaultBody := map[string]string{
		"POST /api/v1/keys":             `{"name":"new","scopes":["products:read"]}`,
		"POST /api/v1/keys/{id}/roll":   `{"grace":"0"}`,
		"POST /api/v1/keys/{id}/revoke": `{}`,
	}

	for route, responses := range ops {
		method, path, _ := strings.Cut(route, " ")
		for status, response := range responses {
			codes := []string{"ok"}
			if status >= 400 {
				codes = errorCodes(response)
			}
			for _, code := range codes {
				name := fmt.Sprintf("%s %d %s", route, status, code)
				if unprovable[fmt.Sprintf("%s %d", route, status)] {
					t.Logf("%s: not provoked (see unprovable)", name)
					continue
				}
				which := code
				if code != "ok" {
					which = fmt.Sprintf("%d %s", status, code)
				}
				sc, ok := scenarios[route][which]
				if !ok {
					sc, ok = scenarios["*"][which]
					if ok && method == "POST" && sc.body == "" {
						sc.body = cmp(defaultBody[route], good)
					}
					if ok && route == "GET /api/v1/forward-auth" {
						sc = exchange{root: "root", key: sc.key, query: "?scopes=products:read"}
					}
					if ok && strings.HasPrefix(path, "/api/v1/keys") && manage[sc.key] != "" {
						sc.key = manage[sc.key]
					}
					if ok && strings.HasPrefix(path, "/api/v1/keys/{id}") && sc.id == "prod_missing" {
						sc.id = "key_missing"
					}
				}
				if !ok {
					t.Errorf("%s: no request in this test provokes it", name)
					continue
				}
				switch {
				case ids[sc.id] != "":
					sc.id = ids[sc.id]
				case sc.id == "" && strings.HasPrefix(path, "/api/v1/keys"):
					sc.id = ids["target"]
				case sc.id == "":
					sc.id = known.ID
				}
				url := strings.ReplaceAll(path, "{id}", sc.id) + sc.query
				var headers []string
				if k := cmp(keys[sc.key], sc.key); k != "" {
					headers = append(headers, "x-api-key: "+k)
				}
				if sc.root != "" {
					headers = append(headers, "X-Keyport-Root-Key: "+keys[sc.root])
				}
				// A fresh minute for every request, so only rate_limited meets the limit.
				a.Clock.Advance(time.Minute)
				if code == "rate_limited" {
					for range limit {
						a.API(t, "GET", "/api/products", keys[sc.key], "")
					}
				}
				if code == "unavailable" {
					a.SetReadOnly(t, true)
				}
				resp, body := a.Request(t, method, url, sc.body, headers...)
				if code == "unavailable" {
					a.SetReadOnly(t, false)
				}
				if resp.StatusCode != status {
					t.Errorf("%s: real status %d\n%s", name, resp.StatusCode, body)
					continue
				}
				var v struct{ ID, Code string }
				if json.Unmarshal([]byte(body), &v); code != "ok" && v.Code != code {
					t.Errorf("%s: real code %q", name, v.Code)
				}
				// What the schemas cannot say: only a valid key has a rate limit to report,
				// and Location names the product created.
				if invalidKeyCodes[code] && resp.Header.Get("RateLimit-Limit") != "" {
					t.Errorf("%s: RateLimit-Limit on an answer to an invalid key", name)
				}
				collection := "/api/products/"
				if strings.HasPrefix(path, "/api/v1/keys") {
					collection = "/api/v1/keys/"
				}
				if _, ok := response.Headers["Location"]; ok && resp.Header.Get("Location") != collection+v.ID {
					t.Errorf("%s: Location = %q, want %s%s", name, resp.Header.Get("Location"), collection, v.ID)
				}
			}
		}
	}
}

// cmp returns the first of its arguments that is not empty.
func cmp(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// invalidKeyCodes are the answers to a request whose key is not valid: no rate limit.
var invalidKeyCodes = map[string]bool{"invalid_api_key": true, "api_key_revoked": true, "api_key_expired": true}
