package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyport/testapp"
)

func TestKeysEmptyState(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "empty@example.com")
	resp, body := c.Get(dashboard)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("dashboard: %d", resp.StatusCode)
	}
	if !strings.Contains(body, "No API Keys Yet") || !strings.Contains(body, "Create new key") {
		t.Error("empty dashboard lacks the empty state with a create button")
	}
	c.CreateKey("first")
	if _, body := c.Get(dashboard); strings.Contains(body, "No API Keys Yet") {
		t.Error("the empty state is still shown with a key")
	}
}

func TestCreateKeyValidation(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "validate@example.com")
	both := []string{"products:read", "products:write"}
	tests := []struct {
		name    string
		form    url.Values
		message string
	}{
		{"empty name", url.Values{"name": {""}, "scopes": both}, "Name is required."},
		{"blank name", url.Values{"name": {"   "}, "scopes": both}, "Name is required."},
		{"no name field", url.Values{"scopes": both}, "Name is required."},
		{"101-character name", url.Values{"name": {strings.Repeat("n", 101)}, "scopes": both}, "Name must be at most 100 characters."},
		{"control character in name", url.Values{"name": {"a\x00b"}, "scopes": both}, "Name must not contain control characters."},
		{"unsupported expiry", url.Values{"name": {"k"}, "expires_in_days": {"3"}, "scopes": both}, "Choose an expiry: never, 7, 30, 90 or 365 days."},
		{"non-numeric expiry", url.Values{"name": {"k"}, "expires_in_days": {"soon"}, "scopes": both}, "Choose an expiry: never, 7, 30, 90 or 365 days."},
		{"no scopes", url.Values{"name": {"k"}, "expires_in_days": {"0"}}, "Choose at least one scope."},
		{"invalid custom scope", url.Values{"name": {"k"}, "scopes": both, "custom_scopes": {"billing:read Billing!"}},
			"“Billing!” is not a valid scope: use 1 to 64 lowercase letters, digits and _ . : -, starting with a letter or digit."},
		{"custom scope in keyport's namespace", url.Values{"name": {"k"}, "custom_scopes": {"keys:admin"}},
			"“keys:admin” is reserved: scopes starting with products: or keys: belong to keyport."},
		{"21 custom scopes", url.Values{"name": {"k"}, "custom_scopes": {manyScopes(21)}},
			"A key may have at most 20 custom scopes."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, htmx := range []bool{true, false} {
				var headers []string
				if htmx {
					headers = append(headers, "HX-Request: true")
				}
				resp, body := c.Post(dashboard+"/keys", tt.form, headers...)
				if resp.StatusCode != http.StatusUnprocessableEntity {
					t.Errorf("htmx %v: status %d, want 422", htmx, resp.StatusCode)
				}
				if got := formError(body); got != tt.message {
					t.Errorf("htmx %v: message %q, want %q", htmx, got, tt.message)
				}
				if keyRE.MatchString(body) {
					t.Errorf("htmx %v: a key in a failed create", htmx)
				}
				// htmx swaps the form in the dialog; without JavaScript the form comes
				// back as a full page.
				if full := strings.Contains(body, "<html"); full == htmx {
					t.Errorf("htmx %v: full page = %v", htmx, full)
				}
				if !strings.Contains(body, `name="name"`) {
					t.Errorf("htmx %v: the form is not shown again", htmx)
				}
			}
		})
	}
	if got := keyCount(t, a, "validate@example.com"); got != 0 {
		t.Errorf("%d keys created by invalid forms", got)
	}
	t.Run("the form keeps what was typed", func(t *testing.T) {
		_, body := c.Post(dashboard+"/keys", url.Values{"name": {"Billing"}, "expires_in_days": {"90"},
			"scopes": {"keys:verify"}, "custom_scopes": {"billing:read Bad"}}, "HX-Request: true")
		if !strings.Contains(body, `value="Billing"`) {
			t.Error("the name is lost")
		}
		if !strings.Contains(body, `value="billing:read Bad"`) {
			t.Error("the custom scopes are lost")
		}
		if !regexp.MustCompile(`value="keys:verify"\s+checked`).MatchString(body) || regexp.MustCompile(`value="products:read"\s+checked`).MatchString(body) {
			t.Error("the checked scopes are not kept as sent")
		}
		if !regexp.MustCompile(`<option value="90"\s+selected`).MatchString(body) {
			t.Error("the expiry is lost")
		}
	})
}

