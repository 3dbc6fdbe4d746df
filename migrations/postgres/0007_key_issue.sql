-- PostgreSQL counterpart of migrations/sqlite/0007_key_issue.sql.
-- keyport schema, version 7: api_keys.issued numbers keys in the order their
-- transactions commit, so a server can follow the keys other replicas store by reading
-- `issued > the last one seen` (package keyauth's key filter). seq cannot serve: it is
-- taken at insert, so a transaction that took a lower seq may commit after a higher one
-- was already read, and a reader moving past it would never see its key. The number
-- comes from the one-row key_issue counter, whose row lock a storing transaction holds
-- until it commits: a second one waits (under SERIALIZABLE it fails and is run again),
-- so every number up to the highest committed one is committed. Key creation is rare;
-- product writes never touch the counter. Existing keys are numbered in seq order.
CREATE TABLE key_issue (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);

INSERT INTO key_issue (id, n) SELECT 1, coalesce(max(seq), 0) FROM api_keys;

ALTER TABLE api_keys ADD COLUMN issued BIGINT;

UPDATE api_keys SET issued = seq;

ALTER TABLE api_keys ALTER COLUMN issued SET NOT NULL;

CREATE INDEX api_keys_issued ON api_keys (issued);

-- A trigger, as for key_epoch, so no path that stores a key (the API, a roll, the CLI)
-- can leave it out. Only import-sqlite names issued: it copies the numbers SQLite gave,
-- into an empty database in one transaction, and then moves the counter past them. A
-- million counter updates in its one transaction would each leave a row version no
-- one can prune yet, for the next to step over.
CREATE FUNCTION take_key_issue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.issued IS NULL THEN
        UPDATE key_issue SET n = n + 1 WHERE id = 1 RETURNING n INTO NEW.issued;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER api_keys_issued
BEFORE INSERT ON api_keys
FOR EACH ROW EXECUTE FUNCTION take_key_issue();
