-- OpenID Connect sign-in (issue 16): the identities that the institution's
-- provider vouches for, each tied to one account by issuer and subject
-- (never by e-mail address), and the sign-ins on their way through the
-- provider, each bound to the browser that started it and usable once.

-- +goose Up
CREATE TABLE oidc_identities (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    last_sign_in_at TIMESTAMPTZ NOT NULL,
    UNIQUE (issuer, subject)
);
CREATE INDEX oidc_identities_account ON oidc_identities (account_id);

CREATE TABLE oidc_logins (
    id BIGSERIAL PRIMARY KEY,
    state_hash TEXT NOT NULL UNIQUE,
    browser_hash TEXT NOT NULL,
    nonce TEXT NOT NULL,
    verifier TEXT NOT NULL,
    return_to TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at TIMESTAMPTZ,
    choice_hash TEXT UNIQUE,
    claims TEXT NOT NULL DEFAULT ''
);
CREATE INDEX oidc_logins_expires ON oidc_logins (expires_at);

-- +goose Down
DROP TABLE oidc_logins;
DROP TABLE oidc_identities;
