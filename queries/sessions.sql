-- name: CreateUserSession :exec
INSERT INTO user_sessions (id, user_id, created_at) VALUES (sqlc.arg(id), sqlc.arg(user_id), sqlc.arg(created_at));

-- name: GetUserSession :one
SELECT user_id FROM user_sessions WHERE id = sqlc.arg(id);

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
