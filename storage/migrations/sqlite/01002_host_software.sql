-- What software each remote server runs (issue 17, item 3), read from its
-- NodeInfo, so that a community sends each server the form of an Announce
-- it understands. software is NodeInfo's software.name, lower-cased; ''
-- when unknown. software_checked_at is when it was last asked, successful
-- or not, so that a server without NodeInfo is not asked on every post.

-- +goose Up
ALTER TABLE hosts ADD COLUMN software TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN software_version TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN software_checked_at DATETIME;

-- +goose Down
ALTER TABLE hosts DROP COLUMN software_checked_at;
ALTER TABLE hosts DROP COLUMN software_version;
ALTER TABLE hosts DROP COLUMN software;
