-- keyport schema, version 7: api_keys.issued numbers keys in the order their
-- transactions commit, so a server can follow the keys other processes store by reading
-- `issued > the last one seen` (package keyauth's key filter). Every insert takes the next
-- number from the one-row key_issue counter in its own transaction; SQLite's single
-- writer already commits in that order. Existing keys are numbered in seq order.
CREATE TABLE key_issue (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);

INSERT INTO key_issue (id, n) SELECT 1, coalesce(max(seq), 0) FROM api_keys;

ALTER TABLE api_keys ADD COLUMN issued INTEGER NOT NULL DEFAULT 0;

UPDATE api_keys SET issued = seq;

CREATE INDEX api_keys_issued ON api_keys (issued);

-- A trigger, as for key_epoch, so no path that stores a key (the API, a roll, the CLI)
-- can leave it out. SQLite cannot set NEW in a BEFORE trigger, hence the second write.
CREATE TRIGGER api_keys_issued
AFTER INSERT ON api_keys
BEGIN
    UPDATE key_issue SET n = n + 1 WHERE id = 1;
    UPDATE api_keys SET issued = (SELECT n FROM key_issue WHERE id = 1) WHERE seq = NEW.seq;
END;
