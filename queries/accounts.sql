-- name: CreateOrganization :exec
INSERT INTO organizations (id, name, created_at)
VALUES (sqlc.arg(id), sqlc.arg(name), sqlc.arg(created_at));

-- name: CreateUser :exec
INSERT INTO users (id, email, password_hash, created_at)
VALUES (sqlc.arg(id), sqlc.arg(email), sqlc.arg(password_hash), sqlc.arg(created_at));

-- name: GetUserByEmail :one
SELECT * FROM users WHERE email = sqlc.arg(email);

-- name: GetUser :one
SELECT * FROM users WHERE id = sqlc.arg(id);

-- name: SetLastSignIn :exec
UPDATE users SET last_sign_in_at = sqlc.arg(now) WHERE id = sqlc.arg(id);

-- name: Ping :one
SELECT 1;
