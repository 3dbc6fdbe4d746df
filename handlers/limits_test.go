package handlers_test

import (
	"bytes"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport/testapp"
)

// post sends body to path as contentType with the client's cookies; chunked hides the
// length, as a client streaming the body would.
func post(t *testing.T, c *testapp.Client, a *testapp.App, path, contentType string, body []byte, chunked bool) (*http.Response, string) {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // unknown length: sent chunked
	}
	req, err := http.NewRequest(http.MethodPost, a.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := c.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if chunked && len(req.TransferEncoding) == 0 && req.ContentLength > 0 {
		t.Fatal("the request was not sent chunked")
	}
	return resp, string(b)
}

func multipartBody(t *testing.T, fields map[string]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		if err := w.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), w.FormDataContentType()
}

// Finding 3: page routes took any body (a 40 MB multipart field to /login grew the
// process by 250 MB) and echoed the field back. The process-level bound is in
// e2e.TestPageBodyMemory.
func TestPageBodyLimit(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "limits@example.com")
	marker := "OVERSIZED" + strings.Repeat("x", 100<<10)
	form := func(extra url.Values) []byte {
		v := url.Values{"email": {"limits@example.com"}, "password": {"wrong-password"}}
		for k, vs := range extra {
			v[k] = vs
		}
		return []byte(v.Encode())
	}
	mp, mpType := multipartBody(t, map[string]string{"email": marker, "password": "wrong-password"})
	const urlenc = "application/x-www-form-urlencoded"
	for _, tt := range []struct {
		name, path, ctype string
		body              []byte
		chunked           bool
		client            *testapp.Client
	}{
		{"login, length given", "/login", urlenc, form(url.Values{"email": {marker}}), false, a.NewClient(t)},
		{"login, chunked", "/login", urlenc, form(url.Values{"email": {marker}}), true, a.NewClient(t)},
		{"login, multipart", "/login", mpType, mp, false, a.NewClient(t)},
		{"login, multipart chunked", "/login", mpType, mp, true, a.NewClient(t)},
		{"signup, chunked", "/signup", urlenc, form(url.Values{"org": {marker}}), true, a.NewClient(t)},
		{"create key, chunked", dashboard + "/keys", urlenc, []byte(url.Values{"name": {marker}, "scopes": {"products:read"}}.Encode()), true, owner},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, tt.client, a, tt.path, tt.ctype, tt.body, tt.chunked)
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413", resp.StatusCode)
			}
			if strings.Contains(body, "OVERSIZED") {
				t.Error("the page echoes the oversized field")
			}
		})
	}
	if n := keyCount(t, a, "limits@example.com"); n != 0 {
		t.Errorf("%d keys created by an oversized form", n)
	}
	// Just under the limit is an ordinary form.
	resp, _ := post(t, a.NewClient(t), a, "/login", urlenc, form(url.Values{"pad": {strings.Repeat("p", 60<<10)}}), true)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a 60 KiB form: status %d, want 401 (wrong password)", resp.StatusCode)
	}
}

// A field longer than it may be is not shown again, even inside the body limit.
func TestOversizedFieldsNotEchoed(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "echo@example.com")
	long := "LONGFIELD" + strings.Repeat("y", 300)
	_, body := login(a.NewClient(t), long+"@example.com", "wrong-password")
	if strings.Contains(body, "LONGFIELD") {
		t.Error("sign-in echoes a 300-character email")
	}
	_, body = a.NewClient(t).Post("/signup", url.Values{"email": {"new@example.com"}, "password": {testapp.Password}, "org": {long}})
	if strings.Contains(body, "LONGFIELD") {
		t.Error("signup echoes a 300-character organization name")
	}
	_, body = owner.Post(dashboard+"/keys", url.Values{"name": {long}, "scopes": {"products:read"}})
	if strings.Contains(body, "LONGFIELD") {
		t.Error("the key form echoes a 300-character name")
	}
	// A field of allowed length is still kept for the user to correct the rest.
	_, body = login(a.NewClient(t), "someone@example.com", "wrong-password")
	if !strings.Contains(body, "someone@example.com") {
		t.Error("sign-in no longer keeps a normal email in the form")
	}
}

// Finding 5: POST /login?email=…&password=… signed in, putting credentials in URLs that
// proxies log.
func TestCredentialsFromBodyOnly(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	a.Signup(t, "query@example.com")
	q := url.Values{"email": {"query@example.com"}, "password": {testapp.Password}}.Encode()
	for _, path := range []string{"/login?" + q, "/signup?" + url.Values{"email": {"other@example.com"}, "password": {testapp.Password}}.Encode()} {
		c := a.NewClient(t)
		resp, _ := c.Post(path, url.Values{})
		if resp.StatusCode == http.StatusSeeOther || cookie(resp, sessionCookie) != "" {
			t.Errorf("POST %s with credentials in the query: status %d, signed in", strings.SplitN(path, "?", 2)[0], resp.StatusCode)
		}
	}
}

// Finding 5: dashboard pages were cacheable.
func TestPagesNotStored(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	c := a.Signup(t, "cache@example.com")
	for _, p := range []string{dashboard, "/dashboard/audit", "/dashboard/products", "/login"} {
		client := c
		if p == "/login" {
			client = a.NewClient(t)
		}
		resp, _ := client.Get(p)
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", p, got)
		}
	}
}
