-- keyport schema, version 1. Applied at start when PRAGMA user_version < 1.
-- Times are Unix milliseconds (UTC). Money is integer cents.
-- Tables that are listed newest first have an INTEGER PRIMARY KEY `seq`, so paging is a
-- range scan on an index (no OFFSET) and the opaque public id stays random.

CREATE TABLE organizations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES organizations (id),
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

CREATE INDEX users_org ON users (org_id);

CREATE TABLE api_keys (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    org_id       TEXT NOT NULL REFERENCES organizations (id),
    name         TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    hint         TEXT NOT NULL,
    -- space-separated, e.g. "products:read products:write"
    scopes       TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    created_by   TEXT REFERENCES users (id),
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    -- set on the old key when it is rolled: the key that replaces it
    rolled_to    TEXT
);

CREATE INDEX api_keys_org_seq ON api_keys (org_id, seq);

-- key_epoch changes whenever a key's validity changes (revoke, roll, scope change), so a
-- server can tell a revocation by another process from the many product inserts that
-- also bump PRAGMA data_version.
CREATE TABLE key_epoch (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);

INSERT INTO key_epoch (id, n) VALUES (1, 0);

CREATE TRIGGER api_keys_validity_changed
AFTER UPDATE OF revoked_at, expires_at, scopes, hash ON api_keys
BEGIN
    UPDATE key_epoch SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER api_keys_deleted
AFTER DELETE ON api_keys
BEGIN
    UPDATE key_epoch SET n = n + 1 WHERE id = 1;
END;

CREATE TABLE products (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    created_at  INTEGER NOT NULL,
    key_id      TEXT REFERENCES api_keys (id)
);

CREATE INDEX products_org_seq ON products (org_id, seq);

CREATE TABLE audit_events (
    seq         INTEGER PRIMARY KEY,
    org_id      TEXT REFERENCES organizations (id),
    actor_id    TEXT REFERENCES users (id),
    actor_email TEXT NOT NULL,
    -- signup, login, login_failed, key_created, key_rolled, key_revoked
    action      TEXT NOT NULL,
    key_id      TEXT,
    key_name    TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE INDEX audit_events_org_seq ON audit_events (org_id, seq);

-- Failed sign-ins, counted per email and per IP for the login throttle.
CREATE TABLE login_failures (
    email      TEXT NOT NULL,
    ip         TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE INDEX login_failures_email ON login_failures (email, created_at);
CREATE INDEX login_failures_ip ON login_failures (ip, created_at);

-- scs sessions (github.com/alexedwards/scs/sqlite3store).
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry REAL NOT NULL
);

CREATE INDEX sessions_expiry_idx ON sessions (expiry);
