-- The curated repertoire (issue 15, item 3): posts a community's
-- moderators (and, where the community allows it, its trusted members)
-- keep for newcomers, in ordered sections ("Start here", "Templates").
-- Published as the Group's featured collection; for a remote community,
-- what its featured collection says.

-- +goose Up
CREATE TABLE repertoire_items (
    id BIGSERIAL PRIMARY KEY,
    community_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    object_id BIGINT NOT NULL REFERENCES objects (id) ON DELETE CASCADE,
    -- The section's title ('' for none); sections come in the order of
    -- their first item.
    section TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL,
    added_by_actor_id BIGINT REFERENCES actors (id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (community_actor_id, object_id)
);
CREATE INDEX repertoire_items_order ON repertoire_items (community_actor_id, position);

-- Members a local community's moderators trust to curate its repertoire,
-- when the community lets trusted members curate (trusted_curate).
CREATE TABLE repertoire_curators (
    community_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (community_actor_id, actor_id)
);
CREATE TABLE repertoire_settings (
    community_actor_id BIGINT PRIMARY KEY REFERENCES actors (id) ON DELETE CASCADE,
    trusted_curate BOOLEAN NOT NULL DEFAULT FALSE
);

-- +goose Down
DROP TABLE repertoire_settings;
DROP TABLE repertoire_curators;
DROP TABLE repertoire_items;
