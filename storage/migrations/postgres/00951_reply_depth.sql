-- How deep in its thread each post is (0 for a post that answers none):
-- storing a reply checks its parent's depth, so threads are bounded
-- without walking them.

-- +goose Up
ALTER TABLE objects ADD COLUMN reply_depth INTEGER NOT NULL DEFAULT 0;
WITH RECURSIVE d (id, depth) AS (
    SELECT id, 0 FROM objects WHERE in_reply_to_id IS NULL
    UNION ALL
    SELECT o.id, d.depth + 1 FROM objects o JOIN d ON o.in_reply_to_id = d.id
)
UPDATE objects SET reply_depth = (SELECT depth FROM d WHERE d.id = objects.id)
WHERE in_reply_to_id IS NOT NULL AND id IN (SELECT id FROM d);

-- +goose Down
ALTER TABLE objects DROP COLUMN reply_depth;
