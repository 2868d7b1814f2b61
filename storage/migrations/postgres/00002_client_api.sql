-- The Mastodon-compatible client API: OAuth applications, authorization
-- codes and access tokens (secrets stored as SHA-256 hashes only),
-- notifications, read markers, idempotency keys of created statuses, and
-- the hashtags of posts for tag timelines.

-- +goose Up
CREATE TABLE oauth_apps (
    id BIGSERIAL PRIMARY KEY,
    client_id TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    website TEXT NOT NULL DEFAULT '',
    redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE oauth_authorization_codes (
    id BIGSERIAL PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    app_id BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    code_challenge TEXT NOT NULL DEFAULT '',
    code_challenge_method TEXT NOT NULL DEFAULT '',
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);

-- A token without an account is an application token (client_credentials).
CREATE TABLE oauth_tokens (
    id BIGSERIAL PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    app_id BIGINT REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    revoked_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_tokens_account ON oauth_tokens (account_id);

-- object_id is 0 for notifications about no post (follows); the unique key
-- makes a repeated event one notification.
CREATE TABLE notifications (
    id BIGSERIAL PRIMARY KEY,
    recipient_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    from_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    object_id BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (recipient_actor_id, type, from_actor_id, object_id)
);
CREATE INDEX notifications_recipient ON notifications (recipient_actor_id, id);

CREATE TABLE markers (
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    timeline TEXT NOT NULL,
    last_read_id TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (actor_id, timeline)
);

-- object_id is NULL while the first request with the key is in flight.
CREATE TABLE idempotency_keys (
    id BIGSERIAL PRIMARY KEY,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    object_id BIGINT REFERENCES objects (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (actor_id, key)
);

CREATE TABLE object_tags (
    object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (object_id, tag)
);
CREATE INDEX object_tags_tag ON object_tags (tag, object_id);

-- +goose Down
DROP TABLE object_tags;
DROP TABLE idempotency_keys;
DROP TABLE markers;
DROP TABLE notifications;
DROP TABLE oauth_tokens;
DROP TABLE oauth_authorization_codes;
DROP TABLE oauth_apps;
