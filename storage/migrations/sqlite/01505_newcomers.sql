-- The newcomer's view (issue 15, item 5): a welcome message a local
-- community's moderators set, shown to new members; and the members who
-- would rather not be listed among "people who answer here".

-- +goose Up
ALTER TABLE repertoire_settings ADD COLUMN welcome TEXT NOT NULL DEFAULT '';
CREATE TABLE answerer_optouts (
    actor_id BIGINT PRIMARY KEY REFERENCES actors (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE answerer_optouts;
ALTER TABLE repertoire_settings DROP COLUMN welcome;
