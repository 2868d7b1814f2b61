-- When a remote poll was last read from its server (issue 11, item 4): a
-- member looking at it makes it be read again, at most once a minute and
-- not after it ended, as Mastodon refreshes polls.

-- +goose Up
ALTER TABLE polls ADD COLUMN fetched_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE polls DROP COLUMN fetched_at;
