-- keyport schema, version 2: teams. An organization has members, each with one role;
-- a user may belong to several organizations (SPEC-teams.md).

CREATE TABLE memberships (
    org_id     TEXT NOT NULL REFERENCES organizations (id),
    user_id    TEXT NOT NULL REFERENCES users (id),
    role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, user_id)
);

CREATE INDEX memberships_user ON memberships (user_id, created_at);

-- Until now every user owned the one organization made with them.
INSERT INTO memberships (org_id, user_id, role, created_at)
SELECT org_id, id, 'owner', created_at FROM users;

-- Membership decides which organizations a user is in; a second record of one of them
-- would only go stale. SQLite drops a column-level REFERENCES column once its index is gone.
DROP INDEX users_org;
ALTER TABLE users DROP COLUMN org_id;

-- Shown on the members page; set at each sign-in.
ALTER TABLE users ADD COLUMN last_sign_in_at INTEGER;

-- An invitation link carries a kpi_ token; only its SHA-256 is stored. It is valid until
-- expires_at and used at most once (accepted_at), unless revoked first.
CREATE TABLE invitations (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    token_hash  BLOB NOT NULL UNIQUE,
    -- lower-cased, so the binding to the email is case-insensitive
    email       TEXT NOT NULL,
    role        TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member', 'viewer')),
    invited_by  TEXT NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_at INTEGER,
    accepted_by TEXT REFERENCES users (id),
    revoked_at  INTEGER
);

CREATE INDEX invitations_org_seq ON invitations (org_id, seq);

-- Whom a member event is about (invited, removed, role changed...): the audit log keeps
-- the email, which outlives the membership.
ALTER TABLE audit_events ADD COLUMN target_email TEXT NOT NULL DEFAULT '';
