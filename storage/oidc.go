package storage

import (
	"context"
	"time"
)

// OIDCIdentity ties a person at an OpenID provider (issuer and subject,
// which the provider never reassigns) to a local account.
type OIDCIdentity struct {
	ID           int64
	AccountID    int64
	Account      *Account `gorm:"foreignKey:AccountID"`
	Issuer       string
	Subject      string
	CreatedAt    time.Time
	LastSignInAt time.Time
}

// OIDCLogin is a sign-in on its way through the provider. StateHash and
// BrowserHash are SHA-256 of the state sent to the provider and of the
// random value in the starting browser's cookie: the answer is taken only
// from that browser, and only once (UsedAt). When the provider's answer
// needs the person to choose a name, ChoiceHash and Claims hold it until
// they do.
type OIDCLogin struct {
	ID          int64
	StateHash   string
	BrowserHash string
	Nonce       string
	Verifier    string
	// ReturnTo is the local path the browser goes to once signed in:
	// an OAuth authorization request that the sign-in interrupted
	// resumes there.
	ReturnTo   string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
	ChoiceHash *string
	Claims     string
}

// TableName implements GORM's tabler.
func (OIDCLogin) TableName() string { return "oidc_logins" }

// TableName implements GORM's tabler.
func (OIDCIdentity) TableName() string { return "oidc_identities" }

// GetOIDCIdentity returns the identity with its account and the account's
// actor, or ErrNotFound.
func (db *DB) GetOIDCIdentity(ctx context.Context, issuer, subject string) (*OIDCIdentity, error) {
	var id OIDCIdentity
	err := db.Gorm(ctx).Preload("Account.Actor").Where("issuer = ? AND subject = ?", issuer, subject).Take(&id).Error
	return &id, wrap(err, "get identity")
}

// CreateOIDCIdentity ties an identity to an account. ErrConflict if the
// identity is already tied to one.
func (db *DB) CreateOIDCIdentity(ctx context.Context, id *OIDCIdentity) error {
	id.CreatedAt, id.LastSignInAt = id.CreatedAt.UTC(), id.LastSignInAt.UTC()
	return wrap(db.Gorm(ctx).Omit("Account").Create(id).Error, "create identity")
}

// TouchOIDCIdentity records a sign-in with the identity.
func (db *DB) TouchOIDCIdentity(ctx context.Context, id int64, now time.Time) error {
	err := db.Gorm(ctx).Model(&OIDCIdentity{}).Where("id = ?", id).Update("last_sign_in_at", now.UTC()).Error
	return wrap(err, "touch identity %d", id)
}

// ListOIDCIdentities returns the identities tied to an account.
func (db *DB) ListOIDCIdentities(ctx context.Context, accountID int64) ([]OIDCIdentity, error) {
	var out []OIDCIdentity
	err := db.Gorm(ctx).Where("account_id = ?", accountID).Order("id").Find(&out).Error
	return out, wrap(err, "list identities of account %d", accountID)
}

// CreateOIDCLogin stores a sign-in that is leaving for the provider.
func (db *DB) CreateOIDCLogin(ctx context.Context, l *OIDCLogin) error {
	l.CreatedAt, l.ExpiresAt = l.CreatedAt.UTC(), l.ExpiresAt.UTC()
	return wrap(db.Gorm(ctx).Create(l).Error, "create sign-in")
}

// UseOIDCLogin marks the unexpired, unused sign-in with the state's hash,
// started by the browser with browserHash, as used and returns it. Of two
// uses exactly one succeeds; the other, a replay, or another browser's
// use gets ErrNotFound.
func (db *DB) UseOIDCLogin(ctx context.Context, stateHash, browserHash string, now time.Time) (*OIDCLogin, error) {
	now = now.UTC()
	var l OIDCLogin
	err := db.Tx(ctx, func(tx *DB) error {
		res := tx.Gorm(ctx).Model(&OIDCLogin{}).
			Where("state_hash = ? AND browser_hash = ? AND used_at IS NULL AND expires_at > ?", stateHash, browserHash, now).
			Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return tx.Gorm(ctx).Where("state_hash = ?", stateHash).Take(&l).Error
	})
	return &l, wrap(err, "use sign-in")
}

// HoldOIDCLogin keeps a used sign-in's verified claims until expires, for
// the person to choose a name, under a new token's hash.
func (db *DB) HoldOIDCLogin(ctx context.Context, id int64, choiceHash, claims string, expires time.Time) error {
	err := db.Gorm(ctx).Model(&OIDCLogin{}).Where("id = ?", id).
		Updates(map[string]any{"choice_hash": choiceHash, "claims": claims, "expires_at": expires.UTC()}).Error
	return wrap(err, "hold sign-in %d", id)
}

