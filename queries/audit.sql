-- name: CreateAuditEvent :exec
INSERT INTO audit_events (org_id, actor_id, actor_email, action, key_id, key_name, detail, ip, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?);

-- name: ListAuditEvents :many
SELECT * FROM audit_events
WHERE org_id = sqlc.arg(org_id) AND seq < sqlc.arg(before)
ORDER BY seq DESC
LIMIT sqlc.arg(limit);
