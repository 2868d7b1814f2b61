-- A boost is shown in home timelines as a status of its own, paged with
-- the posts by id (issue 10): boosts take their ids from the posts'
-- sequence, so that a boost's id and a post's id never collide and both
-- sort by when they were made. Boosts made before keep their order among
-- themselves and are numbered after every post.

-- +goose Up
UPDATE reblogs SET id = -id;
UPDATE reblogs SET id = renumbered.new_id
    FROM (SELECT old.id AS old_id, nextval('objects_id_seq') AS new_id
          FROM (SELECT id FROM reblogs ORDER BY id DESC) AS old) AS renumbered
    WHERE reblogs.id = renumbered.old_id;
ALTER TABLE reblogs ALTER COLUMN id SET DEFAULT nextval('objects_id_seq');
DROP SEQUENCE reblogs_id_seq;
-- A member's home reads the boosts of the people they follow, newest first.
CREATE INDEX reblogs_actor ON reblogs (actor_id, id);

-- +goose Down
DROP INDEX reblogs_actor;
CREATE SEQUENCE reblogs_id_seq OWNED BY reblogs.id;
SELECT setval('reblogs_id_seq', COALESCE((SELECT MAX(id) FROM reblogs), 0) + 1, false);
ALTER TABLE reblogs ALTER COLUMN id SET DEFAULT nextval('reblogs_id_seq');
