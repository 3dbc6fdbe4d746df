-- name: CreateOrganization :exec
INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?);

-- name: CreateUser :exec
INSERT INTO users (id, email, password_hash, created_at)
VALUES (sqlc.arg(id), sqlc.arg(email), sqlc.arg(password_hash), sqlc.arg(created_at));

-- name: GetUserByEmail :one
SELECT * FROM users WHERE email = ?;

-- name: GetUser :one
SELECT * FROM users WHERE id = sqlc.arg(id);

-- name: SetLastSignIn :exec
UPDATE users SET last_sign_in_at = sqlc.arg(now) WHERE id = sqlc.arg(id);

-- name: RecordLoginFailure :exec
INSERT INTO login_failures (email, ip, created_at) VALUES (?, ?, ?);

-- name: CountLoginFailures :one
SELECT
    (SELECT count(*) FROM login_failures f WHERE f.email = sqlc.arg(email) AND f.created_at > sqlc.arg(since)) AS by_email,
    (SELECT count(*) FROM login_failures f WHERE f.ip = sqlc.arg(ip) AND f.created_at > sqlc.arg(since)) AS by_ip;

-- name: DeleteLoginFailuresBefore :exec
DELETE FROM login_failures WHERE created_at <= ?;

-- name: Ping :one
SELECT 1;
