-- Reports (issue 14): from members here, from Mastodon and GoToSocial
-- (a Flag from their instance actor) and from Lemmy and Mbin (a Flag to
-- the community), in a queue for a community's moderators, or the
-- admins' when no local community is concerned.

-- +goose Up
CREATE TABLE reports (
    id BIGSERIAL PRIMARY KEY,
    -- The Flag's id: the one received, or the one we sent on.
    uri TEXT NOT NULL DEFAULT '',
    reporter_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    -- NULL: for the instance's admins.
    community_actor_id BIGINT REFERENCES actors (id) ON DELETE CASCADE,
    target_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    -- The reported posts' ids, one a line.
    object_uris TEXT NOT NULL DEFAULT '',
    comment TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL DEFAULT 'other',
    forwarded BOOLEAN NOT NULL DEFAULT FALSE,
    local BOOLEAN NOT NULL DEFAULT FALSE,
    state TEXT NOT NULL DEFAULT 'open',
    resolved_by_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    resolution TEXT NOT NULL DEFAULT '',
    resolved_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX reports_queue ON reports (community_actor_id, state, id);
CREATE INDEX reports_uri ON reports (uri);

-- +goose Down
DROP TABLE reports;
