package storage

import (
	"context"
	"time"
)

// The client API's OAuth state. Client secrets, authorization codes and
// access tokens are stored only as SHA-256 hashes (hex): a leaked database
// does not hand out logins, and a lookup by hash is still one index probe.
// Hashing and token generation belong to the caller.

// OAuthApp is a registered client application (POST /api/v1/apps).
type OAuthApp struct {
	ID               int64
	ClientID         string
	ClientSecretHash string
	Name             string
	Website          string
	// RedirectURIs are newline-separated, Scopes space-separated, as
	// Mastodon accepts them.
	RedirectURIs string `gorm:"column:redirect_uris"`
	Scopes       string
	CreatedAt    time.Time
}

// TableName implements GORM's tabler.
func (OAuthApp) TableName() string { return "oauth_apps" }

// OAuthCode is an authorization code waiting to be exchanged for a token.
type OAuthCode struct {
	ID                  int64
	CodeHash            string
	AppID               int64
	AccountID           int64
	RedirectURI         string `gorm:"column:redirect_uri"`
	Scopes              string
	CodeChallenge       string
	CodeChallengeMethod string
	ExpiresAt           time.Time
	UsedAt              *time.Time
	CreatedAt           time.Time
}

// TableName implements GORM's tabler.
func (OAuthCode) TableName() string { return "oauth_authorization_codes" }

// OAuthToken is an access token. AccountID nil means an application token
// (client_credentials); AppID nil means a token minted by the CLI.
type OAuthToken struct {
	ID        int64
	TokenHash string
	AppID     *int64
	App       *OAuthApp `gorm:"foreignKey:AppID"`
	AccountID *int64
	Account   *Account `gorm:"foreignKey:AccountID"`
	// CodeID is the authorization code the token was exchanged for.
	CodeID     *int64
	Scopes     string
	RevokedAt  *time.Time
	LastUsedAt *time.Time
	CreatedAt  time.Time
}

// TableName implements GORM's tabler.
func (OAuthToken) TableName() string { return "oauth_tokens" }

// CreateOAuthApp registers an application. ErrConflict if the client id is
// taken.
func (db *DB) CreateOAuthApp(ctx context.Context, app *OAuthApp) error {
	return wrap(db.Gorm(ctx).Create(app).Error, "create oauth app %q", app.Name)
}

// GetOAuthAppByClientID returns the application with client id clientID.
func (db *DB) GetOAuthAppByClientID(ctx context.Context, clientID string) (*OAuthApp, error) {
	var app OAuthApp
	err := db.Gorm(ctx).Where("client_id = ?", clientID).Take(&app).Error
	return &app, wrap(err, "get oauth app")
}

// CreateOAuthCode stores an authorization code.
func (db *DB) CreateOAuthCode(ctx context.Context, code *OAuthCode) error {
	return wrap(db.Gorm(ctx).Create(code).Error, "create authorization code")
}

// ExchangeOAuthCode exchanges the unexpired, unused code with hash
// codeHash for tok: it marks the code used and, if check accepts the code,
// stores tok made from it, in one transaction. A code is good for one
// exchange: of two concurrent exchanges exactly one succeeds. A code used
// before is ErrNotFound, and the token its first exchange made is revoked
// (RFC 6749 §4.1.2: whoever presents it twice may have stolen it). A code
// that check refuses stays used; check's error is returned.
func (db *DB) ExchangeOAuthCode(ctx context.Context, codeHash string, now time.Time, check func(*OAuthCode) error, tok *OAuthToken) (*OAuthCode, error) {
	now = now.UTC()
	var (
		code    OAuthCode
		reused  bool
		refused error
	)
	err := db.Tx(ctx, func(tx *DB) error {
		res := tx.Gorm(ctx).Model(&OAuthCode{}).
			Where("code_hash = ? AND used_at IS NULL AND expires_at > ?", codeHash, now).
			Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			reused = true
			return tx.Gorm(ctx).Model(&OAuthToken{}).
				Where("revoked_at IS NULL AND code_id IN (?)",
					tx.Gorm(ctx).Model(&OAuthCode{}).Select("id").Where("code_hash = ? AND used_at IS NOT NULL", codeHash)).
				Update("revoked_at", now).Error
		}
		if err := tx.Gorm(ctx).Where("code_hash = ?", codeHash).Take(&code).Error; err != nil {
			return err
		}
		if refused = check(&code); refused != nil {
			return nil
		}
		tok.CodeID = &code.ID
		return tx.Gorm(ctx).Create(tok).Error
	})
	switch {
	case err != nil:
		return nil, wrap(err, "exchange authorization code")
	case reused:
		return nil, wrap(ErrNotFound, "exchange authorization code")
	}
	return &code, refused
}

// CreateOAuthToken stores an access token.
func (db *DB) CreateOAuthToken(ctx context.Context, t *OAuthToken) error {
	return wrap(db.Gorm(ctx).Create(t).Error, "create access token")
}

// GetOAuthToken returns the live (not revoked) token with hash tokenHash,
// with its application and its account's actor.
func (db *DB) GetOAuthToken(ctx context.Context, tokenHash string) (*OAuthToken, error) {
	var t OAuthToken
	err := db.Gorm(ctx).Preload("App").Preload("Account.Actor").
		Where("token_hash = ? AND revoked_at IS NULL", tokenHash).Take(&t).Error
	return &t, wrap(err, "get access token")
}

// TouchOAuthToken records that a token was used, at most once a minute so
// that reads do not turn into a write per request.
func (db *DB) TouchOAuthToken(ctx context.Context, id int64, now time.Time) error {
	now = now.UTC()
	err := db.Gorm(ctx).Model(&OAuthToken{}).
		Where("id = ? AND (last_used_at IS NULL OR last_used_at < ?)", id, now.Add(-time.Minute)).
		Update("last_used_at", now).Error
	return wrap(err, "touch access token %d", id)
}

// RevokeOAuthToken revokes the token with hash tokenHash if it belongs to
// appID. It reports whether a token was revoked.
func (db *DB) RevokeOAuthToken(ctx context.Context, appID int64, tokenHash string, now time.Time) (bool, error) {
	res := db.Gorm(ctx).Model(&OAuthToken{}).
		Where("token_hash = ? AND app_id = ? AND revoked_at IS NULL", tokenHash, appID).
		Update("revoked_at", now.UTC())
	return res.RowsAffected > 0, wrap(res.Error, "revoke access token")
}
