-- keyport schema, version 6: per-key rate limit buckets shared by every process
-- (-key-rate-limit-store shared, the default on PostgreSQL). tat is the bucket's
-- theoretical arrival time in Unix ns, as in package ratelimit; allowed is whether the
-- last request counted was let through; emission and burst are the limit it was counted
-- under (ns). A row whose tat has passed is a full bucket and is deleted by the sweep.
CREATE TABLE key_rate_limits (
    key_id   TEXT PRIMARY KEY,
    tat      INTEGER NOT NULL,
    allowed  INTEGER NOT NULL,
    emission INTEGER NOT NULL,
    burst    INTEGER NOT NULL
);
