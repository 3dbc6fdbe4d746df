package handlers

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
)

// Templates holds one parsed template set per page: the layout, the shared partials and
// the page itself. Parsed once at start, so a broken template stops the server from
// starting rather than failing a request.
type Templates struct {
	pages map[string]*template.Template
	// buffers are rendered pages' buffers, reused: growing a new one to a keys page's
	// ~300 KB made half of that page's garbage.
	buffers sync.Pool
}

// maxPooledBuffer is the largest buffer kept for reuse, so one huge page does not stay
// in memory.
const maxPooledBuffer = 1 << 20

// ParseTemplates parses every templates/pages/*.html in fsys (rooted at templates/).
func ParseTemplates(fsys fs.FS) (*Templates, error) {
	names, err := fs.Glob(fsys, "pages/*.html")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("templates: no pages found")
	}
	t := &Templates{pages: make(map[string]*template.Template)}
	for _, name := range names {
		tmpl, err := template.New(path.Base(name)).Funcs(funcs).ParseFS(fsys, "layout.html", "partials/*.html", name)
		if err != nil {
			return nil, fmt.Errorf("templates: %s: %w", name, err)
		}
		t.pages[strings.TrimSuffix(path.Base(name), ".html")] = tmpl
	}
	return t, nil
}

var funcs = template.FuncMap{
	"relativeSteps": func() string { return relativeStepsJSON },
	"iso":           func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"exact": func(t time.Time) string {
		return t.UTC().Format("Jan 2, 2006, 15:04:05 UTC")
	},
}

// render writes page with data. An htmx request gets only the named block (a fragment
// of the same page) when block is not empty; everything else gets the full layout. The
// output is buffered so a template error never sends half a page.
func (s *Server) render(c echo.Context, status int, page, block string, data any) error {
	tmpl, ok := s.Pages.pages[page]
	if !ok {
		return fmt.Errorf("render: no page %q", page)
	}
	name := "layout"
	if block != "" && isHTMX(c) {
		name = block
	}
	buf, _ := s.Pages.buffers.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer func() {
		if buf.Cap() <= maxPooledBuffer {
			buf.Reset()
			s.Pages.buffers.Put(buf)
		}
	}()
	if err := tmpl.ExecuteTemplate(buf, name, data); err != nil {
		return fmt.Errorf("render %s/%s: %w", page, name, err)
	}
	c.Response().Header().Add("Vary", "HX-Request")
	// The response is written before render returns, so the buffer is free again after.
	return c.HTMLBlob(status, buf.Bytes())
}

func isHTMX(c echo.Context) bool {
	return c.Request().Header.Get("HX-Request") == "true"
}

// redirect sends a plain request on with 303 See Other and an htmx request with
// HX-Redirect, since htmx would otherwise swap the redirected page into its target.
func redirect(c echo.Context, to string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}
