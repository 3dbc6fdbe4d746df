package e2e

import (
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport/testapp"
)

// auth says who sends a bad-input request.
type auth int

const (
	asNobody    auth = iota
	withKey          // a key with both scopes
	withReadKey      // a key with products:read only
	asMember         // the signed-in member's session cookie
)

type badRequest struct {
	name    string
	method  string
	path    string
	who     auth
	body    string
	ctype   string
	headers map[string]string
	status  int
	code    string // the API error code; "" where the answer is not the API's JSON
}

func form(v url.Values) string { return v.Encode() }

const formType = "application/x-www-form-urlencoded"

// badRequests is the table: each malformed request and the answer it must get.
func badRequests(validKey string) []badRequest {
	product := func(name, body string, status int, code string) badRequest {
		return badRequest{name: name, method: "POST", path: "/api/products", who: withKey, body: body,
			ctype: "application/json", status: status, code: code}
	}
	deep := strings.Repeat("[", 30_000) + strings.Repeat("]", 30_000) // just under the 64 KiB limit
	signup := func(name string, v url.Values, status int) badRequest {
		return badRequest{name: name, method: "POST", path: "/signup", body: form(v), ctype: formType, status: status}
	}
	okSignup := func(field, value string) url.Values {
		v := url.Values{"email": {"new@example.com"}, "password": {"long enough password"}, "org": {"Org"}}
		v.Set(field, value)
		return v
	}
	newKey := func(name string, v url.Values) badRequest {
		return badRequest{name: name, method: "POST", path: "/dashboard/integrations/api/keys", who: asMember,
			body: form(v), ctype: formType, status: http.StatusUnprocessableEntity}
	}
	badChecksum := validKey[:len(validKey)-1] + "A"
	if badChecksum == validKey {
		badChecksum = validKey[:len(validKey)-1] + "B"
	}

	return []badRequest{
		// Product bodies.
		product("empty body", "", 400, "invalid_json"),
		product("10 MB body", `{"name":"`+strings.Repeat("a", 10<<20)+`","price":1}`, 413, "body_too_large"),
		product("64 KiB + 1 of whitespace", `{"name":"a","price":1}`+strings.Repeat(" ", 64<<10), 413, "body_too_large"),
		product("invalid UTF-8 in name", "{\"name\":\"\xff\xfe\",\"price\":1}", 400, "invalid_json"),
		product("invalid UTF-8 outside strings", "{\"name\":\"a\",\"price\":1}\xc0", 400, "invalid_json"),
		product("price NaN", `{"name":"a","price":NaN}`, 400, "invalid_json"),
		product("price Infinity", `{"name":"a","price":Infinity}`, 400, "invalid_json"),
		product("price -Infinity", `{"name":"a","price":-Infinity}`, 400, "invalid_json"),
		product("price 1e309", `{"name":"a","price":1e309}`, 400, "invalid_request"),
		product("price 1e-309", `{"name":"a","price":1e-309}`, 400, "invalid_request"),
		product("price -0", `{"name":"a","price":-0}`, 400, "invalid_request"),
		product(`price "100"`, `{"name":"a","price":"100"}`, 400, "invalid_json"),
		product("price 0", `{"name":"a","price":0}`, 400, "invalid_request"),
		product("price -1", `{"name":"a","price":-1}`, 400, "invalid_request"),
		product("price 1.001", `{"name":"a","price":1.001}`, 400, "invalid_request"),
		product("price 1000000000.01", `{"name":"a","price":1000000000.01}`, 400, "invalid_request"),
		product("price 99999999999999999999999", `{"name":"a","price":99999999999999999999999}`, 400, "invalid_request"),
		product("price 1e999999999", `{"name":"a","price":1e999999999}`, 400, "invalid_request"),
		product("price true", `{"name":"a","price":true}`, 400, "invalid_json"),
		product("price array", `{"name":"a","price":[1]}`, 400, "invalid_json"),
		product("price object", `{"name":"a","price":{"v":1}}`, 400, "invalid_json"),
		product("price null", `{"name":"a","price":null}`, 400, "invalid_request"),
		product("price hex", `{"name":"a","price":0x10}`, 400, "invalid_json"),
		product("price leading zero", `{"name":"a","price":012}`, 400, "invalid_json"),
		product("duplicate name", `{"name":"a","name":"b","price":1}`, 400, "invalid_json"),
		product("duplicate price", `{"name":"a","price":1,"price":2}`, 400, "invalid_json"),
		product("trailing garbage", `{"name":"a","price":1}x`, 400, "invalid_json"),
		product("two objects", `{"name":"a","price":1}{"name":"b","price":2}`, 400, "invalid_json"),
		product("unterminated object", `{"name":"a","price":1`, 400, "invalid_json"),
		product("deep nesting", deep, 400, "invalid_json"),
		product("deep nesting in a field", `{"name":"a","price":1,"x":`+deep+`}`, 400, "invalid_request"),
		product("top-level array", `[{"name":"a","price":1}]`, 400, "invalid_json"),
		product("top-level null", `null`, 400, "invalid_json"),
		product("byte order mark", "\ufeff{\"name\":\"a\",\"price\":1}", 400, "invalid_json"),
		product("comment", `{"name":"a",/* c */"price":1}`, 400, "invalid_json"),
		product("single quotes", `{'name':'a','price':1}`, 400, "invalid_json"),
		product("name missing", `{"price":1}`, 400, "invalid_request"),
		product("name empty", `{"name":"","price":1}`, 400, "invalid_request"),
		product("name blank", `{"name":" \t ","price":1}`, 400, "invalid_request"),
		product("name 201 characters", `{"name":"`+strings.Repeat("é", 201)+`","price":1}`, 400, "invalid_request"),
		product("null byte in name", `{"name":"a\u0000b","price":1}`, 400, "invalid_request"),
		product("newline in name", `{"name":"a\nb","price":1}`, 400, "invalid_request"),
		product("name a number", `{"name":5,"price":1}`, 400, "invalid_json"),
		product("unknown field", `{"name":"a","price":1,"admin":true}`, 400, "invalid_request"),

		// Authentication.
		{name: "no key", method: "POST", path: "/api/products", body: `{"name":"a","price":1}`, status: 401, code: "api_key_required"},
		{name: "malformed key", method: "GET", path: "/api/products", headers: map[string]string{"x-api-key": "kp_short"}, status: 403, code: "invalid_api_key"},
		{name: "bad checksum", method: "GET", path: "/api/products", headers: map[string]string{"x-api-key": badChecksum}, status: 403, code: "invalid_api_key"},
		{name: "non-ASCII key", method: "GET", path: "/api/products", headers: map[string]string{"x-api-key": "kp_\xff\xfe"}, status: 403, code: "invalid_api_key"},
		{name: "10 KB key", method: "GET", path: "/api/products", headers: map[string]string{"x-api-key": "kp_" + strings.Repeat("A", 10_000)}, status: 403, code: "invalid_api_key"},
		{name: "empty bearer", method: "GET", path: "/api/products", headers: map[string]string{"Authorization": "Bearer "}, status: 401, code: "api_key_required"},
		{name: "basic auth", method: "GET", path: "/api/products", headers: map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, status: 401, code: "api_key_required"},
		{name: "read-only key writes", method: "POST", path: "/api/products", who: withReadKey, body: `{"name":"a","price":1}`, status: 403, code: "insufficient_scope"},

		// Routes, methods, query strings, headers.
		{name: "PUT products", method: "PUT", path: "/api/products", who: withKey, body: `{"name":"a","price":1}`, status: 405, code: "method_not_allowed"},
		{name: "DELETE a product", method: "DELETE", path: "/api/products/prod_x", who: withKey, status: 405, code: "method_not_allowed"},
		{name: "unknown api route", method: "GET", path: "/api/nope", who: withKey, status: 404, code: "not_found"},
		{name: "bare /api", method: "GET", path: "/api", status: 404, code: "not_found"},
		{name: "unknown product", method: "GET", path: "/api/products/prod_nope", who: withKey, status: 404, code: "not_found"},
		{name: "2000-character product id", method: "GET", path: "/api/products/" + strings.Repeat("x", 2000), who: withKey, status: 404, code: "not_found"},
		{name: "encoded traversal", method: "GET", path: "/api/products/..%2F..%2Fetc%2Fpasswd", who: withKey, status: 404, code: "not_found"},
		{name: "limit 0", method: "GET", path: "/api/products?limit=0", who: withKey, status: 400, code: "invalid_request"},
		{name: "limit 101", method: "GET", path: "/api/products?limit=101", who: withKey, status: 400, code: "invalid_request"},
		{name: "limit text", method: "GET", path: "/api/products?limit=ten", who: withKey, status: 400, code: "invalid_request"},
		{name: "limit overflow", method: "GET", path: "/api/products?limit=99999999999999999999", who: withKey, status: 400, code: "invalid_request"},
		{name: "cursor garbage", method: "GET", path: "/api/products?cursor=%00%ff", who: withKey, status: 400, code: "invalid_request"},
		{name: "cursor negative", method: "GET", path: "/api/products?cursor=cy0x", who: withKey, status: 400, code: "invalid_request"},
		{name: "huge headers", method: "GET", path: "/api/products", who: withKey, headers: map[string]string{"X-Junk": strings.Repeat("j", 100<<10)}, status: 431},

		// Forms.
		signup("signup: empty body", nil, 422),
		signup("signup: overlong email", okSignup("email", strings.Repeat("a", 300)+"@example.com"), 422),
		signup("signup: null byte in email", okSignup("email", "a\x00b@example.com"), 422),
		signup("signup: invalid UTF-8 email", okSignup("email", "\xff@example.com"), 422),
		signup("signup: two addresses", okSignup("email", "a@example.com, b@example.com"), 422),
		signup("signup: display name", okSignup("email", "Ann <a@example.com>"), 422),
		signup("signup: 7-byte password", okSignup("password", "1234567"), 422),
		signup("signup: 73-byte password", okSignup("password", strings.Repeat("p", 73)), 422),
		signup("signup: null byte in password", okSignup("password", "pass\x00word123"), 422),
		signup("signup: 101-character org", okSignup("org", strings.Repeat("o", 101)), 422),
		signup("signup: control character in org", okSignup("org", "a\x07b"), 422),
		signup("signup: existing email", okSignup("email", "bad@example.com"), 409),
		{name: "signup: 10 MB form", method: "POST", path: "/signup", body: "email=" + strings.Repeat("a", 10<<20), ctype: formType, status: 413},
		{name: "signup: broken multipart", method: "POST", path: "/signup", body: "--x\r\ngarbage", ctype: "multipart/form-data; boundary=x", status: 400},
		{name: "signup: cross-origin", method: "POST", path: "/signup", body: form(okSignup("email", "x@example.com")), ctype: formType,
			headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, status: 403},
		{name: "login: overlong email", method: "POST", path: "/login", body: form(url.Values{"email": {strings.Repeat("a", 5000)}, "password": {"whatever1"}}), ctype: formType, status: 401},
		{name: "login: invalid UTF-8", method: "POST", path: "/login", body: "email=%ff%fe&password=%ff", ctype: formType, status: 401},
		{name: "login: PUT", method: "PUT", path: "/login", status: 405},
		newKey("key: empty name", url.Values{"name": {""}, "expires_in_days": {"0"}, "scopes": {"products:read"}}),
		newKey("key: 101-character name", url.Values{"name": {strings.Repeat("k", 101)}, "expires_in_days": {"0"}, "scopes": {"products:read"}}),
		newKey("key: invalid scope", url.Values{"name": {"k"}, "expires_in_days": {"0"}, "scopes": {"Admin!"}}),
		newKey("key: no scope", url.Values{"name": {"k"}, "expires_in_days": {"0"}}),
		newKey("key: expiry -1", url.Values{"name": {"k"}, "expires_in_days": {"-1"}, "scopes": {"products:read"}}),
		newKey("key: expiry text", url.Values{"name": {"k"}, "expires_in_days": {"soon"}, "scopes": {"products:read"}}),
		{name: "revoke: unknown key", method: "DELETE", path: "/dashboard/integrations/api/keys/key_nope", who: asMember, headers: map[string]string{"HX-Request": "true"}, status: 404},
		{name: "dashboard signed out", method: "GET", path: "/dashboard/integrations/api", status: 303},
	}
}

