package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"keyport/testapp"
)

// One organization can never see, revoke or use another's keys or products, and is
// told "not found" rather than "forbidden".
func TestOrganizationIsolation(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	alice := a.Signup(t, "alice@example.com")
	aliceKey, aliceKeyID := alice.CreateKey("alice-production")
	bob := a.Signup(t, "bob@example.com")
	bobKey, _ := bob.CreateKey("bob-key")

	resp, body := a.API(t, http.MethodPost, "/api/products", aliceKey, `{"name":"alice-widget","price":5}`)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	var aliceProduct struct{ ID string }
	if err := json.Unmarshal([]byte(body), &aliceProduct); err != nil {
		t.Fatal(err)
	}
	if resp, body := a.API(t, http.MethodPost, "/api/products", bobKey, `{"name":"bob-widget","price":5}`); resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}

	t.Run("keys list", func(t *testing.T) {
		for _, q := range []string{"", "?status=active"} {
			resp, body := bob.Get(dashboard + q)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("bob's dashboard%s: %d", q, resp.StatusCode)
			}
			if strings.Contains(body, "alice-production") || strings.Contains(body, aliceKeyID) {
				t.Errorf("bob's dashboard%s shows alice's key", q)
			}
			if !strings.Contains(body, "bob-key") {
				t.Errorf("bob's dashboard%s does not show bob's own key", q)
			}
		}
	})

	t.Run("revoke and roll", func(t *testing.T) {
		for _, r := range []struct {
			method, path string
			htmx         bool
		}{
			{"GET", dashboard + "/keys/" + aliceKeyID + "/revoke", false},
			{"GET", dashboard + "/keys/" + aliceKeyID + "/revoke", true},
			{"POST", dashboard + "/keys/" + aliceKeyID + "/revoke", false},
			{"DELETE", dashboard + "/keys/" + aliceKeyID, true},
			{"DELETE", dashboard + "/keys/" + aliceKeyID, false},
			{"GET", dashboard + "/keys/" + aliceKeyID + "/roll", true},
			{"POST", dashboard + "/keys/" + aliceKeyID + "/roll?grace=0", false},
			{"POST", dashboard + "/keys/" + aliceKeyID + "/roll?grace=0", true},
		} {
			var headers []string
			if r.htmx {
				headers = append(headers, "HX-Request: true")
			}
			resp, body := bob.Do(r.method, r.path, nil, headers...)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("%s %s (htmx %v) as bob: status %d, want 404", r.method, r.path, r.htmx, resp.StatusCode)
			}
			if strings.Contains(body, "alice-production") {
				t.Errorf("%s %s (htmx %v) as bob: the answer names alice's key", r.method, r.path, r.htmx)
			}
		}
		if resp, body := a.API(t, http.MethodGet, "/api/products", aliceKey, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("alice's key after bob's attempts: %d %s", resp.StatusCode, body)
		}
		if _, body := alice.Get(dashboard); rowStatus(body, aliceKeyID) != "active" {
			t.Errorf("alice's key is shown %q, want active", rowStatus(body, aliceKeyID))
		}
		if got := keyCount(t, a, "alice@example.com"); got != 1 {
			t.Errorf("alice has %d keys, want 1", got)
		}
	})

	t.Run("products", func(t *testing.T) {
		resp, body := a.API(t, http.MethodGet, "/api/products/"+aliceProduct.ID, bobKey, "")
		checkAPIError(t, resp, body, http.StatusNotFound, "not_found", "")
		_, body = a.API(t, http.MethodGet, "/api/products?limit=100", bobKey, "")
		if strings.Contains(body, "alice-widget") || !strings.Contains(body, "bob-widget") {
			t.Errorf("bob's product list: %s", body)
		}
		_, body = a.API(t, http.MethodGet, "/api/products?limit=100", aliceKey, "")
		if strings.Contains(body, "bob-widget") || !strings.Contains(body, "alice-widget") {
			t.Errorf("alice's product list: %s", body)
		}
		if resp, _ := a.API(t, http.MethodGet, "/api/products/"+aliceProduct.ID, aliceKey, ""); resp.StatusCode != http.StatusOK {
			t.Errorf("alice reading her own product: %d", resp.StatusCode)
		}
	})
}
