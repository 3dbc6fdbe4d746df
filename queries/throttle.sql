-- The sign-in throttle's counters. An attempt takes (reserves) a failure before the
-- password is checked, with one conditional UPDATE ... RETURNING on the subject's row,
-- so parallel attempts queue on that row instead of all reading the same old count.

-- name: EnsureThrottle :exec
-- Makes sure the subject has a row for the reservations to update.
INSERT INTO login_throttle (subject, failures, window_start, next_allowed_at)
VALUES (sqlc.arg(subject), 0, sqlc.arg(now), 0)
ON CONFLICT (subject) DO NOTHING;

-- name: ReserveClientAttempt :one
-- Takes one of the client's max_failures attempts in its fixed window (window_floor =
-- now - window). No row: the client is throttled.
UPDATE login_throttle SET
    failures = CASE WHEN window_start <= sqlc.arg(window_floor) THEN 1 ELSE failures + 1 END,
    window_start = CASE WHEN window_start <= sqlc.arg(window_floor) THEN CAST(sqlc.arg(now) AS BIGINT) ELSE window_start END
WHERE subject = sqlc.arg(subject)
    AND (window_start <= sqlc.arg(window_floor) OR failures < sqlc.arg(max_failures))
RETURNING failures;

-- name: ReserveAccountAttempt :one
-- Takes an attempt at the account unless its next attempt must wait. The count restarts
-- after a quiet window (window_start is the last attempt). From the free_failures-th
-- attempt on, the row holds every other attempt until hold_until; once the password is
-- checked, SetAccountDelay shortens the hold to the real delay, or a success clears the
-- row. No row: wait.
UPDATE login_throttle SET
    failures = CASE WHEN window_start <= sqlc.arg(window_floor) THEN 1 ELSE failures + 1 END,
    window_start = CAST(sqlc.arg(now) AS BIGINT),
    next_allowed_at = CASE
        WHEN window_start > sqlc.arg(window_floor) AND failures + 1 >= sqlc.arg(free_failures)
        THEN CAST(sqlc.arg(hold_until) AS BIGINT) ELSE 0 END
WHERE subject = sqlc.arg(subject) AND next_allowed_at <= sqlc.arg(now)
RETURNING failures;

-- name: SetAccountDelay :exec
UPDATE login_throttle SET next_allowed_at = sqlc.arg(next_allowed_at) WHERE subject = sqlc.arg(subject);

-- name: ReleaseClientAttempt :exec
-- Gives back the reservation of an attempt that succeeded.
UPDATE login_throttle SET failures = failures - 1 WHERE subject = sqlc.arg(subject) AND failures > 0;

-- name: ClearThrottle :exec
DELETE FROM login_throttle WHERE subject = sqlc.arg(subject);

-- name: GetThrottle :one
SELECT * FROM login_throttle WHERE subject = sqlc.arg(subject);

-- name: DeleteStaleThrottles :exec
-- Forgets counters whose window is over and whose delay has passed.
DELETE FROM login_throttle WHERE window_start <= sqlc.arg(window_floor) AND next_allowed_at <= sqlc.arg(now);
