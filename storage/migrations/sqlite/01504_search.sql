-- Full-text search over posts and replies (issue 15, item 4): each
-- object's title and plain text in an FTS5 table whose rowid is the
-- object's id, English stemming (porter) over unicode61 without
-- diacritics. Written by the federation layer when a post is stored or
-- edited, removed when it is deleted (storage.TombstoneObject).

-- +goose Up
CREATE VIRTUAL TABLE object_fts USING fts5(title, body, tokenize = 'porter unicode61 remove_diacritics 2');

-- +goose Down
DROP TABLE object_fts;
