-- Searches by prefix (accounts by name, hashtags: /api/v2/search, the web
-- search page) read every actor and every post's tag without an index
-- that serves LIKE 'prefix%' (issue 17, item 4; TestQueryPlansAtScale).
-- text_pattern_ops indexes serve it whatever the database's collation.

-- +goose Up
CREATE INDEX actors_lower_username_prefix ON actors (lower(username) text_pattern_ops);
CREATE INDEX actors_lower_display_name_prefix ON actors (lower(display_name) text_pattern_ops);
CREATE INDEX object_tags_tag_prefix ON object_tags (tag text_pattern_ops);

-- +goose Down
DROP INDEX actors_lower_username_prefix;
DROP INDEX actors_lower_display_name_prefix;
DROP INDEX object_tags_tag_prefix;