func TestCreateKeyResponse(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "create@example.com")
	older, _ := c.CreateKey("older")

	form := url.Values{"name": {"Production"}, "expires_in_days": {"30"}, "scopes": {"products:read"}}
	resp, body := c.Post(dashboard+"/keys", form, "HX-Request: true")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d\n%s", resp.StatusCode, body)
	}
	key := keyRE.FindString(body)
	if key == "" {
		t.Fatal("no key in the create response")
	}
	if got := strings.Count(body, key); got != 1 {
		t.Errorf("the key appears %d times in the create response, want once", got)
	}
	if strings.Contains(body, older) {
		t.Error("the create response shows an older key")
	}
	if !strings.Contains(body, "will not be able to see it again") || !strings.Contains(body, "Copy") {
		t.Error("the create response lacks the warning or the Copy button")
	}
	if strings.Contains(body, "<html") {
		t.Error("htmx create answered with a full page")
	}
	oob := regexp.MustCompile(`(?s)<section[^>]*id="keys-section"[^>]*>.*?</section>`).FindString(body)
	if oob == "" || !strings.Contains(oob[:strings.Index(oob, ">")], `hx-swap-oob="true"`) {
		t.Fatalf("no out-of-band keys-section in the create response:\n%s", body)
	}
	m := regexp.MustCompile(`<tr[^>]*\sid="key-(key_[0-9A-Za-z]+)"`).FindAllStringSubmatch(oob, -1)
	if len(m) != 2 {
		t.Fatalf("the out-of-band table has %d rows, want 2", len(m))
	}
	id := m[0][1]
	if rowStatus(oob, id) != "active" {
		t.Errorf("the new row's status is %q, want active", rowStatus(oob, id))
	}
	if !strings.Contains(oob, "Production") || !strings.Contains(oob, "in 30 days") {
		t.Error("the new row lacks its name or expiry")
	}
	if strings.Contains(oob, key) {
		t.Error("the table shows the full key")
	}
	hint := key[:7] + "…" + key[len(key)-4:]
	if !strings.Contains(oob, hint) {
		t.Errorf("the table lacks the hint %s", hint)
	}
	// The new key works with the scope it was given and only that.
	if resp, _ := a.API(t, http.MethodGet, "/api/products", key, ""); resp.StatusCode != http.StatusOK {
		t.Errorf("the new key cannot read: %d", resp.StatusCode)
	}
	if resp, _ := a.API(t, http.MethodPost, "/api/products", key, `{"name":"x","price":1}`); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a read-only key could write: %d", resp.StatusCode)
	}

	t.Run("list page", func(t *testing.T) {
		resp, body := c.Get(dashboard)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("dashboard: %d", resp.StatusCode)
		}
		if strings.Contains(body, key) || strings.Contains(body, key[3:46]) || strings.Contains(body, older) {
			t.Error("the keys page contains a full key")
		}
		if !strings.Contains(body, hint) {
			t.Error("the keys page lacks the hint")
		}
		if i, j := strings.Index(body, "Production"), strings.Index(body, ">older<"); i < 0 || j < 0 || i > j {
			t.Error("keys are not listed newest first")
		}
		created := regexp.MustCompile(`<time[^>]*\stitle="([^"]+)"[^>]*>just now</time>`).FindStringSubmatch(body)
		if created == nil {
			t.Error("the created time is not shown relative with the exact time in a title")
		} else if want := a.Clock.Now().UTC().Format("Jan 2, 2006"); !strings.Contains(created[1], want) {
			t.Errorf("created title %q lacks the date %s", created[1], want)
		}
		a.Clock.Advance(3 * time.Minute)
		if _, body := c.Get(dashboard); !strings.Contains(body, ">3 minutes ago</time>") {
			t.Error("three minutes later the created time does not read 3 minutes ago")
		}
	})

	t.Run("without JavaScript", func(t *testing.T) {
		resp, body := c.Post(dashboard+"/keys", url.Values{"name": {"no js"}, "scopes": {"products:write"}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d", resp.StatusCode)
		}
		k := keyRE.FindString(body)
		if k == "" || strings.Count(body, k) != 1 || !strings.Contains(body, "<html") {
			t.Errorf("plain create: want a full page with the key once")
		}
		if resp, _ := a.API(t, http.MethodPost, "/api/products", k, `{"name":"x","price":1}`); resp.StatusCode != http.StatusCreated {
			t.Errorf("the key made without JavaScript cannot write: %d", resp.StatusCode)
		}
	})
}