// TestBadInput sends every malformed request of the table to the binary: each gets its
// expected status (and the API's JSON error shape under /api), none a 5xx, and none
// changes the accounts, keys or products.
func TestBadInput(t *testing.T) {
	s := start(t, testapp.MigratedDB(t, testapp.Assets(t).Migrations))
	acct := signup(t, s, "bad@example.com", 1)
	readKey, _ := acct.Client.CreateKey("read only", testapp.KeyOptions{Scopes: []string{"products:read"}})
	db := openDB(t, s.DB)
	hc := newHTTPClient(1)

	cases := badRequests(acct.Keys[0])
	if len(cases) < 40 {
		t.Fatalf("only %d cases", len(cases))
	}
	before := snapshot(t, db)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(tc.method, s.URL+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			for k, v := range tc.headers {
				req.Header.Set(k, v)
			}
			client := hc
			switch tc.who {
			case withKey:
				req.Header.Set("x-api-key", acct.Keys[0])
			case withReadKey:
				req.Header.Set("x-api-key", readKey)
			case asMember:
				client = acct.Client.Client
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if got, want := resp.StatusCode, tc.status; got != want {
				t.Errorf("status = %d, want %d\n%.300s", got, want, body)
			}
			if tc.code != "" {
				var e struct{ Message, Code string }
				if err := json.Unmarshal(body, &e); err != nil || e.Message == "" {
					t.Errorf("body is not the API's error shape: %.300s", body)
				}
				if got, want := e.Code, tc.code; got != want {
					t.Errorf("code = %q, want %q (%s)", got, want, e.Message)
				}
			}
			if after := snapshot(t, db); after != before {
				t.Errorf("data changed: %+v, was %+v", after, before)
			}
		})
	}
	t.Logf("%d malformed requests", len(cases))
}

type counts struct{ Users, Orgs, Keys, ActiveKeys, Products int }

func snapshot(t *testing.T, db *sql.DB) counts {
	t.Helper()
	return counts{
		Users:      count(t, db, "SELECT count(*) FROM users"),
		Orgs:       count(t, db, "SELECT count(*) FROM organizations"),
		Keys:       count(t, db, "SELECT count(*) FROM api_keys"),
		ActiveKeys: count(t, db, "SELECT count(*) FROM api_keys WHERE revoked_at IS NULL"),
		Products:   count(t, db, "SELECT count(*) FROM products"),
	}
}
