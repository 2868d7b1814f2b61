-- Pre-moderation and posting rate limits (issue 14): per community, posts
-- from members who have not posted there before, or from servers none of
-- whose members has, wait in held_posts for a moderator; posts beyond a
-- member's or a server's hourly limit are refused.

-- +goose Up
ALTER TABLE communities ADD COLUMN hold_new_members BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE communities ADD COLUMN hold_new_instances BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE communities ADD COLUMN member_posts_per_hour INTEGER NOT NULL DEFAULT 0;
ALTER TABLE communities ADD COLUMN instance_posts_per_hour INTEGER NOT NULL DEFAULT 0;

CREATE TABLE held_posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    community_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    author_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    object_uri TEXT NOT NULL,
    in_reply_to_uri TEXT NOT NULL DEFAULT '',
    -- What moderators read: the title and sanitised content.
    name TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL DEFAULT '',
    -- The activity as received (or as the local member sent it) and its
    -- object, applied as they are when a moderator approves.
    raw TEXT NOT NULL,
    object_raw TEXT NOT NULL,
    -- new_member or new_instance.
    reason TEXT NOT NULL,
    -- held, approved or rejected.
    state TEXT NOT NULL DEFAULT 'held',
    decided_by_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    decided_at DATETIME,
    created_at DATETIME NOT NULL
);
CREATE UNIQUE INDEX held_posts_object ON held_posts (object_uri);
CREATE INDEX held_posts_queue ON held_posts (community_actor_id, state, id);
CREATE INDEX held_posts_author ON held_posts (community_actor_id, author_actor_id, created_at);
-- Rate limits count a community's posts of the last hour.
CREATE INDEX objects_community_created ON objects (community_actor_id, created_at);

-- +goose Down
DROP INDEX objects_community_created;
DROP TABLE held_posts;
ALTER TABLE communities DROP COLUMN instance_posts_per_hour;
ALTER TABLE communities DROP COLUMN member_posts_per_hour;
ALTER TABLE communities DROP COLUMN hold_new_instances;
ALTER TABLE communities DROP COLUMN hold_new_members;
