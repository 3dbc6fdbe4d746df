package e2e

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"keyport/app"
	"keyport/handlers/parse"
	"keyport/input"
	"keyport/testapp"
)

// These fuzz targets go through the real router (testapp: the app in-process on a
// temporary SQLite file), so one process can try many inputs a second. Their seeds run
// with every `go test`; `go test ./e2e -run '^$' -fuzz FuzzX` searches further.

func rows(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	if err := db.QueryRow("SELECT count(*) FROM " + table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// FuzzProductAPI sends any body to POST /api/products: never a 5xx; a 201 only for a
// body parse.Product accepts, answering with exactly the name and price it parsed and
// storing one row; any other answer stores nothing.
func FuzzProductAPI(f *testing.F) {
	for _, s := range []string{
		`{"name":"Widget","price":9.99}`, `{"name":"a","price":1e2}`, `{"name":"a","price":-0}`,
		`{"name":"a","price":NaN}`, `{"name":"a\u0000","price":1}`, `{"name":"a","price":1}{}`,
		`{"name":"a","name":"a","price":1}`, `[`, ``, "\xff",
	} {
		f.Add([]byte(s))
	}
	// The test clock stands still, so a rate limit would never refill.
	a := testapp.New(f, func(c *app.Config) { c.KeyRateLimit = 0 })
	key, _ := a.Signup(f, "fuzz@example.com").CreateKey("fuzz")
	f.Fuzz(func(t *testing.T, body []byte) {
		before := rows(t, a.DB.Read, "products")
		r, resp := a.Request(t, http.MethodPost, "/api/products", string(body), "x-api-key: "+key)
		status := r.StatusCode
		if status >= 500 {
			t.Fatalf("%d for %q: %s", status, body, resp)
		}
		in, perr := parse.Product(body)
		after := rows(t, a.DB.Read, "products")
		if status != http.StatusCreated {
			if perr == nil && len(body) <= 64<<10 {
				t.Fatalf("%d for %q, which parse.Product accepts: %s", status, body, resp)
			}
			if after != before {
				t.Fatalf("%d for %q but %d rows were added", status, body, after-before)
			}
			var e struct{ Message, Code string }
			if err := json.Unmarshal([]byte(resp), &e); err != nil || e.Message == "" || e.Code == "" {
				t.Fatalf("error body %q is not the API's shape", resp)
			}
			return
		}
		if perr != nil {
			t.Fatalf("201 for %q, which parse.Product rejects: %v", body, perr)
		}
		var p struct {
			Name  string      `json:"name"`
			Price json.Number `json:"price"`
		}
		if err := json.Unmarshal([]byte(resp), &p); err != nil {
			t.Fatal(err)
		}
		if p.Name != in.Name || p.Price.String() != parse.FormatCents(in.PriceCents) {
			t.Fatalf("201 answered %q %s for %q %d cents", p.Name, p.Price, in.Name, in.PriceCents)
		}
		if after != before+1 {
			t.Fatalf("201 but %d rows were added", after-before)
		}
	})
}

// accountForm builds a signup/login form from fuzzed fields; raw is sent as is when it
// is not empty, so the fuzzer also controls the encoding.
func accountForm(email, password, org, raw string) []byte {
	if raw != "" {
		return []byte(raw)
	}
	return []byte(url.Values{"email": {email}, "password": {password}, "org": {org}}.Encode())
}

// FuzzSignup: any signup form gets a 303 (account made), 409 (email taken), 422, or 400
// for a body that is not a form, never a 5xx, and a user is created only for input the
// parsers accept. The clock moves past the sign-in throttle's window before each try
// (a taken email counts as a failed attempt), so its 429 does not hide the handler.
func FuzzSignup(f *testing.F) {
	f.Add("new@example.com", "long enough password", "Org", "")
	f.Add("NEW@Example.com ", "long enough password", "", "")
	f.Add("a\xff@example.com", "long enough password", "", "")
	f.Add("x@example.com", "short", "", "")
	f.Add("x@example.com", "pass\x00word12", "", "")
	f.Add("x@example.com", "long enough password", strings.Repeat("o", 101), "")
	f.Add("", "", "", "email=%zz&password=%")
	f.Add("", "", "", "email=a%40b.co&password=12345678&email=c%40d.co")
	a := testapp.New(f)
	f.Fuzz(func(t *testing.T, email, password, org, raw string) {
		a.Clock.Advance(16 * time.Minute)
		form, parseErr := url.ParseQuery(string(accountForm(email, password, org, raw)))
		valid := parseErr == nil
		if valid {
			em, e1 := input.Email(form.Get("email"))
			_, e2 := input.NewPassword(form.Get("password"))
			_, e3 := input.OrgName(form.Get("org"), em)
			valid = e1 == nil && e2 == nil && e3 == nil
		}
		before := rows(t, a.DB.Read, "users")
		r, body := a.Request(t, http.MethodPost, "/signup", string(accountForm(email, password, org, raw)), "Content-Type: "+formType)
		status := r.StatusCode
		after := rows(t, a.DB.Read, "users")
		switch {
		case status >= 500:
			t.Fatalf("%d: %.300s", status, body)
		case status == http.StatusSeeOther:
			if !valid {
				t.Fatalf("signed up %q/%q/%q (raw %q), which the parsers reject", email, password, org, raw)
			}
			if after != before+1 {
				t.Fatalf("303 but %d users were added", after-before)
			}
		case status == http.StatusConflict || status == http.StatusUnprocessableEntity:
			if after != before {
				t.Fatalf("%d but %d users were added", status, after-before)
			}
			if status == http.StatusUnprocessableEntity && valid {
				t.Fatalf("422 for a valid form %q/%q/%q", email, password, org)
			}
		case status == http.StatusBadRequest:
			if parseErr == nil || after != before {
				t.Fatalf("400 for a body that parses (%q), or with %d users added", raw, after-before)
			}
		default:
			t.Fatalf("status %d: %.300s", status, body)
		}
	})
}

// FuzzLogin: any login form is a 303 (right password) or a 401, never a 5xx, and never
// signs in without the password. The clock moves past the failed-login window before
// each try, so the throttle's 429 does not hide the rest of the handler.
func FuzzLogin(f *testing.F) {
	f.Add("member@example.com", testapp.Password, "")
	f.Add("MEMBER@example.com ", testapp.Password, "")
	f.Add("member@example.com", "wrong password", "")
	f.Add("member@example.com\x00", testapp.Password, "")
	f.Add(strings.Repeat("a", 5000), "x", "")
	f.Add("", "", "email=%ff&password=%00")
	a := testapp.New(f)
	a.Signup(f, "member@example.com")
	f.Fuzz(func(t *testing.T, email, password, raw string) {
		a.Clock.Advance(16 * time.Minute)
		body := accountForm(email, password, "", raw)
		r, resp := a.Request(t, http.MethodPost, "/login", string(body), "Content-Type: "+formType)
		status := r.StatusCode
		switch status {
		case http.StatusSeeOther:
			form, _ := url.ParseQuery(string(body))
			if form.Get("password") != testapp.Password {
				t.Fatalf("signed in with password %q", form.Get("password"))
			}
			if em, err := input.Email(form.Get("email")); err != nil || em != "member@example.com" {
				t.Fatalf("signed in as %q", form.Get("email"))
			}
		case http.StatusUnauthorized:
		default:
			t.Fatalf("status %d for %q: %.300s", status, body, resp)
		}
	})
}
