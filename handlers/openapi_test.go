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
		"POST /api/products":        {201, write},
		"POST /api/products/create": {201, write},
		"GET /api/products":         {200, with(map[int][]string{400: {"invalid_request"}})},
		"GET /api/products/{id}":    {200, with(map[int][]string{404: {"not_found"}})},
	}
}()

// openAPIDoc is the served document, decoded loosely so that $refs can be followed.
type openAPIDoc map[string]any

func fetchOpenAPI(t *testing.T, a *testapp.App) openAPIDoc {
	t.Helper()
	resp, body := a.Request(t, "GET", "/api/openapi.json", "")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /api/openapi.json without a key: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc openAPIDoc
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if got, want := doc["openapi"], "3.1.0"; got != want {
		t.Fatalf("openapi = %v, want %v", got, want)
	}
	return doc
}

// resolve follows a local $ref ("#/components/...").
func (d openAPIDoc) resolve(t *testing.T, node any) map[string]any {
	t.Helper()
	m, _ := node.(map[string]any)
	ref, ok := m["$ref"].(string)
	if !ok {
		return m
	}
	var cur any = map[string]any(d)
	for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
		next, ok := cur.(map[string]any)[part]
		if !ok {
			t.Fatalf("unresolvable $ref %s", ref)
		}
		cur = next
	}
	return d.resolve(t, cur)
}

// operations lists "METHOD /path" → status → the response object.
func (d openAPIDoc) operations(t *testing.T) map[string]map[int]map[string]any {
	t.Helper()
	ops := map[string]map[int]map[string]any{}
	for path, item := range d["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			responses := map[int]map[string]any{}
			for status, r := range op.(map[string]any)["responses"].(map[string]any) {
				n, err := strconv.Atoi(status)
				if err != nil {
					t.Fatalf("%s %s: response %q is not a status code", method, path, status)
				}
				responses[n] = d.resolve(t, r)
			}
			ops[strings.ToUpper(method)+" "+path] = responses
		}
	}
	return ops
}

func (d openAPIDoc) schemaOf(t *testing.T, response map[string]any) map[string]any {
	t.Helper()
	content, _ := response["content"].(map[string]any)["application/json"].(map[string]any)
	if content == nil {
		t.Fatalf("response %v has no application/json content", response["description"])
	}
	return d.resolve(t, content["schema"])
}

// errorCodes reads the code enum of an error response's schema.
func (d openAPIDoc) errorCodes(t *testing.T, response map[string]any) []string {
	t.Helper()
	var codes []string
	parts, _ := d.schemaOf(t, response)["allOf"].([]any)
	for _, part := range parts {
		props, _ := d.resolve(t, part)["properties"].(map[string]any)
		code, _ := props["code"].(map[string]any)
		enum, _ := code["enum"].([]any)
		for _, c := range enum {
			codes = append(codes, c.(string))
		}
	}
	slices.Sort(codes)
	return codes
}

// validate checks v against the subset of JSON Schema the document uses.
func (d openAPIDoc) validate(t *testing.T, schema map[string]any, v any, at string) []string {
	t.Helper()
	var errs []string
	allOf, _ := schema["allOf"].([]any)
	for _, part := range allOf {
		errs = append(errs, d.validate(t, d.resolve(t, part), v, at)...)
	}
	if typ, ok := schema["type"]; ok {
		types := []any{typ}
		if list, ok := typ.([]any); ok {
			types = list
		}
		got := jsonType(v)
		if !slices.ContainsFunc(types, func(want any) bool { return got == want || want == "number" && got == "integer" }) {
			return append(errs, fmt.Sprintf("%s: %s, want %v", at, got, typ))
		}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		errs = append(errs, fmt.Sprintf("%s: %v not in %v", at, v, enum))
	}
	if pattern, ok := schema["pattern"].(string); ok {
		if s, _ := v.(string); !regexp.MustCompile(pattern).MatchString(s) {
			errs = append(errs, fmt.Sprintf("%s: %q does not match %s", at, s, pattern))
		}
	}
	obj, _ := v.(map[string]any)
	required, _ := schema["required"].([]any)
	for _, name := range required {
		if _, ok := obj[name.(string)]; !ok {
			errs = append(errs, fmt.Sprintf("%s: missing %q", at, name))
		}
	}
	props, _ := schema["properties"].(map[string]any)
	for name, sub := range props {
		if pv, ok := obj[name]; ok {
			errs = append(errs, d.validate(t, d.resolve(t, sub), pv, at+"."+name)...)
		}
	}
	if items, ok := schema["items"]; ok {
		list, _ := v.([]any)
		for i, item := range list {
			errs = append(errs, d.validate(t, d.resolve(t, items), item, fmt.Sprintf("%s[%d]", at, i))...)
		}
	}
	return errs
}

func jsonType(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		if v == float64(int64(v)) {
			return "integer"
		}
		return "number"
	case []any:
		return "array"
	}
	return "object"
}

func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	a := testapp.New(t)
	doc := fetchOpenAPI(t, a)
	ops := doc.operations(t)

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
				if got := doc.errorCodes(t, r); !slices.Equal(got, codes) {
					t.Errorf("%s %d: documented codes %v, want %v", route, status, got, codes)
				}
			}
		}
	}
}

