-- PostgreSQL counterpart of migrations/sqlite/0005_hardening.sql.
-- keyport schema, version 5: sign-in throttle counters, session rows, hashed session tokens.

-- One counter per subject: "ip:203.0.113.7" or "ip:2001:db8:1:2::/64" for a client,
-- "email:ada@example.com" for an account. An attempt takes (reserves) a failure before
-- the password is checked, in one INSERT ... ON CONFLICT DO UPDATE, so parallel attempts
-- cannot all read the same old count; a sign-in that succeeds gives it back.
-- window_start: a client's 15-minute window began then; an account's last attempt.
-- next_allowed_at: the account's next attempt may not start before (growing delay).
CREATE TABLE login_throttle (
    subject         TEXT PRIMARY KEY,
    failures        BIGINT NOT NULL,
    window_start    BIGINT NOT NULL,
    next_allowed_at BIGINT NOT NULL
);

DROP TABLE login_failures;

-- A signed-in session, named by a random id kept in the scs session data. A request is
-- signed in only while its row exists, so deleting the row ends the session for good: a
-- request still in flight that writes the scs data back cannot bring it back.
CREATE TABLE user_sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL
);

CREATE INDEX user_sessions_user ON user_sessions (user_id);

-- scs tokens are stored as their SHA-256 from now on; the plain tokens stored before
-- would never match again, so they go (everyone signs in once more).
DELETE FROM sessions;
