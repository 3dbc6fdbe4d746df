package handlers_test

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"keyport/testapp"
)

var (
	auditActionRE = regexp.MustCompile(`<tr class="audit-row" data-action="([a-z_]+)">`)
	moreURLRE     = regexp.MustCompile(`hx-get="([^"]+)" hx-target="#load-more"`)
)

func TestAuditLog(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "alice@example.com")
	if resp, body := login(a.NewClient(t), "alice@example.com", testapp.Password); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d\n%s", resp.StatusCode, body)
	}
	login(a.NewClient(t), "alice@example.com", "wrong password")
	login(a.NewClient(t), "nobody@example.com", "wrong password")
	_, id := c.CreateKey("deploy <bot>")
	newKey := rollKey(t, c, id, "1h")
	_, body := c.Get("/dashboard/integrations/api")
	newID := regexp.MustCompile(`<tr id="key-(key_[0-9A-Za-z]+)"`).FindStringSubmatch(body)[1]
	if resp, _ := c.Post("/dashboard/integrations/api/keys/"+newID+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}

	b := a.Signup(t, "bob@example.com")
	b.CreateKey("bob-secret-key")
	login(a.NewClient(t), "bob@example.com", "wrong password")

	resp, body := c.Get("/dashboard/audit")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("audit page: status %d\n%s", resp.StatusCode, body)
	}
	var got []string
	for _, m := range auditActionRE.FindAllStringSubmatch(body, -1) {
		got = append(got, m[1])
	}
	want := []string{"key_revoked", "key_rolled", "key_created", "login_failed", "login", "signup"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("alice's events, newest first = %v, want %v", got, want)
	}
	for _, s := range []string{
		"Rolled key", "Revoked key", "Created key", "Failed sign-in", "Signed in", "Signed up",
		"deploy &lt;bot&gt;", "alice@example.com", "<code>127.0.0.1</code>", "grace period: 1 hour",
		`title="` + a.Clock.Now().UTC().Format("Jan 2, 2006, 15:04:05 UTC") + `">just now</time>`,
		`href="/dashboard/audit" aria-current="page"`,
	} {
		if !strings.Contains(body, s) {
			t.Errorf("alice's audit page lacks %q", s)
		}
	}
	for _, s := range []string{"bob", "nobody@example.com", newKey, "<bot>"} {
		if strings.Contains(body, s) {
			t.Errorf("alice's audit page shows %q", s)
		}
	}

	_, body = b.Get("/dashboard/audit")
	got = got[:0]
	for _, m := range auditActionRE.FindAllStringSubmatch(body, -1) {
		got = append(got, m[1])
	}
	if want := []string{"login_failed", "key_created", "signup"}; strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("bob's events = %v, want %v", got, want)
	}
	if strings.Contains(body, "alice") || strings.Contains(body, "deploy") {
		t.Error("bob's audit page shows alice's events")
	}
}

