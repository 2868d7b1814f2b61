-- A boost is shown in home timelines as a status of its own, paged with
-- the posts by id (issue 10): boosts take their ids from the posts'
-- sequence (objects' row in sqlite_sequence, which storage's PutReblog
-- advances), so that a boost's id and a post's id never collide and both
-- sort by when they were made. Boosts made before keep their order among
-- themselves and are numbered after every post.

-- +goose Up
CREATE TEMP TABLE reblog_renumbering AS
    SELECT id AS old_id,
           (SELECT seq FROM sqlite_sequence WHERE name = 'objects') + row_number() OVER (ORDER BY id) AS new_id
    FROM reblogs;
UPDATE reblogs SET id = -id;
UPDATE reblogs SET id = (SELECT new_id FROM reblog_renumbering WHERE old_id = -reblogs.id);
UPDATE sqlite_sequence SET seq = seq + (SELECT count(*) FROM reblog_renumbering) WHERE name = 'objects';
DROP TABLE reblog_renumbering;
-- A member's home reads the boosts of the people they follow, newest first.
CREATE INDEX reblogs_actor ON reblogs (actor_id, id);

-- +goose Down
DROP INDEX reblogs_actor;
