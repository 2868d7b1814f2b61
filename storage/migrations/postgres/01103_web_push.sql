-- Web Push (issue 11, item 2). instance_keys holds keys the instance
-- makes on its first start (the VAPID key pair): the first replica's
-- insert wins, every replica reads the same row. push_subscriptions are
-- Mastodon's: one per OAuth token, removed with it; access_token is the
-- token itself, which Mastodon's push payload carries back to the app
-- (encrypted to the app's key). push_deliveries is the queue of pushes:
-- one row per subscription and notification, deleted once sent or given
-- up.

-- +goose Up
CREATE TABLE instance_keys (
    name TEXT PRIMARY KEY,
    public_key TEXT NOT NULL,
    private_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE push_subscriptions (
    id BIGSERIAL PRIMARY KEY,
    token_id BIGINT NOT NULL UNIQUE REFERENCES oauth_tokens (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    access_token TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    key_p256dh TEXT NOT NULL,
    key_auth TEXT NOT NULL,
    alerts TEXT NOT NULL,
    policy TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX push_subscriptions_actor ON push_subscriptions (actor_id);

CREATE TABLE push_deliveries (
    id BIGSERIAL PRIMARY KEY,
    subscription_id BIGINT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    notification_id BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ,
    last_error TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (subscription_id, notification_id)
);
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_at, id);

-- +goose Down
DROP TABLE push_deliveries;
DROP TABLE push_subscriptions;
DROP TABLE instance_keys;
