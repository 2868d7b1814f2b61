-- Kinds of post (issue 15, item 1): question, story, resource, case or
-- event; '' for a discussion and for replies. Indexed with the community
-- for lists of one kind (a community's questions).

-- +goose Up
ALTER TABLE objects ADD COLUMN kind TEXT NOT NULL DEFAULT '';
CREATE INDEX objects_community_kind ON objects (community_actor_id, kind, id);

-- +goose Down
DROP INDEX objects_community_kind;
ALTER TABLE objects DROP COLUMN kind;
