-- Accounts for the web: sign-up by registration mode (approval, invites),
-- e-mail confirmation, sessions kept in the database (revocable, listed in
-- settings, valid on every replica), one-time links (confirmation,
-- password reset) and invitations. Tokens are stored as SHA-256 hashes.

-- +goose Up
-- Accounts made before this migration were made by an admin: confirmed and
-- approved.
ALTER TABLE accounts ADD COLUMN confirmed_at DATETIME;
ALTER TABLE accounts ADD COLUMN approved BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE accounts ADD COLUMN reason TEXT NOT NULL DEFAULT '';
UPDATE accounts SET confirmed_at = created_at;

CREATE TABLE web_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    user_agent TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);
CREATE INDEX web_sessions_account ON web_sessions (account_id);

CREATE TABLE account_links (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at DATETIME
);
CREATE INDEX account_links_account ON account_links (account_id);

CREATE TABLE invites (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL UNIQUE,
    created_by BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    max_uses INTEGER NOT NULL,
    uses INTEGER NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL
);

-- +goose Down
DROP TABLE invites;
DROP TABLE account_links;
DROP TABLE web_sessions;
ALTER TABLE accounts DROP COLUMN reason;
ALTER TABLE accounts DROP COLUMN approved;
ALTER TABLE accounts DROP COLUMN confirmed_at;
