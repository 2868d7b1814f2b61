-- Moderation that federates (issue 14): moderators of remote communities,
-- locked threads, posts removed from their community, bans, communities
-- where only moderators post, and the modlog.

-- +goose Up
-- A Group's moderators collection (its attributedTo) and whether only its
-- moderators may start threads (Lemmy's postingRestrictedToMods).
ALTER TABLE actors ADD COLUMN moderators_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE actors ADD COLUMN posting_restricted_to_mods BOOLEAN NOT NULL DEFAULT FALSE;

-- A locked thread takes no new replies; a removed post was taken out of
-- its community by a moderator (on its author's server it stays, outside
-- the community; elsewhere it is a tombstone).
ALTER TABLE objects ADD COLUMN locked_at DATETIME;
ALTER TABLE objects ADD COLUMN removed_at DATETIME;

-- The moderators of remote communities, as their moderators collection
-- and their Add and Remove say. (A local community's are its members with
-- the role owner or moderator.)
CREATE TABLE community_moderators (
    community_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    PRIMARY KEY (community_actor_id, actor_id)
);

-- An actor banned from a community, until expires_at (NULL: for good).
CREATE TABLE community_bans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    community_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    uri TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    expires_at DATETIME,
    created_at DATETIME NOT NULL,
    UNIQUE (community_actor_id, actor_id)
);

-- The modlog: every moderation action in a local community, public per
-- community; a private reason is shown to its moderators only.
CREATE TABLE mod_actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    community_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    moderator_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    action TEXT NOT NULL,
    target_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    object_uri TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    reason_private BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at DATETIME,
    created_at DATETIME NOT NULL
);
CREATE INDEX mod_actions_community ON mod_actions (community_actor_id, id);

-- +goose Down
DROP TABLE mod_actions;
DROP TABLE community_bans;
DROP TABLE community_moderators;
ALTER TABLE objects DROP COLUMN removed_at;
ALTER TABLE objects DROP COLUMN locked_at;
ALTER TABLE actors DROP COLUMN posting_restricted_to_mods;
ALTER TABLE actors DROP COLUMN moderators_uri;
