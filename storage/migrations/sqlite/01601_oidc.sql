-- OpenID Connect sign-in (issue 16): the identities that the institution's
-- provider vouches for, each tied to one account by issuer and subject
-- (never by e-mail address), and the sign-ins on their way through the
-- provider, each bound to the browser that started it and usable once.

-- +goose Up
CREATE TABLE oidc_identities (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    last_sign_in_at DATETIME NOT NULL,
    UNIQUE (issuer, subject)
);
CREATE INDEX oidc_identities_account ON oidc_identities (account_id);

CREATE TABLE oidc_logins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    state_hash TEXT NOT NULL UNIQUE,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    return_to TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    used_at DATETIME,
    choice_hash TEXT UNIQUE,
    claims TEXT NOT NULL DEFAULT ''
);
CREATE INDEX oidc_logins_expires ON oidc_logins (expires_at);

-- +goose Down
DROP TABLE oidc_logins;
DROP TABLE oidc_identities;
