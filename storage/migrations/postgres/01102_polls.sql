-- Polls (issue 11, item 4), as Mastodon keeps them: a poll belongs to one
-- post; options and tallies are JSON arrays of the same length (titles,
-- votes per option: counted here for local polls, as the author's server
-- last said for remote ones). voters_count is NULL where a remote server
-- did not say. closed_at is when the poll's closing was handled (final
-- totals sent, voters told); update_due_at is when changed totals are
-- next sent to the poll's participants. poll_votes are votes cast here or
-- received here: one row per voter and option, uri the vote's Note id
-- (NULL for a local vote on a local poll).

-- +goose Up
CREATE TABLE polls (
    id BIGSERIAL PRIMARY KEY,
    object_id BIGINT NOT NULL UNIQUE REFERENCES objects (id) ON DELETE CASCADE,
    options TEXT NOT NULL,
    tallies TEXT NOT NULL,
    multiple BOOLEAN NOT NULL DEFAULT FALSE,
    hide_totals BOOLEAN NOT NULL DEFAULT FALSE,
    votes_count BIGINT NOT NULL DEFAULT 0,
    voters_count BIGINT,
    expires_at TIMESTAMPTZ,
    closed_at TIMESTAMPTZ,
    update_due_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX polls_open ON polls (expires_at) WHERE closed_at IS NULL;
CREATE INDEX polls_update_due ON polls (update_due_at) WHERE update_due_at IS NOT NULL;

CREATE TABLE poll_votes (
    id BIGSERIAL PRIMARY KEY,
    poll_id BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    choice INTEGER NOT NULL,
    uri TEXT UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (poll_id, actor_id, choice)
);
CREATE INDEX poll_votes_actor ON poll_votes (actor_id, poll_id);

-- +goose Down
DROP TABLE poll_votes;
DROP TABLE polls;
