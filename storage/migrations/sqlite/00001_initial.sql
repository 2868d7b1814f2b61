-- Initial schema: actors, local accounts and communities, memberships,
-- objects, activities (with the inbound processing queue) and deliveries.

-- +goose Up
CREATE TABLE actors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    username TEXT NOT NULL,
    domain TEXT NOT NULL,
    local BOOLEAN NOT NULL DEFAULT FALSE,
    display_name TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    inbox_uri TEXT NOT NULL DEFAULT '',
    outbox_uri TEXT NOT NULL DEFAULT '',
    shared_inbox_uri TEXT NOT NULL DEFAULT '',
    followers_uri TEXT NOT NULL DEFAULT '',
    following_uri TEXT NOT NULL DEFAULT '',
    featured_uri TEXT NOT NULL DEFAULT '',
    key_id TEXT NOT NULL DEFAULT '',
    public_key_pem TEXT NOT NULL DEFAULT '',
    private_key_pem TEXT NOT NULL DEFAULT '',
    manually_approves_followers BOOLEAN NOT NULL DEFAULT FALSE,
    published_at DATETIME,
    fetched_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX actors_username_domain ON actors (lower(username), domain);
CREATE INDEX actors_key_id ON actors (key_id);
CREATE INDEX actors_domain ON actors (domain);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL UNIQUE REFERENCES actors (id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    password_hash TEXT NOT NULL DEFAULT '',
    admin BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX accounts_email ON accounts (lower(email));

CREATE TABLE communities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL UNIQUE REFERENCES actors (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL DEFAULT '',
    closed BOOLEAN NOT NULL DEFAULT FALSE,
    visibility TEXT NOT NULL DEFAULT 'public',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE community_tags (
    community_id BIGINT NOT NULL REFERENCES communities (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (community_id, tag)
);
CREATE INDEX community_tags_tag ON community_tags (tag);

-- A membership is a follow of a community (local or remote) by an actor
-- (local or remote), with its approval state and the member's role.
CREATE TABLE memberships (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    community_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    member_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'member',
    follow_uri TEXT NOT NULL DEFAULT '',
    accepted_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    UNIQUE (community_actor_id, member_actor_id)
);
CREATE INDEX memberships_member ON memberships (member_actor_id);
CREATE INDEX memberships_follow_uri ON memberships (follow_uri);

CREATE TABLE objects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    author_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    community_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    in_reply_to_uri TEXT NOT NULL DEFAULT '',
    in_reply_to_id BIGINT REFERENCES objects (id) ON DELETE SET NULL,
    context_uri TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    name TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT '',
    sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    visibility TEXT NOT NULL DEFAULT 'public',
    local BOOLEAN NOT NULL DEFAULT FALSE,
    raw TEXT NOT NULL DEFAULT '',
    published_at DATETIME NOT NULL,
    edited_at DATETIME,
    deleted_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX objects_community ON objects (community_actor_id, id);
CREATE INDEX objects_author ON objects (author_actor_id, id);
CREATE INDEX objects_in_reply_to ON objects (in_reply_to_id);
CREATE INDEX objects_in_reply_to_uri ON objects (in_reply_to_uri);
CREATE INDEX objects_context ON objects (context_uri);

CREATE TABLE likes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL UNIQUE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    UNIQUE (actor_id, object_id)
);

-- Every activity we sent or accepted. Inbound ones are also the durable
-- processing queue: state pending -> done | failed, claimed by workers.
CREATE TABLE activities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    actor_uri TEXT NOT NULL,
    object_uri TEXT NOT NULL DEFAULT '',
    raw TEXT NOT NULL,
    local BOOLEAN NOT NULL DEFAULT FALSE,
    state TEXT NOT NULL DEFAULT 'done',
    attempts INTEGER NOT NULL DEFAULT 0,
    run_after DATETIME,
    locked_until DATETIME,
    last_error TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);
CREATE INDEX activities_queue ON activities (state, run_after);
CREATE INDEX activities_object ON activities (object_uri);

-- One row per (activity, inbox): the outbound queue.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    activity_id BIGINT NOT NULL REFERENCES activities (id) ON DELETE CASCADE,
    signer_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    inbox_uri TEXT NOT NULL,
    host TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL,
    locked_until DATETIME,
    last_status INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    delivered_at DATETIME,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    UNIQUE (activity_id, inbox_uri)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_host ON deliveries (host, state);

-- Remote hosts that keep failing are backed off as a whole.
CREATE TABLE hosts (
    domain TEXT PRIMARY KEY,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    backoff_until DATETIME,
    last_success_at DATETIME,
    last_failure_at DATETIME,
    updated_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE hosts;
DROP TABLE deliveries;
DROP TABLE activities;
DROP TABLE likes;
DROP TABLE objects;
DROP TABLE memberships;
DROP TABLE community_tags;
DROP TABLE communities;
DROP TABLE accounts;
DROP TABLE actors;
