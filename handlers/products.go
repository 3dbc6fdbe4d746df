package handlers

import (
	"context"

	"github.com/labstack/echo/v4"

	"keyport/queries"
)

// productsPage lists the organization's products, newest first, each with the key that
// created it.
func (s *Server) productsPage(c echo.Context) error {
	org := memberFrom(c).OrgID
	products, more, err := listPage(c, s.Now(), "/dashboard/products", 4,
		func(ctx context.Context, before, limit int64) ([]queries.ListProductsWithKeysRow, error) {
			return s.Read.ListProductsWithKeys(ctx, queries.ListProductsWithKeysParams{OrgID: org, Before: before, Limit: limit})
		},
		func(p queries.ListProductsWithKeysRow) int64 { return p.Seq }, productRow)
	if err != nil {
		return err
	}
	return s.renderList(c, "products", "product-rows", ProductsPage{
		Layout: s.layout(c, "Products", "products"), Products: products, More: more,
	})
}
