-- name: CreateOrganization :exec
INSERT INTO organizations (id, name, created_at) VALUES (?, ?, ?);

-- name: CreateUser :exec
INSERT INTO users (id, org_id, email, password_hash, created_at) VALUES (?, ?, ?, ?, ?);

-- name: GetUserByEmail :one
SELECT * FROM users WHERE email = ?;

-- name: GetMember :one
SELECT users.id, users.email, users.org_id, organizations.name AS org_name
FROM users JOIN organizations ON organizations.id = users.org_id
WHERE users.id = ?;

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
