-- Every local actor names a featured collection (issue 10): GoToSocial logs
-- an error for an actor that has none. Communities had one already.

-- +goose Up
UPDATE actors SET featured_uri = uri || '/featured' WHERE local AND featured_uri = '';

-- +goose Down
UPDATE actors SET featured_uri = '' WHERE local AND type <> 'Group';
