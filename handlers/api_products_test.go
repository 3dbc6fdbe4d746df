package handlers_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"keyport/apikey"
	"keyport/testapp"
)

// createRoutes are the two equivalent create-product routes.
var createRoutes = []string{"/api/products", "/api/products/create"}

// authStyles are the two ways to present a key.
var authStyles = []struct {
	name   string
	header func(key string) string
}{
	{"x-api-key", func(k string) string { return "x-api-key: " + k }},
	{"bearer", func(k string) string { return "Authorization: Bearer " + k }},
}

// breakChecksum changes the last checksum character, keeping the key well-formed.
func breakChecksum(key string) string {
	last := key[len(key)-1]
	repl := byte('A')
	if last == 'A' {
		repl = 'B'
	}
	return key[:len(key)-1] + string(repl)
}

func TestAPIKeyAuthentication(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "owner@example.com")
	full, _ := owner.CreateKey("full")
	readOnly, _ := owner.CreateKey("read only", testapp.KeyOptions{Scopes: []string{"products:read"}})
	writeOnly, _ := owner.CreateKey("write only", testapp.KeyOptions{Scopes: []string{"products:write"}})
	revoked, revokedID := owner.CreateKey("revoked")
	if resp, body := owner.Do(http.MethodDelete, "/dashboard/integrations/api/keys/"+revokedID, nil, "HX-Request: true"); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d %s", resp.StatusCode, body)
	}
	expired, _ := owner.CreateKey("expired", testapp.KeyOptions{ExpiresInDays: 7})
	a.Clock.Advance(7*24*time.Hour + time.Second)
	unknown, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}

	const product = `{"name":"Widget","price":1}`
	tests := []struct {
		name    string
		headers []string
		status  int
		code    string
		msg     string
	}{
		{"no key", nil, 401, "api_key_required", "API Key required"},
		{"empty x-api-key", []string{"x-api-key: "}, 401, "api_key_required", "API Key required"},
		{"basic auth is not a key", []string{"Authorization: Basic " + full}, 401, "api_key_required", "API Key required"},
		{"bearer without a token", []string{"Authorization: Bearer "}, 401, "api_key_required", "API Key required"},
		{"malformed", []string{"x-api-key: kp_nope"}, 403, "invalid_api_key", "Invalid API Key"},
		{"malformed bearer", []string{"Authorization: Bearer nope"}, 403, "invalid_api_key", "Invalid API Key"},
		{"bad checksum", []string{"x-api-key: " + breakChecksum(full)}, 403, "invalid_api_key", "Invalid API Key"},
		{"truncated", []string{"x-api-key: " + full[:len(full)-1]}, 403, "invalid_api_key", "Invalid API Key"},
		{"unknown", []string{"x-api-key: " + unknown}, 403, "invalid_api_key", "Invalid API Key"},
		{"unknown bearer", []string{"Authorization: Bearer " + unknown}, 403, "invalid_api_key", "Invalid API Key"},
		{"revoked", []string{"x-api-key: " + revoked}, 403, "api_key_revoked", "Invalid API Key"},
		{"revoked bearer", []string{"Authorization: Bearer " + revoked}, 403, "api_key_revoked", "Invalid API Key"},
		{"expired", []string{"x-api-key: " + expired}, 403, "api_key_expired", "Invalid API Key"},
		{"expired bearer", []string{"Authorization: Bearer " + expired}, 403, "api_key_expired", "Invalid API Key"},
		// x-api-key is the documented header; when both are sent it decides.
		{"x-api-key wins over bearer", []string{"x-api-key: " + unknown, "Authorization: Bearer " + full}, 403, "invalid_api_key", "Invalid API Key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, route := range createRoutes {
				resp, body := a.Request(t, http.MethodPost, route, product, tt.headers...)
				checkAPIError(t, resp, body, tt.status, tt.code, tt.msg)
			}
			resp, body := a.Request(t, http.MethodGet, "/api/products", "", tt.headers...)
			checkAPIError(t, resp, body, tt.status, tt.code, tt.msg)
			resp, body = a.Request(t, http.MethodGet, "/api/products/prod_x", "", tt.headers...)
			checkAPIError(t, resp, body, tt.status, tt.code, tt.msg)
		})
	}

	t.Run("scopes", func(t *testing.T) {
		for _, auth := range authStyles {
			for _, route := range createRoutes {
				resp, body := a.Request(t, http.MethodPost, route, product, auth.header(readOnly))
				checkAPIError(t, resp, body, 403, "insufficient_scope", "")
				if !strings.Contains(body, "products:write") {
					t.Errorf("%s %s with a read-only key: message does not name products:write: %s", auth.name, route, body)
				}
				if resp, body := a.Request(t, http.MethodPost, route, product, auth.header(writeOnly)); resp.StatusCode != http.StatusCreated {
					t.Errorf("%s %s with a write-only key: %d %s", auth.name, route, resp.StatusCode, body)
				}
			}
			resp, body := a.Request(t, http.MethodGet, "/api/products", "", auth.header(writeOnly))
			checkAPIError(t, resp, body, 403, "insufficient_scope", "")
			if !strings.Contains(body, "products:read") {
				t.Errorf("%s list with a write-only key: message does not name products:read: %s", auth.name, body)
			}
			if resp, body := a.Request(t, http.MethodGet, "/api/products", "", auth.header(readOnly)); resp.StatusCode != http.StatusOK {
				t.Errorf("%s list with a read-only key: %d %s", auth.name, resp.StatusCode, body)
			}
		}
	})

	t.Run("bearer is case-insensitive", func(t *testing.T) {
		for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
			if resp, body := a.Request(t, http.MethodGet, "/api/products", "", "Authorization: "+scheme+" "+full); resp.StatusCode != http.StatusOK {
				t.Errorf("%s: %d %s", scheme, resp.StatusCode, body)
			}
		}
	})

	t.Run("session cookie is ignored", func(t *testing.T) {
		// The owner's client carries a signed-in session cookie and no key.
		resp, body := owner.Get("/api/products")
		checkAPIError(t, resp, body, 401, "api_key_required", "API Key required")
		resp, body = owner.Post("/api/products", nil)
		checkAPIError(t, resp, body, 401, "api_key_required", "API Key required")
		resp, _ = owner.Do(http.MethodGet, "/api/products", nil, "x-api-key: "+full)
		if resp.StatusCode != http.StatusOK || len(resp.Header.Values("Set-Cookie")) != 0 {
			t.Errorf("with a key and a session cookie: status %d, Set-Cookie %q; want 200 and no session handling", resp.StatusCode, resp.Header.Values("Set-Cookie"))
		}
	})
}