// GetOIDCChoice returns the held sign-in with the choice token's hash,
// started by the browser with browserHash, or ErrNotFound.
func (db *DB) GetOIDCChoice(ctx context.Context, choiceHash, browserHash string, now time.Time) (*OIDCLogin, error) {
	var l OIDCLogin
	err := db.Gorm(ctx).Where("choice_hash = ? AND browser_hash = ? AND expires_at > ?", choiceHash, browserHash, now.UTC()).Take(&l).Error
	return &l, wrap(err, "get held sign-in")
}

// DeleteOIDCLogin removes a finished sign-in.
func (db *DB) DeleteOIDCLogin(ctx context.Context, id int64) error {
	return wrap(db.Gorm(ctx).Delete(&OIDCLogin{}, id).Error, "delete sign-in %d", id)
}

// DeleteExpiredOIDCLogins removes sign-ins that expired before now, at
// most limit of them.
func (db *DB) DeleteExpiredOIDCLogins(ctx context.Context, now time.Time, limit int) (int64, error) {
	res := db.Gorm(ctx).Where("id IN (?)",
		db.Gorm(ctx).Model(&OIDCLogin{}).Select("id").Where("expires_at < ?", now.UTC()).Limit(limit)).
		Delete(&OIDCLogin{})
	return res.RowsAffected, wrap(res.Error, "delete expired sign-ins")
}

// OIDCGroupRule maps a group of the provider's groups claim to a role:
// RoleAdmin (of the instance), RoleModerator or RoleMember of Community.
type OIDCGroupRule struct {
	ID        int64
	Group     string `gorm:"column:group_name"`
	Role      string
	Community string
	CreatedAt time.Time
}

// RoleAdmin is the instance admin role that a group can grant.
const RoleAdmin = "admin"

// TableName implements GORM's tabler.
func (OIDCGroupRule) TableName() string { return "oidc_group_rules" }

// OIDCGrant is what a group gave an account at a sign-in: the next
// sign-in takes it back when the group is gone. CommunityActorID is 0
// for the admin role.
type OIDCGrant struct {
	ID               int64
	AccountID        int64
	Role             string
	CommunityActorID int64
	CreatedAt        time.Time
}

// TableName implements GORM's tabler.
func (OIDCGrant) TableName() string { return "oidc_grants" }

// PutOIDCGroupRule stores a rule; ErrConflict if it exists.
func (db *DB) PutOIDCGroupRule(ctx context.Context, r *OIDCGroupRule) error {
	r.CreatedAt = r.CreatedAt.UTC()
	return wrap(db.Gorm(ctx).Create(r).Error, "create group rule")
}

// DeleteOIDCGroupRule removes a rule; ErrNotFound if there is none.
func (db *DB) DeleteOIDCGroupRule(ctx context.Context, group, role, community string) error {
	res := db.Gorm(ctx).Where("group_name = ? AND role = ? AND community = ?", group, role, community).Delete(&OIDCGroupRule{})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "delete group rule")
	}
	return wrap(res.Error, "delete group rule")
}

// ListOIDCGroupRules returns the stored rules by group.
func (db *DB) ListOIDCGroupRules(ctx context.Context) ([]OIDCGroupRule, error) {
	var out []OIDCGroupRule
	err := db.Gorm(ctx).Order("group_name, role, community").Limit(10000).Find(&out).Error
	return out, wrap(err, "list group rules")
}

// ListOIDCGrants returns what groups gave an account.
func (db *DB) ListOIDCGrants(ctx context.Context, accountID int64) ([]OIDCGrant, error) {
	var out []OIDCGrant
	err := db.Gorm(ctx).Where("account_id = ?", accountID).Order("id").Find(&out).Error
	return out, wrap(err, "list grants of account %d", accountID)
}

// CreateOIDCGrant records what a group gave.
func (db *DB) CreateOIDCGrant(ctx context.Context, g *OIDCGrant) error {
	g.CreatedAt = g.CreatedAt.UTC()
	return wrap(db.Gorm(ctx).Create(g).Error, "create grant")
}

// DeleteOIDCGrant forgets a grant that was taken back.
func (db *DB) DeleteOIDCGrant(ctx context.Context, id int64) error {
	return wrap(db.Gorm(ctx).Delete(&OIDCGrant{}, id).Error, "delete grant %d", id)
}

// SetMembershipRole sets a membership's role (RoleMember, RoleModerator).
func (db *DB) SetMembershipRole(ctx context.Context, communityActorID, memberActorID int64, role string) error {
	res := db.Gorm(ctx).Model(&Membership{}).Where("community_actor_id = ? AND member_actor_id = ?", communityActorID, memberActorID).
		Updates(map[string]any{"role": role, "updated_at": time.Now().UTC()})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "set role of %d in %d", memberActorID, communityActorID)
	}
	return wrap(res.Error, "set role of %d in %d", memberActorID, communityActorID)
}
