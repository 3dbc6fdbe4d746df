-- keyport schema, version 4: verifications per key and UTC hour, by outcome (package
-- usage). hour_start is the hour's first Unix millisecond. Rows older than 90 days are
-- pruned. No foreign key to api_keys: a count must never fail to flush because its key
-- row went away; orphans age out with the rest.
CREATE TABLE key_usage (
    key_id             TEXT NOT NULL,
    hour_start         INTEGER NOT NULL,
    valid              INTEGER NOT NULL DEFAULT 0,
    rate_limited       INTEGER NOT NULL DEFAULT 0,
    insufficient_scope INTEGER NOT NULL DEFAULT 0,
    revoked            INTEGER NOT NULL DEFAULT 0,
    expired            INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, hour_start)
) WITHOUT ROWID;

-- For pruning by age.
CREATE INDEX key_usage_hour ON key_usage (hour_start);
