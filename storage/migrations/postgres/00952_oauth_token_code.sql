-- The authorization code a token was exchanged for: a second exchange of
-- the code revokes that token (RFC 6749 §4.1.2).

-- +goose Up
ALTER TABLE oauth_tokens ADD COLUMN code_id BIGINT REFERENCES oauth_authorization_codes (id) ON DELETE SET NULL;
CREATE INDEX oauth_tokens_code ON oauth_tokens (code_id) WHERE code_id IS NOT NULL;

-- +goose Down
DROP INDEX oauth_tokens_code;
ALTER TABLE oauth_tokens DROP COLUMN code_id;