func TestRevokeFlows(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "flows@example.com")

	t.Run("confirm dialog", func(t *testing.T) {
		_, id := c.CreateKey("to confirm")
		for _, htmx := range []bool{true, false} {
			var headers []string
			if htmx {
				headers = append(headers, "HX-Request: true")
			}
			resp, body := c.Get(dashboard+"/keys/"+id+"/revoke", headers...)
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, "This action cannot be undone") {
				t.Errorf("htmx %v: status %d, warning shown %v", htmx, resp.StatusCode, strings.Contains(body, "cannot be undone"))
			}
		}
		if _, body := c.Get(dashboard); rowStatus(body, id) != "active" {
			t.Error("opening the dialog revoked the key")
		}
		resp, _ := c.Get(dashboard + "/keys/key_doesnotexist/revoke")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("dialog for an unknown key: %d, want 404", resp.StatusCode)
		}
	})

	t.Run("htmx", func(t *testing.T) {
		_, id := c.CreateKey("htmx victim")
		resp, body := c.Do(http.MethodDelete, dashboard+"/keys/"+id, nil, "HX-Request: true")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("DELETE: %d\n%s", resp.StatusCode, body)
		}
		if got := rowStatus(body, id); got != "revoked" {
			t.Errorf("the returned row has status %q, want revoked:\n%s", got, body)
		}
		if strings.Contains(body, "<html") || strings.Contains(body, `aria-label="Revoke`) {
			t.Error("want just the row, without a Revoke button")
		}
		var trig map[string]json.RawMessage
		if err := json.Unmarshal([]byte(resp.Header.Get("HX-Trigger")), &trig); err != nil {
			t.Fatalf("HX-Trigger %q: %v", resp.Header.Get("HX-Trigger"), err)
		}
		if _, ok := trig["closeModal"]; !ok {
			t.Errorf("HX-Trigger %s lacks closeModal", resp.Header.Get("HX-Trigger"))
		}
		if !strings.Contains(string(trig["showToast"]), "revoked") {
			t.Errorf("HX-Trigger %s lacks the toast", resp.Header.Get("HX-Trigger"))
		}
		// Revoking again changes nothing and still answers with the row.
		resp, body = c.Do(http.MethodDelete, dashboard+"/keys/"+id, nil, "HX-Request: true")
		if resp.StatusCode != http.StatusOK || rowStatus(body, id) != "revoked" {
			t.Errorf("second DELETE: %d, status %q", resp.StatusCode, rowStatus(body, id))
		}
		resp, _ = c.Do(http.MethodDelete, dashboard+"/keys/key_doesnotexist", nil, "HX-Request: true")
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("DELETE of an unknown key: %d, want 404", resp.StatusCode)
		}
	})

	t.Run("plain form", func(t *testing.T) {
		_, id := c.CreateKey("form victim")
		resp, body := c.Post(dashboard+"/keys/"+id+"/revoke", url.Values{})
		checkRedirect(t, resp, body, dashboard)
		// An htmx fragment has no place for the flash and must leave it for the page.
		c.Get(dashboard+"?status=active", "HX-Request: true")
		_, body = c.Get(dashboard)
		if rowStatus(body, id) != "revoked" {
			t.Errorf("row status %q after revoke, want revoked", rowStatus(body, id))
		}
		flash := regexp.MustCompile(`(?s)<div id="toasts"[^>]*>(.*?)</div>\s*</body>`)
		m := flash.FindStringSubmatch(body)
		if m == nil || !strings.Contains(m[1], "form victim") || !strings.Contains(m[1], "revoked") {
			t.Errorf("no flash naming the revoked key")
		}
		_, body = c.Get(dashboard)
		if m := flash.FindStringSubmatch(body); m == nil || strings.Contains(m[1], "revoked") {
			t.Error("the flash is shown a second time")
		}
	})

	t.Run("hide revoked", func(t *testing.T) {
		_, active := c.CreateKey("still active")
		_, gone := c.CreateKey("gone")
		c.Do(http.MethodDelete, dashboard+"/keys/"+gone, nil, "HX-Request: true")

		_, body := c.Get(dashboard)
		if rowStatus(body, gone) != "revoked" || rowStatus(body, active) != "active" {
			t.Error("the default list does not show revoked keys as history")
		}
		for _, htmx := range []bool{false, true} {
			var headers []string
			if htmx {
				headers = append(headers, "HX-Request: true")
			}
			resp, body := c.Get(dashboard+"?status=active", headers...)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("filtered list: %d", resp.StatusCode)
			}
			if rowStatus(body, gone) != "" || rowStatus(body, active) != "active" {
				t.Errorf("htmx %v: ?status=active shows revoked %q, active %q", htmx, rowStatus(body, gone), rowStatus(body, active))
			}
			if full := strings.Contains(body, "<html"); full == htmx {
				t.Errorf("htmx %v: full page = %v", htmx, full)
			}
		}
	})

	t.Run("all revoked and hidden", func(t *testing.T) {
		c := a.Signup(t, "allgone@example.com")
		_, id := c.CreateKey("only")
		c.Do(http.MethodDelete, dashboard+"/keys/"+id, nil, "HX-Request: true")
		_, body := c.Get(dashboard + "?status=active")
		if strings.Contains(body, "No API Keys Yet") {
			t.Error("an organization with revoked keys is shown the first-run empty state")
		}
		if rowStatus(body, id) != "" {
			t.Error("the hidden revoked key is listed")
		}
	})
}

