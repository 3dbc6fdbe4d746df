-- PostgreSQL counterpart of migrations/sqlite/0003_form_tokens.sql.
-- keyport schema, version 3: one-time form tokens. The create-key form carries one; the
-- first post that uses it creates the key, a re-sent one (reload, double submit) finds
-- it used and creates nothing.

CREATE TABLE form_tokens (
    token      TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);

CREATE INDEX form_tokens_created ON form_tokens (created_at);
