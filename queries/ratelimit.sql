-- name: TakeKeyRequest :one
-- One request by key_id at now (Unix ns) against its shared GCRA bucket, in one statement
-- so replicas cannot both spend the last unit: let through if the bucket, advanced by one
-- emission interval, stays within the burst; a refusal leaves it as it was. The update
-- reads now, emission and burst from the proposed row (excluded; now = tat - emission)
-- because sqlc's sqlite engine leaves parameters in DO UPDATE unbound.
INSERT INTO key_rate_limits (key_id, tat, allowed, emission, burst)
VALUES (sqlc.arg(key_id), CAST(sqlc.arg(now) AS BIGINT) + CAST(sqlc.arg(emission) AS BIGINT), 1,
        CAST(sqlc.arg(emission) AS BIGINT), CAST(sqlc.arg(burst) AS BIGINT))
ON CONFLICT (key_id) DO UPDATE SET
    allowed = CASE
        WHEN (CASE WHEN key_rate_limits.tat > excluded.tat - excluded.emission
                   THEN key_rate_limits.tat ELSE excluded.tat - excluded.emission END)
             + excluded.emission - (excluded.tat - excluded.emission) <= excluded.burst
        THEN 1 ELSE 0 END,
    tat = CASE
        WHEN (CASE WHEN key_rate_limits.tat > excluded.tat - excluded.emission
                   THEN key_rate_limits.tat ELSE excluded.tat - excluded.emission END)
             + excluded.emission - (excluded.tat - excluded.emission) <= excluded.burst
        THEN (CASE WHEN key_rate_limits.tat > excluded.tat - excluded.emission
                   THEN key_rate_limits.tat ELSE excluded.tat - excluded.emission END)
             + excluded.emission
        ELSE key_rate_limits.tat END,
    emission = excluded.emission,
    burst = excluded.burst
RETURNING tat, allowed;

-- name: DeleteFullRateLimits :execrows
DELETE FROM key_rate_limits WHERE tat <= sqlc.arg(now);
