package handlers_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"keyport/apikey"
	"keyport/testapp"
)

// exchange sends one raw HTTP/1.1 request over a kept-alive connection and returns the
// response exactly as it came over the wire, status line, headers and body.
func wireExchange(t *testing.T, conn net.Conn, br *bufio.Reader, wire *bytes.Buffer, method, path, body string, headers ...string) string {
	t.Helper()
	var req strings.Builder
	req.WriteString(method + " " + path + " HTTP/1.1\r\nHost: keyport.test\r\n")
	for _, h := range headers {
		req.WriteString(h + "\r\n")
	}
	if body != "" {
		req.WriteString("Content-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	req.WriteString("\r\n" + body)
	if _, err := io.WriteString(conn, req.String()); err != nil {
		t.Fatal(err)
	}
	wire.Reset()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if n := br.Buffered(); n > 0 {
		t.Fatalf("%d bytes past the response", n)
	}
	return wire.String()
}

// The parts of an answer that differ on every request: each becomes its placeholder.
var wireVarying = []struct {
	re   *regexp.Regexp
	with string
}{
	{regexp.MustCompile(`(?m)^Date: .*\r$`), "Date: <date>\r"},
	{regexp.MustCompile(`(?m)^X-Request-Id: [0-9a-f]{16}\r$`), "X-Request-Id: <id>\r"},
	{regexp.MustCompile(`prod_[0-9A-Za-z]+`), "prod_<id>"},
	{regexp.MustCompile(`"createdAt":"[^"]+"`), `"createdAt":"<time>"`},
}

// TestAPIAnswersOnTheWire pins the API's hottest answers byte for byte, headers (their
// names, values and order) and bodies, as keyport sent them before its headers were
// written straight into the header map instead of through Header.Set: recorded from main
// at b8703a3, with only the date, request id, product id and creation time replaced.
func TestAPIAnswersOnTheWire(t *testing.T) {
	t.Parallel()
	a := testapp.New(t)
	owner := a.Signup(t, "wire@example.com")
	key, _ := owner.CreateKey("wire")
	unknown, err := apikey.Generate()
	if err != nil {
		t.Fatal(err)
	}
	limited := testapp.New(t, withRateLimit(1))
	lowner := limited.Signup(t, "wire-limited@example.com")
	lkey, _ := lowner.CreateKey("limited")

	tests := []struct {
		name, method, path, body string
		headers                  []string
		app                      *testapp.App
		want                     string
	}{
		{"201 created", "POST", "/api/products", `{"name":"Widget","price":12.34}`, []string{"X-Api-Key: " + key}, a,
			"HTTP/1.1 201 Created\r\n" +
				wireCSP +
				"Content-Type: application/json\r\n" +
				"Location: /api/products/prod_<id>\r\n" +
				"Ratelimit-Limit: 600\r\n" +
				"Ratelimit-Remaining: 599\r\n" +
				"Ratelimit-Reset: 1\r\n" +
				"Referrer-Policy: same-origin\r\n" +
				wireTail +
				"Content-Length: 106\r\n" +
				"\r\n" +
				`{"id":"prod_<id>","name":"Widget","price":12.34,"createdAt":"<time>"}` + "\n"},
		{"403 unknown key", "GET", "/api/products", "", []string{"X-Api-Key: " + unknown}, a,
			"HTTP/1.1 403 Forbidden\r\n" +
				wireCSP +
				"Content-Type: application/json\r\n" +
				"Referrer-Policy: same-origin\r\n" +
				wireTail +
				"Content-Length: 55\r\n" +
				"\r\n" +
				`{"message":"Invalid API Key","code":"invalid_api_key"}` + "\n"},
		{"404 no work", "GET", "/api/none", "", nil, a,
			"HTTP/1.1 404 Not Found\r\n" +
				wireCSP +
				"Content-Type: application/json\r\n" +
				"Referrer-Policy: same-origin\r\n" +
				wireTail +
				"Content-Length: 43\r\n" +
				"\r\n" +
				`{"message":"Not found","code":"not_found"}` + "\n"},
		{"401 no key", "GET", "/api/products", "", nil, a,
			"HTTP/1.1 401 Unauthorized\r\n" +
				wireCSP +
				"Content-Type: application/json\r\n" +
				"Referrer-Policy: same-origin\r\n" +
				"Www-Authenticate: Bearer realm=\"keyport\"\r\n" +
				wireTail +
				"Content-Length: 57\r\n" +
				"\r\n" +
				`{"message":"API Key required","code":"api_key_required"}` + "\n"},
		// Spends the limited key's one request a minute; its answer is not pinned.
		{"200 first", "GET", "/api/products", "", []string{"X-Api-Key: " + lkey}, limited, ""},
		{"429 limited", "GET", "/api/products", "", []string{"X-Api-Key: " + lkey}, limited,
			"HTTP/1.1 429 Too Many Requests\r\n" +
				wireCSP +
				"Content-Type: application/json\r\n" +
				"Ratelimit-Limit: 1\r\n" +
				"Ratelimit-Remaining: 0\r\n" +
				"Ratelimit-Reset: 60\r\n" +
				"Referrer-Policy: same-origin\r\n" +
				"Retry-After: 60\r\n" +
				wireTail +
				"Content-Length: 110\r\n" +
				"\r\n" +
				`{"message":"Rate limit exceeded: this key may make 1 requests a minute; retry in 60 s","code":"rate_limited"}` + "\n"},
	}
	conns := map[*testapp.App]struct {
		conn net.Conn
		br   *bufio.Reader
		wire *bytes.Buffer
	}{}
	for _, app := range []*testapp.App{a, limited} {
		conn, err := net.Dial("tcp", app.HTTP.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		wire := new(bytes.Buffer)
		conns[app] = struct {
			conn net.Conn
			br   *bufio.Reader
			wire *bytes.Buffer
		}{conn, bufio.NewReader(io.TeeReader(conn, wire)), wire}
	}
	for _, tt := range tests {
		c := conns[tt.app]
		got := wireExchange(t, c.conn, c.br, c.wire, tt.method, tt.path, tt.body, tt.headers...)
		for _, v := range wireVarying {
			got = v.re.ReplaceAllString(got, v.with)
		}
		if tt.want != "" && got != tt.want {
			t.Errorf("%s: on the wire\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

// The first and the last headers of every answer, as net/http sorts them (Date, and
// Content-Length, are its own, written last).
const (
	wireCSP = "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
		"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'\r\n"
	wireTail = "X-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\nX-Request-Id: <id>\r\nDate: <date>\r\n"
)
