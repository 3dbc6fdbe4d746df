-- name: CreateFormToken :exec
INSERT INTO form_tokens (token, user_id, created_at)
VALUES (sqlc.arg(token), sqlc.arg(user_id), sqlc.arg(created_at));

-- name: UseFormToken :execrows
-- Marks the user's token used if it is unused and was made after not_before.
UPDATE form_tokens SET used_at = sqlc.arg(now)
WHERE token = sqlc.arg(token) AND user_id = sqlc.arg(user_id)
  AND used_at IS NULL AND created_at > sqlc.arg(not_before);

-- name: FormTokenUsed :one
SELECT EXISTS (
    SELECT 1 FROM form_tokens
    WHERE token = sqlc.arg(token) AND user_id = sqlc.arg(user_id) AND used_at IS NOT NULL
);

-- name: DeleteFormTokensBefore :exec
DELETE FROM form_tokens WHERE created_at < sqlc.arg(before);
