-- Members-only communities (issue 14): a Group whose posts only its
-- members read. Set for local communities created members-only, and for
-- remote Groups that say so (commonplace:membersOnly).

-- +goose Up
ALTER TABLE actors ADD COLUMN members_only BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE actors DROP COLUMN members_only;
