-- Avatars and headers (issue 12): an actor's images are media rows
-- (purpose avatar or header, in no post) whose file keys the actor
-- names; a remote actor's are fetched when first viewed, like remote
-- attachments.

-- +goose Up
ALTER TABLE actors ADD COLUMN avatar_key TEXT NOT NULL DEFAULT '';
ALTER TABLE actors ADD COLUMN header_key TEXT NOT NULL DEFAULT '';
ALTER TABLE media_attachments ADD COLUMN purpose TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE media_attachments DROP COLUMN purpose;
ALTER TABLE actors DROP COLUMN header_key;
ALTER TABLE actors DROP COLUMN avatar_key;
