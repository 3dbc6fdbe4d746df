package handlers

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/handlers/parse"
	"keyport/input"
	"keyport/keyauth"
	"keyport/queries"
	"keyport/randid"
)

const maxBody = 64 << 10

// productsPath is where a product's URL starts.
const productsPath = "/api/products/"

// Product is the API's product representation, as stored: its JSON, written by
// appendJSON, formats the price and time straight into the answer instead of into
// strings that are thrown away once copied there.
type Product struct {
	ID         string
	Name       string
	PriceCents int64
	CreatedAt  int64 // Unix ms
}

// MarshalJSON is for c.JSON (?pretty), which indents what it returns.
func (p Product) MarshalJSON() ([]byte, error) { return p.appendJSON(nil), nil }

// Page is one page of a list, newest first.
type Page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"nextCursor"`
}

// appendJSON appends p as {"id","name","price","createdAt"}: the price a JSON number as
// parse.FormatCents writes it, the time a string as apiTime does.
func (p Product) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, p.ID)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, p.Name)
	b = append(b, `,"price":`...)
	b = parse.AppendCents(b, p.PriceCents)
	b = append(b, `,"createdAt":"`...) // the time needs no escape
	b = appendAPITime(b, p.CreatedAt)
	return append(b, `"}`...)
}

// appendProductPage appends p as encoding/json writes it.
func appendProductPage(p Page[Product], b []byte) []byte {
	if p.Data == nil {
		b = append(b, `{"data":null`...)
	} else {
		b = append(b, `{"data":[`...)
		for i, v := range p.Data {
			if i > 0 {
				b = append(b, ',')
			}
			b = v.appendJSON(b)
		}
		b = append(b, ']')
	}
	b = append(b, `,"nextCursor":`...)
	if p.NextCursor == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *p.NextCursor)
	}
	return append(b, '}')
}

// readBody reads an API request's body, at most maxBody bytes. io.ReadAll would start
// with 512 bytes and grow; a body that says its length gets a buffer of exactly that, plus
// the byte that lets the read see the end without growing it.
func readBody(c echo.Context) ([]byte, error) {
	size := 512
	if n := c.Request().ContentLength; n >= 0 && n <= maxBody {
		size = int(n) + 1
	}
	body := make([]byte, 0, size)
	r := io.LimitReader(c.Request().Body, maxBody+1)
	for {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)]
		}
		n, err := r.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errAPIBodyUnreadable
		}
	}
	if len(body) > maxBody {
		return nil, errAPIBodyTooLarge
	}
	return body, nil
}

// apiTimeLayout is the API's times: RFC 3339 in UTC, to the millisecond.
const apiTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// apiTime formats a Unix-ms time as apiTimeLayout.
func apiTime(ms int64) string {
	var buf [32]byte
	return string(appendAPITime(buf[:0], ms))
}

// appendAPITime appends a Unix-ms time as apiTimeLayout. Every product answer has one:
// digits put in place cost a tenth of what Format's reading of the layout does.
func appendAPITime(dst []byte, ms int64) []byte {
	t := time.UnixMilli(ms).UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, apiTimeLayout)
	}
	hour, minute, sec := t.Clock()
	n := len(dst)
	dst = append(dst, "0000-00-00T00:00:00.000Z"...)
	b := dst[n:]
	digits := func(at, n, width int) {
		for i := at + width - 1; i >= at; i-- {
			b[i] = byte('0' + n%10)
			n /= 10
		}
	}
	digits(0, year, 4)
	digits(5, int(month), 2)
	digits(8, day, 2)
	digits(11, hour, 2)
	digits(14, minute, 2)
	digits(17, sec, 2)
	digits(20, t.Nanosecond()/1e6, 3)
	return dst
}

func (s *Server) createProduct(c echo.Context, k keyauth.Key) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	in, err := parse.Product(body)
	if err != nil {
		return err
	}
	t := s.Now()
	now := t.UnixMilli()
	// The id and the Location that names it are one string.
	var buf [64]byte
	loc := string(randid.AppendOrdered(append(buf[:0], productsPath...), "prod", t))
	id := loc[len(productsPath):]
	row := queries.CreateProductParams{
		ID: id, OrgID: k.OrgID, Name: in.Name, PriceCents: in.PriceCents, CreatedAt: now,
		KeyID: sql.NullString{String: k.ID, Valid: true},
	}
	if err := s.Commit.Exec(c.Request().Context(), func(ctx context.Context, q *queries.Queries) error {
		return q.CreateProduct(ctx, row)
	}); err != nil {
		return err
	}
	s.Metrics.ProductCreated()
	c.Response().Header()[hdrLocation] = []string{loc}
	return answerJSON(s, c, http.StatusCreated, Product{id, in.Name, in.PriceCents, now}, Product.appendJSON)
}

func (s *Server) listProducts(c echo.Context, k keyauth.Key) error {
	page, err := apiPage(c, func(before, limit int64) ([]queries.ListProductsRow, error) {
		return s.Read.ListProducts(c.Request().Context(), queries.ListProductsParams{OrgID: k.OrgID, Before: before, Limit: limit})
	}, func(r queries.ListProductsRow) int64 { return r.Seq },
		func(r queries.ListProductsRow) Product { return Product{r.ID, r.Name, r.PriceCents, r.CreatedAt} })
	if err != nil {
		return err
	}
	return answerJSON(s, c, http.StatusOK, page, appendProductPage)
}

// apiPage reads ?limit= and ?cursor=, fetches up to limit rows below the cursor (one more,
// to know whether a next page exists) and makes the page of them.
func apiPage[R, V any](c echo.Context, fetch func(before, limit int64) ([]R, error), seq func(R) int64, view func(R) V) (Page[V], error) {
	limit, err := parse.Limit(c.QueryParam("limit"))
	if err != nil {
		return Page[V]{}, err
	}
	before, err := input.Cursor(c.QueryParam("cursor"))
	if err != nil {
		return Page[V]{}, err
	}
	rows, err := fetch(before, int64(limit)+1)
	if err != nil {
		return Page[V]{}, err
	}
	page := Page[V]{Data: make([]V, 0, min(len(rows), limit))}
	if len(rows) > limit {
		rows = rows[:limit]
		next := input.EncodeCursor(seq(rows[len(rows)-1]))
		page.NextCursor = &next
	}
	for _, r := range rows {
		page.Data = append(page.Data, view(r))
	}
	return page, nil
}

func (s *Server) getProduct(c echo.Context, k keyauth.Key) error {
	r, err := s.Read.GetProduct(c.Request().Context(), queries.GetProductParams{OrgID: k.OrgID, ID: c.Param("id")})
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return answerJSON(s, c, http.StatusOK, Product{r.ID, r.Name, r.PriceCents, r.CreatedAt}, Product.appendJSON)
}
