-- The web community page's "active" sort orders a community's top-level
-- posts by their thread's latest live post. Computing that per post made
-- each page sort every top-level post of the community (issue 17, item 4);
-- last_activity_id keeps it on each top-level post instead (the id of the
-- newest live post of its thread, itself at least), maintained by
-- storage.CreateObject and storage.TombstoneObject, under an index that
-- reads a page in order.

-- +goose Up
ALTER TABLE objects ADD COLUMN last_activity_id BIGINT NOT NULL DEFAULT 0;
UPDATE objects SET last_activity_id = t.last
	FROM (SELECT context_uri, MAX(id) AS last FROM objects WHERE deleted_at IS NULL AND context_uri <> '' GROUP BY context_uri) t
	WHERE objects.in_reply_to_uri = '' AND objects.context_uri = t.context_uri;
UPDATE objects SET last_activity_id = id WHERE in_reply_to_uri = '' AND last_activity_id < id;
CREATE INDEX objects_community_activity ON objects (community_actor_id, last_activity_id, id) WHERE in_reply_to_uri = '';

-- +goose Down
DROP INDEX objects_community_activity;
ALTER TABLE objects DROP COLUMN last_activity_id;
