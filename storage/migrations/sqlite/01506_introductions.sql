-- The introductions thread (issue 15, item 5): the post of a local
-- community where newcomers introduce themselves, chosen by its
-- moderators; the newcomer's view leads to it.

-- +goose Up
ALTER TABLE repertoire_settings ADD COLUMN introductions_object_id BIGINT REFERENCES objects (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE repertoire_settings DROP COLUMN introductions_object_id;
