-- name: CreateAuditEvent :exec
INSERT INTO audit_events (org_id, actor_id, actor_email, action, key_id, key_name, target_email, detail, ip, created_at)
VALUES (sqlc.arg(org_id), sqlc.arg(actor_id), sqlc.arg(actor_email), sqlc.arg(action), sqlc.arg(key_id),
        sqlc.arg(key_name), sqlc.arg(target_email), sqlc.arg(detail), sqlc.arg(ip), sqlc.arg(created_at));

-- name: ListAuditEvents :many
-- Columns named, not *: sqlc's sqlite engine would expand * with "action" quoted.
SELECT seq, org_id, actor_id, actor_email, action, key_id, key_name, detail, ip, created_at, target_email
FROM audit_events
WHERE org_id = sqlc.arg(org_id) AND seq < sqlc.arg(before)
ORDER BY seq DESC
LIMIT sqlc.arg('limit');
