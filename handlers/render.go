package handlers

import (
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

// Templates holds one parsed template set per page: the layout, the shared partials and
// the page itself. Parsed once at start, so a broken template stops the server from
// starting rather than failing a request.
type Templates struct {
	pages map[string]*template.Template
	// slots bounds how many pages are rendered and being sent at once. Rendering is CPU
	// work, so more at once than there are CPUs is no faster; but each page is in memory
	// until its client has taken it, and 32 clients loading the keys page (~250 KB) at
	// once held 32 of them.
	slots chan struct{}
	// chunks are the pieces rendered pages are written into and sent from.
	chunks sync.Pool
}

// pageChunk is the size of a piece of a rendered page: the largest of Go's small
// allocation classes, so pieces of every page reuse one another's memory.
const pageChunk = 32 << 10

// ParseTemplates parses every templates/pages/*.html in fsys (rooted at templates/).
func ParseTemplates(fsys fs.FS) (*Templates, error) {
	names, err := fs.Glob(fsys, "pages/*.html")
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("templates: no pages found")
	}
	t := &Templates{
		pages:  make(map[string]*template.Template),
		slots:  make(chan struct{}, max(2, runtime.GOMAXPROCS(0))),
		chunks: sync.Pool{New: func() any { return new([pageChunk]byte) }},
	}
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
	buf := &pageBuffer{pool: &s.Pages.chunks}
	defer buf.release()
	s.Pages.slots <- struct{}{}
	var freed atomic.Bool
	free := func() {
		if !freed.Swap(true) {
			<-s.Pages.slots
		}
	}
	defer free()
	if err := tmpl.ExecuteTemplate(buf, name, data); err != nil {
		return fmt.Errorf("render %s/%s: %w", page, name, err)
	}
	resp := c.Response()
	resp.Header().Add("Vary", "HX-Request")
	if resp.Header().Get(echo.HeaderContentType) == "" {
		resp.Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	}
	resp.WriteHeader(status)
	// A client that has not taken its page after slowSend gives up its slot, so clients
	// that do not read cannot hold back everyone else's pages.
	t := time.AfterFunc(slowSend, free)
	defer t.Stop()
	return buf.send(resp)
}

// slowSend is how long a page being sent keeps its render slot.
const slowSend = 100 * time.Millisecond

// pageBuffer is a rendered page in pieces of pageChunk bytes. Sending hands each piece
// back as soon as the connection has taken it, so a client that reads slowly holds
// only what it has not read yet, not its whole page.
type pageBuffer struct {
	chunks []*[pageChunk]byte
	last   int // bytes used in the last chunk
	pool   *sync.Pool
}

func (b *pageBuffer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(b.chunks) == 0 || b.last == pageChunk {
			b.chunks = append(b.chunks, b.pool.Get().(*[pageChunk]byte))
			b.last = 0
		}
		c := copy(b.chunks[len(b.chunks)-1][b.last:], p)
		b.last += c
		p = p[c:]
	}
	return n, nil
}

func (b *pageBuffer) send(w io.Writer) error {
	for i, c := range b.chunks {
		end := pageChunk
		if i == len(b.chunks)-1 {
			end = b.last
		}
		if _, err := w.Write(c[:end]); err != nil {
			return err
		}
		b.chunks[i] = nil
		b.pool.Put(c)
	}
	return nil
}

// release hands back the chunks not sent.
func (b *pageBuffer) release() {
	for _, c := range b.chunks {
		if c != nil {
			b.pool.Put(c)
		}
	}
	b.chunks = nil
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
