-- Searches by prefix (accounts by name, hashtags: /api/v2/search, the web
-- search page) read every actor and every post's tag without an index
-- (issue 17, item 4; TestQueryPlansAtScale). SQLite serves a prefix as a
-- range (storage.prefixMatch) on an indexed expression: lower(username)
-- and tag have theirs (actors_username_domain, object_tags_tag);
-- lower(display_name) gets one.

-- +goose Up
CREATE INDEX actors_lower_display_name ON actors (lower(display_name));

-- +goose Down
DROP INDEX actors_lower_display_name;
