-- name: CreateProduct :exec
-- No RETURNING: read through QueryRow, such a statement is never stepped to its end, and
-- SQLite runs the WAL auto-checkpoint only when a statement finishes in autocommit mode,
-- so under a stream of inserts the WAL would grow without bound (docs/PERFORMANCE.md).
INSERT INTO products (id, org_id, name, price_cents, created_at, key_id)
VALUES (sqlc.arg(id), sqlc.arg(org_id), sqlc.arg(name), sqlc.arg(price_cents), sqlc.arg(created_at), sqlc.narg(key_id));

-- name: ListProducts :many
-- Newest first, starting below the cursor `before` (a seq).
SELECT seq, id, name, price_cents, created_at FROM products
WHERE org_id = sqlc.arg(org_id) AND seq < sqlc.arg(before)
ORDER BY seq DESC
LIMIT sqlc.arg('limit');

-- name: GetProduct :one
SELECT seq, id, name, price_cents, created_at FROM products WHERE org_id = sqlc.arg(org_id) AND id = sqlc.arg(id);

-- name: ListProductsWithKeys :many
SELECT products.seq, products.id, products.name, products.price_cents, products.created_at,
       coalesce(api_keys.name, '') AS key_name, coalesce(api_keys.hint, '') AS key_hint
FROM products LEFT JOIN api_keys ON api_keys.id = products.key_id
WHERE products.org_id = sqlc.arg(org_id) AND products.seq < sqlc.arg(before)
ORDER BY products.seq DESC
LIMIT sqlc.arg('limit');
