-- Full-text search over posts and replies (issue 15, item 4): each
-- object's title and plain text, and their tsvector (English stemming,
-- the title weighted above the text) under a GIN index. Written by the
-- federation layer when a post is stored or edited, removed when it is
-- deleted (storage.TombstoneObject) or with its object.

-- +goose Up
CREATE TABLE object_texts (
    object_id BIGINT PRIMARY KEY REFERENCES objects (id) ON DELETE CASCADE,
    title TEXT NOT NULL DEFAULT '',
    body TEXT NOT NULL DEFAULT '',
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')
    ) STORED
);
CREATE INDEX object_texts_tsv ON object_texts USING GIN (tsv);

-- +goose Down
DROP TABLE object_texts;
