-- Timelines leave out the posts of domains a member blocked, joining
-- actors to member_domain_blocks on lower(actors.domain): without an index
-- on that expression, PostgreSQL read every actor for each page
-- (issue 17, item 4; storage's TestQueryPlansAtScale).

-- +goose Up
CREATE INDEX actors_lower_domain ON actors (lower(domain));

-- +goose Down
DROP INDEX actors_lower_domain;