func TestCreateProduct(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	key, _ := a.Signup(t, "maker@example.com").CreateKey("maker")
	name200 := strings.Repeat("ä", 200)

	type result struct {
		status    int
		code      string // error code, or "" for 201
		price     string // the raw JSON text of the price in the 201 body
		msgSubstr string
	}
	ok := func(price string) result { return result{status: 201, price: price} }
	bad := func(status int, code string) result { return result{status: status, code: code} }
	required := result{status: 400, code: "invalid_request", msgSubstr: "Name and Price are required"}

	padTo := func(n int) string {
		b := `{"name":"Big","price":1}`
		return b + strings.Repeat(" ", n-len(b))
	}
	tests := []struct {
		name string
		body string
		want result
	}{
		{"9.99 stays 9.99", `{"name":"W","price":9.99}`, ok("9.99")},
		{"100 stays 100", `{"name":"W","price":100}`, ok("100")},
		{"0.1 stays 0.1", `{"name":"W","price":0.1}`, ok("0.1")},
		{"0.01", `{"name":"W","price":0.01}`, ok("0.01")},
		{"exponent form", `{"name":"W","price":1e2}`, ok("100")},
		{"trailing zeros dropped", `{"name":"W","price":5.50}`, ok("5.5")},
		{"maximum price", `{"name":"W","price":1000000000}`, ok("1000000000")},
		{"one-character name", `{"name":"x","price":1}`, ok("1")},
		{"200-character name", `{"name":"` + name200 + `","price":1}`, ok("1")},
		{"body of exactly 64 KiB", padTo(64 << 10), ok("1")},

		{"price 0", `{"name":"W","price":0}`, bad(400, "invalid_request")},
		{"price -1", `{"name":"W","price":-1}`, bad(400, "invalid_request")},
		{"price 1000000000.01", `{"name":"W","price":1000000000.01}`, bad(400, "invalid_request")},
		{"price 1.001", `{"name":"W","price":1.001}`, bad(400, "invalid_request")},
		{"price 1e400", `{"name":"W","price":1e400}`, bad(400, "invalid_request")},
		{"201-character name", `{"name":"` + name200 + `x","price":1}`, bad(400, "invalid_request")},
		{"NUL in name", `{"name":"a\u0000b","price":1}`, bad(400, "invalid_request")},
		{"unknown field", `{"name":"W","price":1,"sku":"x"}`, bad(400, "invalid_request")},
		{"empty object", `{}`, required},
		{"name missing", `{"price":1}`, required},
		{"price missing", `{"name":"W"}`, required},
		{"name null", `{"name":null,"price":1}`, required},
		{"name blank", `{"name":"  ","price":1}`, required},
		{"no body", ``, bad(400, "invalid_json")},
		{"not JSON", `name=W&price=1`, bad(400, "invalid_json")},
		{"truncated", `{"name":"W","price":`, bad(400, "invalid_json")},
		{"price as string", `{"name":"W","price":"9.99"}`, bad(400, "invalid_json")},
		{"name as number", `{"name":1,"price":1}`, bad(400, "invalid_json")},
		{"array", `[{"name":"W","price":1}]`, bad(400, "invalid_json")},
		{"duplicate field", `{"name":"W","price":1,"price":2}`, bad(400, "invalid_json")},
		{"trailing data", `{"name":"W","price":1}{"name":"X","price":2}`, bad(400, "invalid_json")},
		{"invalid UTF-8", "{\"name\":\"W\xff\",\"price\":1}", bad(400, "invalid_json")},
		{"one byte over 64 KiB", padTo(64<<10 + 1), bad(413, "body_too_large")},
		{"1 MiB", padTo(1 << 20), bad(413, "body_too_large")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, route := range createRoutes {
				for _, auth := range authStyles {
					resp, body := a.Request(t, http.MethodPost, route, tt.body, auth.header(key))
					if tt.want.code != "" {
						checkAPIError(t, resp, body, tt.want.status, tt.want.code, "")
						if !strings.Contains(body, tt.want.msgSubstr) {
							t.Errorf("%s %s: message does not contain %q: %s", route, auth.name, tt.want.msgSubstr, body)
						}
						continue
					}
					if resp.StatusCode != http.StatusCreated {
						t.Fatalf("%s %s: status %d, want 201: %s", route, auth.name, resp.StatusCode, body)
					}
					p := decodeProduct(t, body)
					if got := string(p["price"]); got != tt.want.price {
						t.Errorf("%s %s: price = %s, want %s", route, auth.name, got, tt.want.price)
					}
					// Reading it back gives the same exact price.
					var id string
					if err := json.Unmarshal(p["id"], &id); err != nil {
						t.Fatal(err)
					}
					_, got := a.Request(t, http.MethodGet, "/api/products/"+id, "", auth.header(key))
					if got := string(decodeProduct(t, got)["price"]); got != tt.want.price {
						t.Errorf("%s %s: price read back = %s, want %s", route, auth.name, got, tt.want.price)
					}
				}
			}
		})
	}
}

