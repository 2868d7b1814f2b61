-- Groups from the OpenID provider (issue 16): the admin's rules that map a
-- group to instance admin, to moderator of a community or to membership of
-- one (set with `commonplace oidc map`; the config's rules add to them), and
-- what each sign-in granted, so that the next sign-in takes back only what
-- a group gave once the group is gone.

-- +goose Up
CREATE TABLE oidc_group_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    group_name TEXT NOT NULL,
    role TEXT NOT NULL,
    community TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    UNIQUE (group_name, role, community)
);

CREATE TABLE oidc_grants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    community_actor_id BIGINT NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    UNIQUE (account_id, role, community_actor_id)
);

-- +goose Down
DROP TABLE oidc_grants;
DROP TABLE oidc_group_rules;
