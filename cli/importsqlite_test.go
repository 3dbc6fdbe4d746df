package cli_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"keyport/app"
	"keyport/queries"
	"keyport/testapp"
)

// A SQLite database with accounts, keys (one revoked), products and audit events moves
// to PostgreSQL: counts per table, ids and order kept, the keys still work (or stay
// revoked) there, new rows continue after the copied ones, and a second import into the
// now non-empty target is refused.
func TestImportSQLite(t *testing.T) {
	testapp.PostgresOnly(t)
	file := filepath.Join(t.TempDir(), "keyport.db")
	old := testapp.New(t, func(c *app.Config) { c.DBPath = file })
	c := old.Signup(t, "move@example.com")
	key, _ := c.CreateKey("moving")
	revoked, revokedID := c.CreateKey("revoked")
	var productsBefore string
	for _, name := range []string{"one", "two", "three"} {
		if resp, body := old.API(t, "POST", "/api/products", key, `{"name":"`+name+`","price":1.5}`); resp.StatusCode != http.StatusCreated {
			t.Fatalf("create product: %d %s", resp.StatusCode, body)
		}
	}
	if resp, _ := c.Do(http.MethodDelete, "/dashboard/integrations/api/keys/"+revokedID, nil, "HX-Request: true"); resp.StatusCode != http.StatusOK {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	_, productsBefore = old.API(t, "GET", "/api/products", key, "")
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	target := testapp.DB(t)
	out := must(t, "", "import-sqlite", "-from", file, "-to", target)
	for _, want := range []string{"organizations  1", "users          1", "api_keys       2", "products       3"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}

	moved := testapp.New(t, func(c *app.Config) { c.DBPath = target })
	if resp, body := moved.API(t, "GET", "/api/products", key, ""); resp.StatusCode != http.StatusOK || body != productsBefore {
		t.Errorf("products on PostgreSQL: %d\n%s\nwant\n%s", resp.StatusCode, body, productsBefore)
	}
	if resp, _ := moved.API(t, "GET", "/api/products", revoked, ""); resp.StatusCode != http.StatusForbidden {
		t.Errorf("the revoked key on PostgreSQL: %d, want 403", resp.StatusCode)
	}
	if resp, body := moved.API(t, "POST", "/api/products", key, `{"name":"four","price":2}`); resp.StatusCode != http.StatusCreated {
		t.Errorf("a new product after the import: %d %s", resp.StatusCode, body)
	}
	if _, body := moved.API(t, "GET", "/api/products?limit=1", key, ""); !strings.Contains(body, `"four"`) {
		t.Errorf("the new product is not listed first: %s", body)
	}
	// The member signs in on PostgreSQL with the same password.
	member := moved.NewClient(t)
	if resp, body := member.Post("/login", map[string][]string{"email": {"move@example.com"}, "password": {testapp.Password}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("sign-in after the import: %d\n%s", resp.StatusCode, body)
	}
	// A key made after the import is numbered after the copied ones, so the key filters
	// of other replicas, reading past the highest number they saw, find it.
	_, newID := member.CreateKey("after the import")
	q := queries.New(moved.DB.Read)
	for _, id := range []string{revokedID, newID} {
		k, err := q.GetAPIKeyByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: issued %d", id, k.Issued)
		if id == newID && k.Issued != 3 {
			t.Errorf("the key made after the import has issue number %d, want 3 (after the copied 1 and 2)", k.Issued)
		}
	}

	code, _, stderr := run(t, "", "import-sqlite", "-from", file, "-to", target)
	if code == 0 || !strings.Contains(stderr, "not empty") {
		t.Errorf("second import: exit %d, stderr %q; want a refusal", code, stderr)
	}
}