// decodeProduct decodes a product body keeping each field's raw JSON text, and checks
// it has the documented fields.
func decodeProduct(t testing.TB, body string) map[string]json.RawMessage {
	t.Helper()
	var p map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("product is not JSON: %v\n%s", err, body)
	}
	for _, f := range []string{"id", "name", "price", "createdAt"} {
		if _, ok := p[f]; !ok {
			t.Errorf("product has no %q field: %s", f, body)
		}
	}
	var created string
	if err := json.Unmarshal(p["createdAt"], &created); err != nil {
		t.Errorf("createdAt is not a string: %s", p["createdAt"])
	} else if _, err := time.Parse(time.RFC3339Nano, created); err != nil {
		t.Errorf("createdAt %q is not RFC 3339: %v", created, err)
	}
	return p
}

type productPage struct {
	Data []struct {
		ID    string      `json:"id"`
		Name  string      `json:"name"`
		Price json.Number `json:"price"`
	} `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

func listPage(t testing.TB, a *testapp.App, key, query string) productPage {
	t.Helper()
	resp, body := a.Request(t, http.MethodGet, "/api/products"+query, "", "Authorization: Bearer "+key)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("list %s: %d %s", query, resp.StatusCode, body)
	}
	var p productPage
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("list %s: %v\n%s", query, err, body)
	}
	if !strings.Contains(body, `"nextCursor":`) || !strings.Contains(body, `"data":[`) {
		t.Fatalf("list %s: want data as an array and nextCursor present (null at the end): %s", query, body)
	}
	return p
}

func TestListProductsPaging(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	key, _ := a.Signup(t, "pager@example.com").CreateKey("pager")

	if p := listPage(t, a, key, ""); len(p.Data) != 0 || p.NextCursor != nil {
		t.Fatalf("empty list = %+v, want no data and a null nextCursor", p)
	}

	const n = 45
	var want []string // newest first
	for i := range n {
		name := fmt.Sprintf("p%02d", i)
		resp, body := a.API(t, http.MethodPost, "/api/products", key, fmt.Sprintf(`{"name":%q,"price":%d.5}`, name, i+1))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create %s: %d %s", name, resp.StatusCode, body)
		}
		want = append([]string{name}, want...)
		// Several products share each millisecond; order must not depend on the clock.
		if i%10 == 9 {
			a.Clock.Advance(time.Millisecond)
		}
	}

	walk := func(t *testing.T, limit int) (names []string, pages int) {
		cursor := ""
		for {
			q := "?limit=" + fmt.Sprint(limit)
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			p := listPage(t, a, key, q)
			pages++
			if len(p.Data) > limit || len(p.Data) == 0 {
				t.Fatalf("page %d has %d products, limit %d", pages, len(p.Data), limit)
			}
			for _, d := range p.Data {
				names = append(names, d.Name)
			}
			if p.NextCursor == nil {
				return names, pages
			}
			if pages > n {
				t.Fatal("paging does not end")
			}
			cursor = *p.NextCursor
		}
	}
	for _, tt := range []struct{ limit, pages int }{{10, 5}, {15, 3}, {1, 45}, {44, 2}, {45, 1}, {100, 1}} {
		t.Run(fmt.Sprint("limit=", tt.limit), func(t *testing.T) {
			got, pages := walk(t, tt.limit)
			if pages != tt.pages {
				t.Errorf("%d pages, want %d", pages, tt.pages)
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("paged names =\n%v\nwant (newest first, no duplicates or gaps)\n%v", got, want)
			}
		})
	}

	t.Run("default limit is 20", func(t *testing.T) {
		p := listPage(t, a, key, "")
		if got, want := len(p.Data), 20; got != want {
			t.Errorf("%d products, want %d", got, want)
		}
		if p.NextCursor == nil {
			t.Error("nextCursor is null on a first page of 45")
		}
	})

	t.Run("products created while paging", func(t *testing.T) {
		first := listPage(t, a, key, "?limit=20")
		resp, body := a.API(t, http.MethodPost, "/api/products", key, `{"name":"late","price":1}`)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		var got []string
		for _, d := range first.Data {
			got = append(got, d.Name)
		}
		for cursor := first.NextCursor; cursor != nil; {
			p := listPage(t, a, key, "?limit=20&cursor="+*cursor)
			for _, d := range p.Data {
				got = append(got, d.Name)
			}
			cursor = p.NextCursor
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("a product created between pages shifted the pages:\n%v\nwant\n%v", got, want)
		}
	})

	t.Run("bad limit or cursor", func(t *testing.T) {
		for _, q := range []string{
			"?limit=0", "?limit=101", "?limit=-1", "?limit=abc", "?limit=1.5", "?limit=",
			"?cursor=nope!", "?cursor=czA", "?cursor=%00", "?limit=10&cursor=x",
		} {
			resp, body := a.Request(t, http.MethodGet, "/api/products"+q, "", "x-api-key: "+key)
			if q == "?limit=" {
				// An empty limit is the same as none.
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: %d %s", q, resp.StatusCode, body)
				}
				continue
			}
			checkAPIError(t, resp, body, 400, "invalid_request", "")
		}
	})
}

func TestGetProduct(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	key, _ := a.Signup(t, "getter@example.com").CreateKey("getter")
	resp, body := a.API(t, http.MethodPost, "/api/products/create", key, `{"name":"Lamp","price":19.9}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	created := decodeProduct(t, body)
	var id string
	if err := json.Unmarshal(created["id"], &id); err != nil {
		t.Fatal(err)
	}

	for _, auth := range authStyles {
		resp, body := a.Request(t, http.MethodGet, "/api/products/"+id, "", auth.header(key))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s get: %d %s", auth.name, resp.StatusCode, body)
		}
		got := decodeProduct(t, body)
		for f, v := range created {
			if string(got[f]) != string(v) {
				t.Errorf("%s get: %s = %s, created with %s", auth.name, f, got[f], v)
			}
		}
		for _, missing := range []string{"prod_doesnotexist", "x", strings.Repeat("a", 300)} {
			resp, body := a.Request(t, http.MethodGet, "/api/products/"+missing, "", auth.header(key))
			checkAPIError(t, resp, body, 404, "not_found", "")
		}
	}
}

