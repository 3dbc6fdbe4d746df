-- name: CreateAPIKey :exec
INSERT INTO api_keys (id, org_id, name, hash, hint, scopes, created_at, created_by, expires_at)
VALUES (sqlc.arg(id), sqlc.arg(org_id), sqlc.arg(name), sqlc.arg(hash), sqlc.arg(hint), sqlc.arg(scopes),
        sqlc.arg(created_at), sqlc.narg(created_by), sqlc.narg(expires_at));

-- name: GetAPIKeyByHash :one
SELECT id, org_id, name, hint, scopes, expires_at, revoked_at FROM api_keys WHERE hash = sqlc.arg(hash);

-- name: GetAPIKey :one
SELECT * FROM api_keys WHERE org_id = sqlc.arg(org_id) AND id = sqlc.arg(id);

-- name: GetAPIKeyByID :one
-- For the command line, which names a key by id alone.
SELECT * FROM api_keys WHERE id = sqlc.arg(id);

-- name: ListAPIKeys :many
-- Newest first. A page starts below the cursor `before` (a seq); revoked keys are left
-- out unless include_revoked is 1. With each key, who created it and whether they have
-- left the organization since (the key stays: it is the organization's).
SELECT sqlc.embed(api_keys), coalesce(users.email, '') AS creator_email,
       CASE WHEN api_keys.created_by IS NOT NULL AND NOT EXISTS (
           SELECT 1 FROM memberships m WHERE m.org_id = api_keys.org_id AND m.user_id = api_keys.created_by
       ) THEN 1 ELSE 0 END AS creator_left
FROM api_keys LEFT JOIN users ON users.id = api_keys.created_by
WHERE api_keys.org_id = sqlc.arg(org_id)
  AND api_keys.seq < sqlc.arg(before)
  AND (CAST(sqlc.arg(include_revoked) AS INTEGER) = 1 OR api_keys.revoked_at IS NULL)
ORDER BY api_keys.seq DESC
LIMIT sqlc.arg('limit');

-- name: ListAPIKeysByStatus :many
-- The key management API's list: newest first, below the cursor `before`, all keys or
-- those of one status at now. 'active' means working (active, expiring or rolled):
-- apikey.State's rule, which TestListKeysStatusFilterMatchesState holds this to.
SELECT * FROM api_keys
WHERE org_id = sqlc.arg(org_id)
  AND seq < sqlc.arg(before)
  AND CASE CAST(sqlc.arg(status) AS TEXT)
      WHEN 'revoked' THEN revoked_at IS NOT NULL
      WHEN 'expired' THEN revoked_at IS NULL AND expires_at <= sqlc.arg(now)
      WHEN 'active' THEN revoked_at IS NULL AND (expires_at IS NULL OR expires_at > sqlc.arg(now))
      ELSE TRUE END
ORDER BY seq DESC
LIMIT sqlc.arg('limit');

-- name: OrgHasAPIKeys :one
-- Stops at the first key, where count(*) would read the organization's whole index.
SELECT EXISTS (SELECT 1 FROM api_keys WHERE org_id = sqlc.arg(org_id));

-- name: ListAllAPIKeys :many
SELECT sqlc.embed(api_keys), organizations.name AS org_name
FROM api_keys JOIN organizations ON organizations.id = api_keys.org_id
ORDER BY api_keys.seq DESC;

-- name: RevokeAPIKeyByID :execrows
UPDATE api_keys SET revoked_at = sqlc.arg(now) WHERE id = sqlc.arg(id) AND revoked_at IS NULL;

-- name: SetAPIKeyRolled :execrows
-- The old key keeps working until expires_at (never later than it already would).
UPDATE api_keys
SET rolled_to = sqlc.arg(rolled_to),
    expires_at = CASE
        WHEN expires_at IS NULL OR expires_at > sqlc.arg(grace_end) THEN sqlc.arg(grace_end)
        ELSE expires_at END
WHERE org_id = sqlc.arg(org_id) AND id = sqlc.arg(id) AND revoked_at IS NULL AND rolled_to IS NULL;

-- name: TouchAPIKey :exec
UPDATE api_keys SET last_used_at = sqlc.arg(used_at)
WHERE id = sqlc.arg(id) AND (last_used_at IS NULL OR last_used_at < sqlc.arg(used_at));

-- name: GetKeyEpoch :one
SELECT n FROM key_epoch WHERE id = 1;

-- name: ListAPIKeyHashes :many
-- The key filter's rebuild (package keyauth): a page of the hash index, in its order.
SELECT hash FROM api_keys
WHERE hash > sqlc.arg(after)
ORDER BY hash
LIMIT sqlc.arg('limit');

-- name: ListAPIKeyHashesSince :many
-- The key filter's extension: keys issued after the one numbered `after` (issued follows
-- commit order on both engines, migrations/*/0007_key_issue.sql).
SELECT issued, hash FROM api_keys
WHERE issued > sqlc.arg(after)
ORDER BY issued
LIMIT sqlc.arg('limit');

-- name: MaxAPIKeyIssued :one
SELECT CAST(coalesce(max(issued), 0) AS INTEGER) FROM api_keys;
