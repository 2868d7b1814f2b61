-- Followers-only and direct posts (issue 11, item 3). object_recipients
-- are the actors a post addresses by name (to, cc and Mention tags, less
-- the Public collection and the author's followers collection): with the
-- post's visibility they decide who may read it. host is the actor's
-- host, for answering a signed fetch from that actor's server.
-- conversations are a local member's direct threads, as Mastodon lists
-- them: one row per member and thread, pointing at its latest post.

-- +goose Up
CREATE TABLE object_recipients (
    object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    actor_uri TEXT NOT NULL,
    host TEXT NOT NULL,
    PRIMARY KEY (object_id, actor_uri)
);
CREATE INDEX object_recipients_actor ON object_recipients (actor_uri, object_id);
CREATE INDEX objects_visibility ON objects (visibility, id);

CREATE TABLE conversations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    context_uri TEXT NOT NULL,
    last_object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    unread BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at DATETIME NOT NULL,
    UNIQUE (actor_id, context_uri)
);
CREATE INDEX conversations_actor ON conversations (actor_id, last_object_id);

-- +goose Down
DROP TABLE conversations;
DROP INDEX objects_visibility;
DROP TABLE object_recipients;