func TestAPIRoutingErrors(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	key, _ := a.Signup(t, "router@example.com").CreateKey("router")
	for _, headers := range [][]string{nil, {"x-api-key: " + key}} {
		for _, tt := range []struct {
			method, path string
			status       int
			code         string
		}{
			{"GET", "/api", 404, "not_found"},
			{"GET", "/api/", 404, "not_found"},
			{"GET", "/api/nope", 404, "not_found"},
			{"POST", "/api/orders", 404, "not_found"},
			{"GET", "/api/products/x/y", 404, "not_found"},
			{"DELETE", "/api/products", 405, "method_not_allowed"},
			{"PUT", "/api/products", 405, "method_not_allowed"},
			{"PATCH", "/api/products/prod_x", 405, "method_not_allowed"},
			{"DELETE", "/api/products/prod_x", 405, "method_not_allowed"},
			{"GET", "/api/products/create", 405, "method_not_allowed"},
		} {
			t.Run(fmt.Sprintf("%s %s key=%v", tt.method, tt.path, headers != nil), func(t *testing.T) {
				resp, body := a.Request(t, tt.method, tt.path, "", headers...)
				checkAPIError(t, resp, body, tt.status, tt.code, "")
				if tt.status == 405 && resp.Header.Get("Allow") == "" {
					t.Errorf("405 without an Allow header")
				}
			})
		}
	}
}