func TestKeysPaging(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "many@example.com")
	const n = 53
	for i := range n {
		c.CreateKey(fmt.Sprintf("key %02d", i))
	}
	rowRE := regexp.MustCompile(`<tr[^>]*\sid="key-(key_[0-9A-Za-z]+)"`)
	_, body := c.Get(dashboard)
	first := rowRE.FindAllStringSubmatch(body, -1)
	next := regexp.MustCompile(`hx-get="(/dashboard/integrations/api\?cursor=[^"]+)"`).FindStringSubmatch(body)
	if len(first) >= n || next == nil {
		t.Fatalf("first page has %d of %d rows and load-more link %v", len(first), n, next != nil)
	}
	_, more := c.Get(strings.ReplaceAll(next[1], "&amp;", "&"), "HX-Request: true")
	rest := rowRE.FindAllStringSubmatch(more, -1)
	seen := map[string]bool{}
	for _, m := range append(first, rest...) {
		if seen[m[1]] {
			t.Errorf("key %s listed twice", m[1])
		}
		seen[m[1]] = true
	}
	if len(seen) != n {
		t.Errorf("%d distinct keys over two pages, want %d", len(seen), n)
	}
	if strings.Contains(more, "<html") || strings.Contains(more, "cursor=") {
		t.Error("the last page is not a bare set of rows without a load-more link")
	}
	if !strings.Contains(body, ">key 52<") || !strings.Contains(more, ">key 00<") {
		t.Error("not newest first across pages")
	}
	// With revoked keys hidden, "Load more" keeps the filter.
	_, body = c.Get(dashboard + "?status=active")
	if !strings.Contains(body, `hx-get="/dashboard/integrations/api?status=active&amp;cursor=`) {
		t.Error("the filtered first page's load-more link drops status=active")
	}
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	resp, body := a.Request(t, http.MethodGet, "/healthz", "")
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("healthz: %d %q, want 200 ok", resp.StatusCode, body)
	}
	// Load balancers and uptime checks often probe with HEAD.
	resp, body = a.Request(t, http.MethodHead, "/healthz", "")
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("HEAD /healthz: %d %q, want 200 and no body", resp.StatusCode, body)
	}
}

func manyScopes(n int) string {
	var s []string
	for i := range n {
		s = append(s, fmt.Sprintf("svc%d:read", i))
	}
	return strings.Join(s, " ")
}

// TestCreateKeyDialogScopes: the dialog groups the scopes, preselects only the products
// API's, and a key made with root and custom scopes holds exactly those.
func TestCreateKeyDialogScopes(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "scopes@example.com")
	_, body := c.Get(dashboard+"/keys/new", "HX-Request: true")
	groups := regexp.MustCompile(`(?s)<legend>([^<]+)</legend>(.*?)</fieldset>`).FindAllStringSubmatch(body, -1)
	want := map[string][]string{
		"Products API":              {"products:read", "products:write"},
		"Key management (root key)": {"keys:verify", "keys:read", "keys:write"},
	}
	if len(groups) != 2 {
		t.Fatalf("%d scope groups, want 2:\n%s", len(groups), body)
	}
	checked := regexp.MustCompile(`value="([a-z:]+)"\s+checked`)
	for _, g := range groups {
		values := regexp.MustCompile(`name="scopes" value="([a-z:]+)"`).FindAllStringSubmatch(g[2], -1)
		var got []string
		for _, v := range values {
			got = append(got, v[1])
		}
		if fmt.Sprint(got) != fmt.Sprint(want[g[1]]) {
			t.Errorf("group %q offers %v, want %v", g[1], got, want[g[1]])
		}
		if n := len(checked.FindAllString(g[2], -1)); (g[1] == "Products API") != (n == 2) || (g[1] != "Products API" && n != 0) {
			t.Errorf("group %q has %d preselected scopes", g[1], n)
		}
	}
	if !strings.Contains(body, `name="custom_scopes"`) {
		t.Error("no custom scopes field")
	}

	resp, body := c.Post(dashboard+"/keys", url.Values{"name": {"Billing"}, "scopes": {"keys:verify", "products:read"},
		"custom_scopes": {"  billing:read   search.query billing:read "}}, "HX-Request: true")
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d\n%s", resp.StatusCode, body)
	}
	id := regexp.MustCompile(`id="key-(key_[0-9A-Za-z]+)"`).FindStringSubmatch(body)[1]
	k, err := a.Server.Read.GetAPIKeyByID(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.Scopes, "products:read keys:verify billing:read search.query"; got != want {
		t.Errorf("scopes = %q, want %q", got, want)
	}
}
