-- Accepted answers (issue 15, item 2): the reply the asker or a moderator
-- accepted as a question's answer, by its id (the AP id, as the Accept
-- activity names it), and when. '' while a question is unanswered.

-- +goose Up
ALTER TABLE objects ADD COLUMN accepted_answer_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE objects ADD COLUMN answered_at TIMESTAMPTZ;
-- Finds the question an answer answers when the answer goes (deleted or
-- removed); only answered questions are in it.
CREATE INDEX objects_accepted_answer ON objects (accepted_answer_uri) WHERE accepted_answer_uri <> '';

-- +goose Down
DROP INDEX objects_accepted_answer;
ALTER TABLE objects DROP COLUMN answered_at;
ALTER TABLE objects DROP COLUMN accepted_answer_uri;
