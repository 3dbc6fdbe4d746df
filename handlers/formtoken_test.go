package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyport/testapp"
)

var formTokenRE = regexp.MustCompile(`name="form_token" value="([^"]+)"`)

// formToken opens the create form (as a page, or as htmx's dialog) and returns its token.
func formToken(t *testing.T, c *testapp.Client, headers ...string) string {
	t.Helper()
	resp, body := c.Get(dashboard+"/keys/new", headers...)
	m := formTokenRE.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("create form: %d, token %v\n%s", resp.StatusCode, m, body)
	}
	return m[1]
}

func TestCreateFormIsOneTime(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	const email = "once@example.com"
	c := a.Signup(t, email)
	form := url.Values{"name": {"Cron"}, "expires_in_days": {"0"}, "scopes": {"products:read"}, "form_token": {formToken(t, c)}}

	if resp, body := c.Post(dashboard+"/keys", form); resp.StatusCode != http.StatusCreated || !keyRE.MatchString(body) {
		t.Fatalf("first post: %d, want 201 with the key", resp.StatusCode)
	}
	// The browser re-sends the same body when the result page is reloaded.
	resp, body := c.Post(dashboard+"/keys", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != dashboard {
		t.Fatalf("re-sent form: %d to %q, want 303 to the list\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if keyRE.MatchString(body) {
		t.Error("the re-sent form's answer holds a key")
	}
	if _, page := c.Get(dashboard); !strings.Contains(page, "This form was already sent: no second key was created.") {
		t.Error("the list after a re-sent form does not say why nothing happened")
	}
	resp, body = c.Post(dashboard+"/keys", form, "HX-Request: true")
	if resp.StatusCode != http.StatusConflict || keyRE.MatchString(body) {
		t.Errorf("re-sent form through htmx: %d, want 409 and no key", resp.StatusCode)
	}
	if got := keyCount(t, a, email); got != 1 {
		t.Errorf("one form sent three times made %d keys, want 1", got)
	}

	t.Run("a failed create leaves the token usable", func(t *testing.T) {
		f := url.Values{"name": {""}, "scopes": {"products:read"}, "form_token": {formToken(t, c, "HX-Request: true")}}
		if resp, _ := c.Post(dashboard+"/keys", f, "HX-Request: true"); resp.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("blank name: %d, want 422", resp.StatusCode)
		}
		f.Set("name", "Second")
		if resp, _ := c.Post(dashboard+"/keys", f, "HX-Request: true"); resp.StatusCode != http.StatusCreated {
			t.Errorf("corrected form with the same token: %d, want 201", resp.StatusCode)
		}
	})
	t.Run("another user's token or an old one is refused with a fresh form", func(t *testing.T) {
		other := formToken(t, a.Signup(t, "other@example.com"))
		old := formToken(t, c)
		a.Clock.Advance(25 * time.Hour)
		for name, token := range map[string]string{"another user's": other, "a day old": old} {
			f := url.Values{"name": {"Late"}, "scopes": {"products:read"}, "form_token": {token}}
			resp, body := c.Post(dashboard+"/keys", f)
			if resp.StatusCode != http.StatusUnprocessableEntity || formError(body) != "This form had expired. Check the fields and press Create key again." {
				t.Errorf("%s token: %d %q, want 422 saying the form expired", name, resp.StatusCode, formError(body))
			}
			if m := formTokenRE.FindStringSubmatch(body); m == nil || m[1] == token {
				t.Errorf("%s token: the form came back without a new token", name)
			}
		}
	})
	if got := keyCount(t, a, email); got != 2 {
		t.Errorf("%d keys, want the first and the corrected one", got)
	}
}

func TestCreateKeepsTheListFilter(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "filter@example.com")
	_, revoked := c.CreateKey("gone")
	if resp, _ := c.Post(dashboard+"/keys/"+revoked+"/revoke", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	filtered := dashboard + "?status=active"

	// Without JavaScript the filter travels in the forms; with htmx it is the page's URL.
	_, page := c.Get(filtered)
	if !strings.Contains(page, `<input type="hidden" name="status" value="active">`) {
		t.Fatal("the filtered list's create button does not carry the filter")
	}
	_, formPage := c.Get(dashboard + "/keys/new?status=active")
	if !strings.Contains(formPage, `<input type="hidden" name="status" value="active">`) || !strings.Contains(formPage, `href="`+strings.ReplaceAll(filtered, "&", "&amp;")+`"`) {
		t.Error("the create page forgets the filter")
	}
	for _, tt := range []struct {
		name    string
		form    url.Values
		headers []string
	}{
		{"without JavaScript", url.Values{"status": {"active"}}, nil},
		{"with htmx", url.Values{}, []string{"HX-Request: true", "HX-Current-URL: " + a.URL + filtered}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.form.Set("name", "new "+tt.name)
			tt.form["scopes"] = []string{"products:read"}
			resp, body := c.Post(dashboard+"/keys", tt.form, tt.headers...)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create: %d", resp.StatusCode)
			}
			if rowStatus(body, revoked) != "" {
				t.Error("the list after the create shows the revoked key the filter hides")
			}
			if !strings.Contains(body, `href="/dashboard/integrations/api?status=active" data-close-modal data-done>Done`) {
				t.Error("Done does not lead back to the filtered list")
			}
		})
	}
	// Unfiltered, the revoked key is listed after a create.
	_, body := c.Post(dashboard+"/keys", url.Values{"name": {"plain"}, "scopes": {"products:read"}}, "HX-Request: true", "HX-Current-URL: "+a.URL+dashboard)
	if rowStatus(body, revoked) != "revoked" {
		t.Error("without the filter the revoked key is missing after a create")
	}
}
