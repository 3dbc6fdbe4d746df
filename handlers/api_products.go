package handlers

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/handlers/parse"
	"keyport/input"
	"keyport/queries"
	"keyport/randid"
)

const maxBody = 64 << 10

// Product is the API's product representation.
type Product struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	Price     json.Number `json:"price"`
	CreatedAt string      `json:"createdAt"`
}

// ProductList is one page of products.
type ProductList struct {
	Data       []Product `json:"data"`
	NextCursor *string   `json:"nextCursor"`
}

func product(id, name string, cents, createdAt int64) Product {
	return Product{
		ID:        id,
		Name:      name,
		Price:     json.Number(parse.FormatCents(cents)),
		CreatedAt: apiTime(createdAt),
	}
}

// readBody reads an API request's body, at most maxBody bytes.
func readBody(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxBody+1))
	if err != nil {
		return nil, errAPIBodyUnreadable
	}
	if len(body) > maxBody {
		return nil, errAPIBodyTooLarge
	}
	return body, nil
}

// apiTime formats a Unix-ms time as the API's RFC 3339 UTC.
func apiTime(ms int64) string {
	return time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

func (s *Server) createProduct(c echo.Context) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	in, err := parse.Product(body)
	if err != nil {
		return err
	}
	k := keyFrom(c)
	now := s.Now().UnixMilli()
	id := randid.New("prod")
	row := queries.CreateProductParams{
		ID: id, OrgID: k.OrgID, Name: in.Name, PriceCents: in.PriceCents, CreatedAt: now,
		KeyID: sql.NullString{String: k.ID, Valid: true},
	}
	if err := s.Commit.Do(c.Request().Context(), func(ctx context.Context, q *queries.Queries) error {
		return q.CreateProduct(ctx, row)
	}); err != nil {
		return err
	}
	s.Metrics.ProductCreated()
	c.Response().Header().Set(echo.HeaderLocation, "/api/products/"+id)
	return c.JSON(http.StatusCreated, product(id, in.Name, in.PriceCents, now))
}

func (s *Server) listProducts(c echo.Context) error {
	limit, err := parse.Limit(c.QueryParam("limit"))
	if err != nil {
		return err
	}
	before, err := input.Cursor(c.QueryParam("cursor"))
	if err != nil {
		return err
	}
	rows, err := s.Read.ListProducts(c.Request().Context(), queries.ListProductsParams{
		OrgID: keyFrom(c).OrgID, Before: before, Limit: int64(limit) + 1,
	})
	if err != nil {
		return err
	}
	out := ProductList{Data: make([]Product, 0, len(rows))}
	if len(rows) > limit {
		rows = rows[:limit]
		next := input.EncodeCursor(rows[len(rows)-1].Seq)
		out.NextCursor = &next
	}
	for _, r := range rows {
		out.Data = append(out.Data, product(r.ID, r.Name, r.PriceCents, r.CreatedAt))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getProduct(c echo.Context) error {
	r, err := s.Read.GetProduct(c.Request().Context(), queries.GetProductParams{OrgID: keyFrom(c).OrgID, ID: c.Param("id")})
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, product(r.ID, r.Name, r.PriceCents, r.CreatedAt))
}
