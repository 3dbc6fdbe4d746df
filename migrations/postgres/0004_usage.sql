-- PostgreSQL counterpart of migrations/sqlite/0004_usage.sql.
-- keyport schema, version 4: verifications per key and UTC hour, by outcome (package
-- usage). hour_start is the hour's first Unix millisecond. Rows older than 90 days are
-- pruned. No foreign key to api_keys: a count must never fail to flush because its key
-- row went away; orphans age out with the rest.
CREATE TABLE key_usage (
    key_id             TEXT NOT NULL,
    hour_start         BIGINT NOT NULL,
    valid              BIGINT NOT NULL DEFAULT 0,
    rate_limited       BIGINT NOT NULL DEFAULT 0,
    insufficient_scope BIGINT NOT NULL DEFAULT 0,
    revoked            BIGINT NOT NULL DEFAULT 0,
    expired            BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, hour_start)
);

-- For pruning by age.
CREATE INDEX key_usage_hour ON key_usage (hour_start);