// Paging: 50 rows a page, "Load more" appends the next page (htmx) or opens it (no
// JavaScript), and nothing is repeated or skipped.
func TestAuditLogPaging(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "pager@example.com")
	for i := range 59 {
		c.CreateKey("key " + strconv.Itoa(i))
	}
	// 60 events: signup and 59 key_created.
	_, body := c.Get("/dashboard/audit")
	if got, want := strings.Count(body, `class="audit-row"`), 50; got != want {
		t.Fatalf("first page: %d rows, want %d", got, want)
	}
	if !strings.Contains(body, ">key 58<") || strings.Contains(body, ">key 8<") {
		t.Fatal("first page is not the newest 50 events")
	}
	m := moreURLRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("first page has no Load more link:\n%s", body)
	}
	next := strings.ReplaceAll(m[1], "&amp;", "&")

	resp, body := c.Get(next, "HX-Request: true")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "<html") {
		t.Fatalf("next page (htmx): status %d, want 200 and a fragment\n%s", resp.StatusCode, body)
	}
	if got, want := strings.Count(body, `class="audit-row"`), 10; got != want {
		t.Errorf("next page: %d rows, want %d", got, want)
	}
	if !strings.Contains(body, ">key 8<") || !strings.Contains(body, `data-action="signup"`) || strings.Contains(body, ">key 9<") {
		t.Errorf("next page does not hold exactly the 10 oldest events:\n%s", body)
	}
	if strings.Contains(body, "load-more") {
		t.Error("last page has a Load more link")
	}

	resp, body = c.Get(next)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<html") || strings.Count(body, `class="audit-row"`) != 10 {
		t.Errorf("next page without htmx: status %d, want a full page of 10 rows", resp.StatusCode)
	}
	if resp, _ := c.Get("/dashboard/audit?cursor=!!"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: status %d, want 400", resp.StatusCode)
	}
	if resp, _ := a.NewClient(t).Get("/dashboard/audit"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("signed out: status %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestProductsPage(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "shop@example.com")
	empty := func() string { _, b := c.Get("/dashboard/products"); return b }()
	if !strings.Contains(empty, "No products yet") {
		t.Errorf("empty products page lacks the empty state:\n%s", empty)
	}
	writer, writerID := c.CreateKey("Checkout <service>")
	other, _ := c.CreateKey("Importer")
	for _, p := range []struct{ key, body string }{
		{writer, `{"name":"Widget","price":9.99}`},
		{other, `{"name":"Gadget","price":100}`},
		{writer, `{"name":"Dime","price":0.1}`},
		{writer, `{"name":"Big","price":1000000000}`},
	} {
		if resp, body := a.API(t, "POST", "/api/products", p.key, p.body); resp.StatusCode != http.StatusCreated {
			t.Fatalf("create %s: %d %s", p.body, resp.StatusCode, body)
		}
		a.Clock.Advance(time.Minute)
	}
	// The creating key stays named after it is revoked.
	if resp, _ := c.Post("/dashboard/integrations/api/keys/"+writerID+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	b := a.Signup(t, "rival@example.com")
	rivalKey, _ := b.CreateKey("rival")
	a.API(t, "POST", "/api/products", rivalKey, `{"name":"Rival thing","price":1}`)

	resp, body := c.Get("/dashboard/products")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("products page: status %d\n%s", resp.StatusCode, body)
	}
	rowRE := regexp.MustCompile(`(?s)<tr id="product-prod_[0-9A-Za-z]+" class="product-row">(.*?)</tr>`)
	rows := rowRE.FindAllStringSubmatch(body, -1)
	want := []struct{ name, price, key string }{
		{"Big", "1000000000", "Checkout &lt;service&gt;"},
		{"Dime", "0.1", "Checkout &lt;service&gt;"},
		{"Gadget", "100", "Importer"},
		{"Widget", "9.99", "Checkout &lt;service&gt;"},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d product rows, want %d:\n%s", len(rows), len(want), body)
	}
	hintRE := regexp.MustCompile(`<code class="hint">kp_[0-9A-Za-z]{4}…[0-9A-Za-z]{4}</code>`)
	for i, w := range want {
		row := rows[i][1]
		for _, s := range []string{`title="` + w.name + `">` + w.name + "</span>", `data-label="Price">` + w.price + "</td>", w.key} {
			if !strings.Contains(row, s) {
				t.Errorf("row %d lacks %q:\n%s", i, s, row)
			}
		}
		if !hintRE.MatchString(row) {
			t.Errorf("row %d lacks the key hint:\n%s", i, row)
		}
	}
	if !strings.Contains(rows[0][1], ">1 minute ago</time>") || !strings.Contains(rows[3][1], ">4 minutes ago</time>") {
		t.Errorf("created times are not relative to now:\n%s", body)
	}
	if strings.Contains(body, "Rival thing") || strings.Contains(body, writer) {
		t.Error("products page shows another organization's product or a full key")
	}
	if !strings.Contains(body, `href="/dashboard/products" aria-current="page"`) {
		t.Error("the Products nav link is not marked current")
	}
}

func TestProductsPagePaging(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "many@example.com")
	key, _ := c.CreateKey("bulk")
	for i := range 53 {
		if resp, body := a.API(t, "POST", "/api/products", key, `{"name":"p`+strconv.Itoa(i)+`","price":1}`); resp.StatusCode != http.StatusCreated {
			t.Fatalf("create: %d %s", resp.StatusCode, body)
		}
	}
	_, body := c.Get("/dashboard/products")
	if got, want := strings.Count(body, `class="product-row"`), 50; got != want {
		t.Fatalf("first page: %d rows, want %d", got, want)
	}
	m := moreURLRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no Load more link")
	}
	_, body = c.Get(m[1], "HX-Request: true")
	if got, want := strings.Count(body, `class="product-row"`), 3; got != want {
		t.Errorf("second page: %d rows, want %d", got, want)
	}
	for _, name := range []string{`">p0</span>`, `">p1</span>`, `">p2</span>`} {
		if !strings.Contains(body, name) {
			t.Errorf("second page lacks %s", name)
		}
	}
}

// The keys table shows when a key expires, and that it has.
func TestExpiryShownInTable(t *testing.T) {
	a := testapp.New(t)
	c := a.Signup(t, "exp@example.com")
	key, id := c.CreateKey("weekly", testapp.KeyOptions{ExpiresInDays: 7})
	_, never := c.CreateKey("forever")

	steps := []struct {
		advance      time.Duration
		label, badge string
		status       int
	}{
		{0, "in 7 days", "Active", http.StatusOK},
		{4 * 24 * time.Hour, "in 3 days", "Expiring soon", http.StatusOK},
		{3*24*time.Hour - time.Second, "in a few seconds", "Expiring soon", http.StatusOK},
		{time.Second, "expired", "Expired", http.StatusForbidden},
	}
	for _, s := range steps {
		a.Clock.Advance(s.advance)
		row := keyRowHTML(t, c, id)
		if !strings.Contains(row, ">"+s.label+"</time>") || !strings.Contains(row, ">"+s.badge+"</span>") {
			t.Errorf("after %v more: row lacks %q / %q:\n%s", s.advance, s.label, s.badge, row)
		}
		if resp, body := a.API(t, "GET", "/api/products", key, ""); resp.StatusCode != s.status {
			t.Errorf("after %v more: API status %d, want %d\n%s", s.advance, resp.StatusCode, s.status, body)
		}
	}
	if row := keyRowHTML(t, c, never); !strings.Contains(row, `<span class="muted">Never</span></td>`) || !strings.Contains(row, ">Active</span>") {
		t.Errorf("never-expiring key:\n%s", row)
	}
}

func TestErrorPagesSayWhatHappened(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "lost@example.com")
	titleRE := regexp.MustCompile(`<h1>([^<]*)</h1>`)
	messageRE := regexp.MustCompile(`<div class="modal-body"><p>([^<]*)</p>`)
	for _, path := range []string{"/no-such-page", dashboard + "/keys/key_unknown/revoke"} {
		resp, body := c.Get(path)
		title, message := titleRE.FindStringSubmatch(body), messageRE.FindStringSubmatch(body)
		if resp.StatusCode != http.StatusNotFound || title == nil || message == nil {
			t.Fatalf("GET %s: %d, want a 404 page with a title and a message\n%s", path, resp.StatusCode, body)
		}
		if title[1] != "Page not found" || strings.Contains(message[1], "Not Found") {
			t.Errorf("GET %s: the page reads %q / %q, want a title and a message that explains", path, title[1], message[1])
		}
	}
}
