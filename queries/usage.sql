-- name: AddKeyUsage :exec
-- Adds one flush's counts to a key's hour.
INSERT INTO key_usage (key_id, hour_start, valid, rate_limited, insufficient_scope, revoked, expired)
VALUES (sqlc.arg(key_id), sqlc.arg(hour_start), sqlc.arg(valid), sqlc.arg(rate_limited),
        sqlc.arg(insufficient_scope), sqlc.arg(revoked), sqlc.arg(expired))
ON CONFLICT (key_id, hour_start) DO UPDATE SET
    valid = key_usage.valid + excluded.valid,
    rate_limited = key_usage.rate_limited + excluded.rate_limited,
    insufficient_scope = key_usage.insufficient_scope + excluded.insufficient_scope,
    revoked = key_usage.revoked + excluded.revoked,
    expired = key_usage.expired + excluded.expired;

-- name: ListKeyUsage :many
-- One key's hours from since on, oldest first.
SELECT * FROM key_usage
WHERE key_id = sqlc.arg(key_id) AND hour_start >= sqlc.arg(since)
ORDER BY hour_start;

-- name: ListOrgKeysUsage :many
-- The hours from since on of an organization's keys whose seq is in [min_seq, max_seq]:
-- one query for a page of the keys table.
SELECT key_usage.*
FROM api_keys JOIN key_usage ON key_usage.key_id = api_keys.id
WHERE api_keys.org_id = sqlc.arg(org_id)
  AND api_keys.seq >= sqlc.arg(min_seq) AND api_keys.seq <= sqlc.arg(max_seq)
  AND key_usage.hour_start >= sqlc.arg(since)
ORDER BY key_usage.key_id, key_usage.hour_start;

-- name: PruneKeyUsage :execrows
DELETE FROM key_usage WHERE hour_start < sqlc.arg(before);
