-- name: CreateUserSession :exec
INSERT INTO user_sessions (id, user_id, created_at) VALUES (sqlc.arg(id), sqlc.arg(user_id), sqlc.arg(created_at));

-- name: DeleteUserSession :exec
DELETE FROM user_sessions WHERE id = sqlc.arg(id);

-- name: DeleteUserSessionsExcept :execrows
-- Ends every session of the user but keep (pass "" to end them all).
DELETE FROM user_sessions WHERE user_id = sqlc.arg(user_id) AND id <> sqlc.arg(keep);

-- name: CountUserSessions :one
SELECT count(*) FROM user_sessions WHERE user_id = sqlc.arg(user_id);

-- name: DeleteUserSessionsBefore :exec
-- Sessions older than scs's absolute lifetime are over anyway.
DELETE FROM user_sessions WHERE created_at <= sqlc.arg(before);

-- name: SetPasswordHash :exec
UPDATE users SET password_hash = sqlc.arg(password_hash) WHERE id = sqlc.arg(id);

-- name: GetSignedInMember :one
-- The user session id is signed in as, in the organization the session prefers (org_id)
-- or, if they are no longer a member there, in the one they joined first; org_id,
-- org_name and role are NULL when they are in none. One read on every dashboard request,
-- so an ended session, a removal or a role change applies to the next one.
SELECT users.id AS user_id, users.email, memberships.org_id, organizations.name AS org_name, memberships.role,
       CASE WHEN memberships.org_id = sqlc.arg(org_id) THEN 0 ELSE 1 END AS other
FROM user_sessions
JOIN users ON users.id = user_sessions.user_id
LEFT JOIN memberships ON memberships.user_id = users.id
LEFT JOIN organizations ON organizations.id = memberships.org_id
WHERE user_sessions.id = sqlc.arg(id)
ORDER BY other, memberships.created_at, memberships.org_id
LIMIT 1;