// TestOpenAPIMatchesRealAnswers makes every documented answer happen and checks the
// status, the error code and the body's shape against the document.
func TestOpenAPIMatchesRealAnswers(t *testing.T) {
	const limit = 3
	a := testapp.New(t, func(c *app.Config) { c.KeyRateLimit = limit })
	doc := fetchOpenAPI(t, a)
	c := a.Signup(t, "openapi@example.com")
	keys := map[string]string{}
	keys["full"], _ = c.CreateKey("full")
	keys["read"], _ = c.CreateKey("read", testapp.KeyOptions{Scopes: []string{"products:read"}})
	keys["write"], _ = c.CreateKey("write", testapp.KeyOptions{Scopes: []string{"products:write"}})
	keys["limited"], _ = c.CreateKey("limited")
	var revokedID string
	keys["revoked"], revokedID = c.CreateKey("revoked")
	c.Do(http.MethodDelete, "/dashboard/integrations/api/keys/"+revokedID, nil, "HX-Request: true")
	keys["expired"], _ = c.CreateKey("expired", testapp.KeyOptions{ExpiresInDays: 7})
	a.Clock.Advance(8 * 24 * time.Hour)
	_, created := a.API(t, "POST", "/api/products", keys["full"], `{"name":"Known","price":1.5}`)
	var known struct{ ID string }
	if err := json.Unmarshal([]byte(created), &known); err != nil || known.ID == "" {
		t.Fatalf("create a product: %s", created)
	}

	type request struct{ key, body, query, id string }
	good := `{"name":"Widget","price":9.99}`
	scenarios := map[string]request{ // by error code, or "ok"
		"ok":               {key: "full", body: good},
		"api_key_required": {body: good},
		"invalid_api_key":  {key: "kp_" + strings.Repeat("x", 49), body: good},
		"api_key_revoked":  {key: "revoked", body: good},
		"api_key_expired":  {key: "expired", body: good},
		"invalid_json":     {key: "full", body: `{"name":`},
		"body_too_large":   {key: "full", body: `{"name":"` + strings.Repeat("x", 65<<10) + `","price":1}`},
		"not_found":        {key: "full", id: "prod_missing"},
		"rate_limited":     {key: "limited", body: good},
		"unavailable":      {key: "full", body: good},
	}
	// Reads go through the read-only pool, which cannot be failed from outside cheaply.
	unprovable := map[string]bool{"GET /api/products 503": true, "GET /api/products/{id} 503": true}

	for route, responses := range doc.operations(t) {
		method, path, _ := strings.Cut(route, " ")
		for status, response := range responses {
			codes := []string{"ok"}
			if status >= 400 {
				codes = doc.errorCodes(t, response)
			}
			for _, code := range codes {
				name := fmt.Sprintf("%s %d %s", route, status, code)
				if unprovable[fmt.Sprintf("%s %d", route, status)] {
					t.Logf("%s: not provoked (see unprovable)", name)
					continue
				}
				sc, ok := scenarios[code]
				switch {
				case code == "insufficient_scope" && method == "GET":
					sc, ok = request{key: "write"}, true
				case code == "insufficient_scope":
					sc, ok = request{key: "read", body: good}, true
				case code == "invalid_request" && method == "GET":
					sc, ok = request{key: "full", query: "?limit=0"}, true
				case code == "invalid_request":
					sc, ok = request{key: "full", body: `{"name":"no price"}`}, true
				}
				if !ok {
					t.Errorf("%s: no request in this test provokes it", name)
					continue
				}
				if method == "GET" {
					sc.body = ""
				}
				if sc.id == "" {
					sc.id = known.ID
				}
				url := strings.ReplaceAll(path, "{id}", sc.id) + sc.query
				key := sc.key
				if k, ok := keys[key]; ok {
					key = k
				}
				// A fresh minute for every request, so only rate_limited meets the limit.
				a.Clock.Advance(time.Minute)
				if code == "rate_limited" {
					for range limit {
						a.API(t, method, url, key, sc.body)
					}
				}
				if code == "unavailable" {
					if _, err := a.DB.Write.Exec("PRAGMA query_only = 1"); err != nil {
						t.Fatal(err)
					}
				}
				resp, body := a.API(t, method, url, key, sc.body)
				if code == "unavailable" {
					if _, err := a.DB.Write.Exec("PRAGMA query_only = 0"); err != nil {
						t.Fatal(err)
					}
				}
				checkAnswer(t, doc, name, status, code, response, resp, body)
			}
		}
	}
}

func checkAnswer(t *testing.T, doc openAPIDoc, name string, status int, code string, response map[string]any, resp *http.Response, body string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("%s: real status %d\n%s", name, resp.StatusCode, body)
		return
	}
	var v any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Errorf("%s: body is not JSON: %v\n%s", name, err, body)
		return
	}
	if code != "ok" {
		if got, _ := v.(map[string]any)["code"].(string); got != code {
			t.Errorf("%s: real code %q", name, got)
		}
	}
	for _, e := range doc.validate(t, doc.schemaOf(t, response), v, "body") {
		t.Errorf("%s: %s", name, e)
	}
	headers, _ := response["headers"].(map[string]any)
	for h := range headers {
		got := resp.Header.Get(h)
		switch {
		case strings.HasPrefix(h, "RateLimit-") && invalidKeyCodes[code]:
			// Only a valid key has a rate limit to report.
			if got != "" {
				t.Errorf("%s: %s = %q on an answer to an invalid key, want none", name, h, got)
			}
		case h == "Location":
			if id, _ := v.(map[string]any)["id"].(string); got != "/api/products/"+id {
				t.Errorf("%s: Location = %q, want /api/products/%s", name, got, id)
			}
		case h == "WWW-Authenticate":
			if got != `Bearer realm="keyport"` {
				t.Errorf("%s: WWW-Authenticate = %q, want the Bearer scheme", name, got)
			}
		default:
			if _, err := strconv.Atoi(got); err != nil {
				t.Errorf("%s: documented header %s is %q, want an integer", name, h, got)
			}
		}
	}
}

// invalidKeyCodes are the answers to a request whose key is not valid: no rate limit.
var invalidKeyCodes = map[string]bool{"invalid_api_key": true, "api_key_revoked": true, "api_key_expired": true}
