package testapp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// Contract is the API's OpenAPI document (handlers/openapi.json), loaded and checked
// with kin-openapi.
type Contract struct {
	Doc    *openapi3.T
	router routers.Router
}

var (
	contractOnce sync.Once
	contract     *Contract
	contractErr  error
)

// LoadContract loads handlers/openapi.json once per test binary.
func LoadContract(t testing.TB) *Contract {
	t.Helper()
	contractOnce.Do(func() {
		raw, err := os.ReadFile(filepath.Join(Root(t), "handlers", "openapi.json"))
		if err != nil {
			contractErr = err
			return
		}
		doc, err := openapi3.NewLoader().LoadFromData(raw)
		if err != nil {
			contractErr = fmt.Errorf("openapi.json: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			contractErr = fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
			return
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			contractErr = fmt.Errorf("openapi.json: %w", err)
			return
		}
		contract = &Contract{Doc: doc, router: router}
	})
	if contractErr != nil {
		t.Fatal(contractErr)
	}
	return contract
}

// checkAPI wraps next so that every /api exchange a test makes is checked against the
// document: a request it calls valid must get an answer it describes (status, headers,
// body), and one it calls invalid must get a 4xx in the API's error shape. The document
// then cannot drift from what the server does in any test that goes through testapp.
func (c *Contract) checkAPI(t testing.TB, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") || r.URL.Path == "/api/openapi.json" {
			next.ServeHTTP(w, r)
			return
		}
		// A copy of what the server reads of the body (it may stop at its limit).
		var reqBody bytes.Buffer
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.TeeReader(r.Body, &limitedWriter{&reqBody, 1 << 20}), r.Body}
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)

		req := r.Clone(context.Background())
		req.Body = io.NopCloser(bytes.NewReader(reqBody.Bytes()))
		// keyport assigns its headers straight into the map: a name not in canonical
		// form would go out as written and be missed by Header.Get.
		for name := range rec.Header() {
			if canon := http.CanonicalHeaderKey(name); canon != name {
				t.Errorf("%s %s: header %q is not in canonical form %q", r.Method, r.URL.Path, name, canon)
			}
		}
		if err := c.check(req, rec.status, rec.Header(), rec.body.Bytes()); err != nil {
			t.Errorf("OpenAPI contract: %s %s → %d: %v\nbody: %.500s", r.Method, r.URL.Path, rec.status, err, rec.body.String())
		}
	})
}

func (c *Contract) check(req *http.Request, status int, header http.Header, body []byte) error {
	ctx := context.Background()
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		// Not a documented route or method: the router's 404 or 405.
		if status != http.StatusNotFound && status != http.StatusMethodNotAllowed {
			return fmt.Errorf("undocumented route (%v) answered other than 404 or 405", err)
		}
		return errorShape(body)
	}
	in := &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: presentKey},
	}
	reqErr := openapi3filter.ValidateRequest(ctx, in)
	respErr := openapi3filter.ValidateResponse(ctx, &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in, Status: status, Header: header, Body: io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	})
	if reqErr == nil {
		return respErr
	}
	if status < 400 || status >= 500 {
		return fmt.Errorf("the document calls the request invalid (%v), the server accepted it", reqErr)
	}
	var re *openapi3filter.ResponseError
	if errors.As(respErr, &re) && re.Reason == "status is not supported" {
		// A request outside the document may get a refusal it does not list.
		return errorShape(body)
	}
	return respErr
}

// presentKey checks only that the scheme's key was sent: whether it is good is the
// server's business, and its answer (401, 403) is checked against the document.
func presentKey(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	h := in.RequestValidationInput.Request.Header
	switch s := in.SecurityScheme; {
	case s.Type == "apiKey" && s.In == "header" && h.Get(s.Name) != "":
		return nil
	case s.Type == "http" && s.Scheme == "bearer" && len(h.Get("Authorization")) > 7 &&
		strings.EqualFold(h.Get("Authorization")[:7], "bearer "):
		return nil
	}
	return errors.New("no key")
}

// errorShape checks body is the API's error: exactly a message and a code.
func errorShape(body []byte) error {
	var fields map[string]any
	if err := json.Unmarshal(body, &fields); err != nil {
		return fmt.Errorf("error body is not JSON: %v", err)
	}
	msg, _ := fields["message"].(string)
	code, _ := fields["code"].(string)
	if msg == "" || code == "" || len(fields) != 2 {
		return errors.New("error body is not {message, code}")
	}
	return nil
}

// recorder passes a response through and keeps a copy.
type recorder struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// limitedWriter keeps at most n bytes and drops the rest.
type limitedWriter struct {
	buf *bytes.Buffer
	n   int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if room := w.n - w.buf.Len(); room > 0 {
		w.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
