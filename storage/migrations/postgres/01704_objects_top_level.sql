-- Top-level posts (in_reply_to_uri = '', four posts in five) by index
-- (issue 17, item 4):
--
-- objects_in_reply_to_uri served no query: replies are found by
-- in_reply_to_id, and in_reply_to_uri is only compared to ''. SQLite's
-- statistics keep only the average rows per value, so its planner took
-- the index for a selective one and read every top-level post through it
-- for the home timeline at a million posts. Dropped.
--
-- objects_community_top lists a community's top-level posts newest first
-- (the web community page, the client API's community timeline): without
-- it SQLite read all of them through objects_community_activity and
-- sorted them.

-- +goose Up
DROP INDEX objects_in_reply_to_uri;
CREATE INDEX objects_community_top ON objects (community_actor_id, id) WHERE in_reply_to_uri = '';

-- +goose Down
DROP INDEX objects_community_top;
CREATE INDEX objects_in_reply_to_uri ON objects (in_reply_to_uri);
