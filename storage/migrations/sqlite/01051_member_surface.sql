-- What a member does every day through the apps (issue 10): earlier
-- versions of edited posts, bookmarks, a member's own boosts, pinned
-- posts, mutes and blocks of accounts and domains, private notes on
-- accounts, filters, lists, followed and featured hashtags, the
-- notification policy; and the profile and preference fields that
-- update_credentials edits.

-- +goose Up
ALTER TABLE actors ADD COLUMN fields TEXT NOT NULL DEFAULT '[]';
ALTER TABLE actors ADD COLUMN discoverable BOOLEAN;
-- Whether the followers/following (for a community: member) lists are
-- hidden from others; counts stay public, as on Mastodon.
ALTER TABLE actors ADD COLUMN hide_collections BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN default_privacy TEXT NOT NULL DEFAULT 'public';
ALTER TABLE accounts ADD COLUMN default_sensitive BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN default_language TEXT NOT NULL DEFAULT '';

-- One row per earlier version of a post, written as an edit replaces it.
CREATE TABLE object_edits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    name TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL DEFAULT '',
    sensitive BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME NOT NULL
);
CREATE INDEX object_edits_object ON object_edits (object_id, id);

CREATE TABLE bookmarks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    UNIQUE (actor_id, object_id)
);

-- A boost of a post by a person (an Announce of its id).
CREATE TABLE reblogs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL UNIQUE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    UNIQUE (actor_id, object_id)
);
CREATE INDEX reblogs_object ON reblogs (object_id, id);

CREATE TABLE pins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    UNIQUE (actor_id, object_id)
);

CREATE TABLE account_mutes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    notifications BOOLEAN NOT NULL DEFAULT TRUE,
    expires_at DATETIME,
    created_at DATETIME NOT NULL,
    UNIQUE (actor_id, target_actor_id)
);

CREATE TABLE account_blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL UNIQUE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    UNIQUE (actor_id, target_actor_id)
);
CREATE INDEX account_blocks_target ON account_blocks (target_actor_id);

CREATE TABLE member_domain_blocks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    UNIQUE (actor_id, domain)
);

CREATE TABLE account_notes (
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    note TEXT NOT NULL,
    PRIMARY KEY (actor_id, target_actor_id)
);

-- context is a space-separated list of home, notifications, public,
-- thread, account; action is warn, hide or blur.
CREATE TABLE filters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    context TEXT NOT NULL,
    action TEXT NOT NULL DEFAULT 'warn',
    expires_at DATETIME,
    created_at DATETIME NOT NULL
);
CREATE INDEX filters_actor ON filters (actor_id);

CREATE TABLE filter_keywords (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    filter_id BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword TEXT NOT NULL,
    whole_word BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id);

CREATE TABLE filter_statuses (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    filter_id BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    UNIQUE (filter_id, object_id)
);

CREATE TABLE lists (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    replies_policy TEXT NOT NULL DEFAULT 'list',
    exclusive BOOLEAN NOT NULL DEFAULT FALSE,
    created_at DATETIME NOT NULL
);
CREATE INDEX lists_actor ON lists (actor_id);

CREATE TABLE list_members (
    list_id BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    PRIMARY KEY (list_id, actor_id)
);
CREATE INDEX list_members_actor ON list_members (actor_id);

CREATE TABLE followed_tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    UNIQUE (actor_id, tag)
);

CREATE TABLE featured_tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    UNIQUE (actor_id, tag)
);

-- Each field is accept, filter or drop, as Mastodon's policy v2.
CREATE TABLE notification_policies (
    actor_id BIGINT PRIMARY KEY REFERENCES actors (id) ON DELETE CASCADE,
    for_not_following TEXT NOT NULL DEFAULT 'accept',
    for_not_followers TEXT NOT NULL DEFAULT 'accept',
    for_new_accounts TEXT NOT NULL DEFAULT 'accept',
    for_private_mentions TEXT NOT NULL DEFAULT 'accept',
    for_limited_accounts TEXT NOT NULL DEFAULT 'accept',
    updated_at DATETIME NOT NULL
);

-- What a member decided about a sender the policy filtered: accepted
-- (their notifications come through from now on) or dismissed.
CREATE TABLE notification_senders (
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    from_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    decision TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (actor_id, from_actor_id)
);

-- Threads (by context) a member muted: no notifications from them.
CREATE TABLE conversation_mutes (
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    context_uri TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (actor_id, context_uri)
);

-- Accounts a member does not want suggested again.
CREATE TABLE suggestion_dismissals (
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    PRIMARY KEY (actor_id, target_actor_id)
);

-- +goose Down
DROP TABLE suggestion_dismissals;
DROP TABLE conversation_mutes;
DROP TABLE notification_senders;
DROP TABLE notification_policies;
DROP TABLE featured_tags;
DROP TABLE followed_tags;
DROP TABLE list_members;
DROP TABLE lists;
DROP TABLE filter_statuses;
DROP TABLE filter_keywords;
DROP TABLE filters;
DROP TABLE account_notes;
DROP TABLE member_domain_blocks;
DROP TABLE account_blocks;
DROP TABLE account_mutes;
DROP TABLE pins;
DROP TABLE reblogs;
DROP TABLE bookmarks;
DROP TABLE object_edits;
ALTER TABLE accounts DROP COLUMN default_language;
ALTER TABLE accounts DROP COLUMN default_sensitive;
ALTER TABLE accounts DROP COLUMN default_privacy;
ALTER TABLE actors DROP COLUMN hide_collections;
ALTER TABLE actors DROP COLUMN discoverable;
ALTER TABLE actors DROP COLUMN fields;