// A key that fails its checksum is refused before any database query: with every
// database connection held by the test, such requests are still answered.
func TestBadChecksumSkipsDatabase(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	key, _ := a.Signup(t, "offline@example.com").CreateKey("k")

	ctx := context.Background()
	for _, pool := range []*sql.DB{a.DB.Read, a.DB.Write} {
		for pool.Stats().InUse < pool.Stats().MaxOpenConnections {
			conn, err := pool.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
		}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, k := range []string{breakChecksum(key), key[:len(key)-1], "kp_nope", key + "x"} {
		req, err := http.NewRequest(http.MethodGet, a.URL+"/api/products", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("x-api-key", k)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("a malformed key waited for the database: %v", err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		checkAPIError(t, resp, string(body), http.StatusForbidden, "invalid_api_key", "Invalid API Key")
	}
}

// TestProductAnswersAreEncodingJSONs checks the products API's answers byte for byte
// against what encoding/json's Encoder (which c.JSON used) writes for the same values,
// names that need escaping included, and that ?pretty still indents as c.JSON did.
func TestProductAnswersAreEncodingJSONs(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	key, _ := a.Signup(t, "json@example.com").CreateKey("json")
	type product struct {
		ID        string      `json:"id"`
		Name      string      `json:"name"`
		Price     json.Number `json:"price"`
		CreatedAt string      `json:"createdAt"`
	}
	type page struct {
		Data       []product `json:"data"`
		NextCursor *string   `json:"nextCursor"`
	}
	check := func(what string, resp *http.Response, body string, v any, indent string) {
		t.Helper()
		t.Run(what, func(t *testing.T) { checkEncodingJSON(t, resp, body, v, indent) })
	}
	var ids []string
	for _, name := range []string{`<b>Fish & "Chips"</b> \ `, "Grüße 🎉 a\u2028b\u2029c", "Widget"} {
		body, _ := json.Marshal(map[string]any{"name": name, "price": json.Number("12.30")})
		resp, got := a.API(t, http.MethodPost, "/api/products", key, string(body))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create %q: %d %s", name, resp.StatusCode, got)
		}
		var p product
		check("create "+name, resp, got, &p, "")
		if p.Name != strings.TrimSpace(name) || p.Price != "12.3" {
			t.Errorf("created %+v, want name %q and price 12.3", p, name)
		}
		ids = append(ids, p.ID)
		resp, got = a.API(t, http.MethodGet, "/api/products/"+p.ID, key, "")
		check("get "+name, resp, got, &product{}, "")
	}
	for _, query := range []string{"", "?limit=1", "?limit=2"} {
		resp, got := a.API(t, http.MethodGet, "/api/products"+query, key, "")
		check("list "+query, resp, got, &page{}, "")
	}
	resp, got := a.API(t, http.MethodGet, "/api/products/"+ids[0]+"?pretty", key, "")
	check("get ?pretty", resp, got, &product{}, "  ")
	resp, got = a.API(t, http.MethodGet, "/api/products?limit=1&pretty=1", key, "")
	check("list ?pretty", resp, got, &page{}, "  ")
}

// TestAnswersConcurrently reads different products and pages at once: the buffers the
// answers are written in are reused from request to request, never shared by two.
func TestAnswersConcurrently(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	key, _ := a.Signup(t, "concurrent@example.com").CreateKey("concurrent")
	want := map[string]string{}
	for i := range 8 {
		resp, body := a.API(t, http.MethodPost, "/api/products", key, fmt.Sprintf(`{"name":"%s","price":%d}`, strings.Repeat(string(rune('a'+i)), 1+i*20), i+1))
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
		var p struct{ ID string }
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatal(err)
		}
		want["/api/products/"+p.ID] = body
	}
	for _, query := range []string{"?limit=1", "?limit=3", ""} {
		_, body := a.API(t, http.MethodGet, "/api/products"+query, key, "")
		want["/api/products"+query] = body
	}
	errs := make(chan error, len(want))
	for path, body := range want {
		go func() {
			for range 50 {
				req, _ := http.NewRequest(http.MethodGet, a.URL+path, nil)
				req.Header.Set("x-api-key", key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					errs <- err
					return
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || string(got) != body {
					errs <- fmt.Errorf("GET %s = %q, %v; want %q", path, got, err, body)
					return
				}
			}
			errs <- nil
		}()
	}
	for range want {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
