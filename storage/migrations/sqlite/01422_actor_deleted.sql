-- A deleted local community (issue 14, item 6): its actor row stays, with
-- its keys, so that the Delete sent to the members' servers can be signed
-- and its name is never handed to someone else; deleted_at keeps it out of
-- every lookup by name (WebFinger, its page, its documents).

-- +goose Up
ALTER TABLE actors ADD COLUMN deleted_at DATETIME;

-- +goose Down
ALTER TABLE actors DROP COLUMN deleted_at;
