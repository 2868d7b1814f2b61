-- Federation policy (issue 5): the instance's mode, its allow and block
-- rules by domain, per-community partner instances, and an audit log of
-- every change to them.

-- +goose Up
-- Instance-wide settings of the policy: federation_mode (blocklist |
-- allowlist) and publish_blocks (on | off). A missing row is the default.
CREATE TABLE federation_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated_by TEXT NOT NULL DEFAULT '',
    updated_at DATETIME NOT NULL
);

-- One row per allowed or blocked domain. A rule covers the domain and its
-- subdomains; a rule with a port (host:port) covers exactly that origin.
CREATE TABLE domain_rules (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    domain TEXT NOT NULL,
    severity TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    public_comment TEXT NOT NULL DEFAULT '',
    reject_media BOOLEAN NOT NULL DEFAULT FALSE,
    reject_reports BOOLEAN NOT NULL DEFAULT FALSE,
    obfuscate BOOLEAN NOT NULL DEFAULT FALSE,
    created_by TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL,
    UNIQUE (kind, domain)
);
CREATE INDEX domain_rules_domain ON domain_rules (domain);

-- A community with partners federates only with those domains (on top of
-- the instance policy). No rows: no restriction.
CREATE TABLE community_partners (
    community_actor_id BIGINT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    created_by TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    PRIMARY KEY (community_actor_id, domain)
);

-- Who changed the policy, what and when; also what a change removed.
CREATE TABLE policy_audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    domain TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL
);
CREATE INDEX policy_audit_created ON policy_audit (created_at, id);

-- +goose Down
DROP TABLE policy_audit;
DROP TABLE community_partners;
DROP TABLE domain_rules;
DROP TABLE federation_settings;
