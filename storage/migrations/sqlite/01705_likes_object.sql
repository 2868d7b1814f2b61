-- A post's likes by the post (its page's likers, the counts of a page of
-- statuses, the cascade when a post is deleted): likes had no index that
-- starts with object_id, so SQLite read every actor and probed likes for
-- each on a thread's page at a million posts (issue 17, item 4), and
-- with many likes either database read them all.

-- +goose Up
CREATE INDEX likes_object ON likes (object_id, id);

-- +goose Down
DROP INDEX likes_object;
