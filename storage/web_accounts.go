package storage

import (
	"gorm.io/gorm"

	"context"
	"time"
)

// Session is a signed-in browser. Only the hash of its cookie's token is
// kept, so a copy of the database cannot sign anyone in.
type Session struct {
	ID         int64
	TokenHash  string
	AccountID  int64
	Account    *Account `gorm:"foreignKey:AccountID"`
	UserAgent  string
	IP         string `gorm:"column:ip"`
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// TableName implements GORM's tabler.
func (Session) TableName() string { return "web_sessions" }

// Purposes of one-time account links.
const (
	LinkConfirm = "confirm"
	LinkReset   = "reset"
)

// AccountLink is a one-time link sent to a member: to confirm their
// e-mail address or to choose a new password.
type AccountLink struct {
	ID        int64
	TokenHash string
	AccountID int64
	Account   *Account `gorm:"foreignKey:AccountID"`
	Purpose   string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// Invite lets people register while registration is by invitation.
type Invite struct {
	ID        int64
	TokenHash string
	CreatedBy *int64 `gorm:"column:created_by"`
	MaxUses   int
	Uses      int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CreateSession stores a new session.
func (db *DB) CreateSession(ctx context.Context, s *Session) error {
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = s.CreatedAt.UTC(), s.LastSeenAt.UTC(), s.ExpiresAt.UTC()
	return wrap(db.Gorm(ctx).Create(s).Error, "create session")
}

// GetSession returns the unexpired session whose token hashes to
// tokenHash, with its account and the account's actor.
func (db *DB) GetSession(ctx context.Context, tokenHash string, now time.Time) (*Session, error) {
	var s Session
	err := db.Gorm(ctx).Preload("Account.Actor").
		Where("token_hash = ? AND expires_at > ?", tokenHash, now.UTC()).Take(&s).Error
	return &s, wrap(err, "get session")
}

// TouchSession records that a session was used and extends it to
// expires, at most once a minute so that reading pages does not turn
// into a write per request.
func (db *DB) TouchSession(ctx context.Context, id int64, now, expires time.Time) error {
	now = now.UTC()
	err := db.Gorm(ctx).Model(&Session{}).
		Where("id = ? AND last_seen_at < ?", id, now.Add(-time.Minute)).
		Updates(map[string]any{"last_seen_at": now, "expires_at": expires.UTC()}).Error
	return wrap(err, "touch session %d", id)
}

// ListSessions returns an account's unexpired sessions, most recently
// used first.
func (db *DB) ListSessions(ctx context.Context, accountID int64, now time.Time) ([]Session, error) {
	var out []Session
	err := db.Gorm(ctx).Where("account_id = ? AND expires_at > ?", accountID, now.UTC()).
		Order("last_seen_at DESC, id DESC").Limit(100).Find(&out).Error
	return out, wrap(err, "list sessions")
}

// DeleteSession ends one of an account's sessions. ErrNotFound if it has
// no such session.
func (db *DB) DeleteSession(ctx context.Context, accountID, id int64) error {
	res := db.Gorm(ctx).Where("id = ? AND account_id = ?", id, accountID).Delete(&Session{})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "delete session %d", id)
	}
	return wrap(res.Error, "delete session %d", id)
}

// DeleteSessions ends every session of an account but keep (0 for none),
// and returns how many it ended.
func (db *DB) DeleteSessions(ctx context.Context, accountID, keep int64) (int64, error) {
	res := db.Gorm(ctx).Where("account_id = ? AND id <> ?", accountID, keep).Delete(&Session{})
	return res.RowsAffected, wrap(res.Error, "delete sessions of account %d", accountID)
}

// DeleteExpiredSessions removes sessions that expired before now, at most
// limit of them.
func (db *DB) DeleteExpiredSessions(ctx context.Context, now time.Time, limit int) (int64, error) {
	res := db.Gorm(ctx).Where("id IN (?)",
		db.Gorm(ctx).Model(&Session{}).Select("id").Where("expires_at < ?", now.UTC()).Limit(limit)).
		Delete(&Session{})
	return res.RowsAffected, wrap(res.Error, "delete expired sessions")
}

// CreateAccountLink stores a one-time link.
func (db *DB) CreateAccountLink(ctx context.Context, l *AccountLink) error {
	l.CreatedAt, l.ExpiresAt = l.CreatedAt.UTC(), l.ExpiresAt.UTC()
	return wrap(db.Gorm(ctx).Create(l).Error, "create account link")
}

// UseAccountLink marks the unexpired, unused link for purpose with hash
// tokenHash as used and returns it with its account. Of two concurrent
// uses exactly one succeeds; the other gets ErrNotFound.
func (db *DB) UseAccountLink(ctx context.Context, tokenHash, purpose string, now time.Time) (*AccountLink, error) {
	now = now.UTC()
	var l AccountLink
	err := db.Tx(ctx, func(tx *DB) error {
		res := tx.Gorm(ctx).Model(&AccountLink{}).
			Where("token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?", tokenHash, purpose, now).
			Update("used_at", now)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return tx.Gorm(ctx).Preload("Account.Actor").Where("token_hash = ?", tokenHash).Take(&l).Error
	})
	return &l, wrap(err, "use account link")
}

// CreateInvite stores an invitation.
func (db *DB) CreateInvite(ctx context.Context, in *Invite) error {
	in.CreatedAt, in.ExpiresAt = in.CreatedAt.UTC(), in.ExpiresAt.UTC()
	return wrap(db.Gorm(ctx).Create(in).Error, "create invite")
}

// UseInvite spends one use of the unexpired invitation with hash
// tokenHash. ErrNotFound if there is none or it is used up.
func (db *DB) UseInvite(ctx context.Context, tokenHash string, now time.Time) error {
	res := db.Gorm(ctx).Model(&Invite{}).
		Where("token_hash = ? AND uses < max_uses AND expires_at > ?", tokenHash, now.UTC()).
		Update("uses", gorm.Expr("uses + 1"))
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "use invite")
	}
	return wrap(res.Error, "use invite")
}

// UpdateAccount sets columns of an account (password_hash, confirmed_at,
// approved, email).
func (db *DB) UpdateAccount(ctx context.Context, id int64, fields map[string]any) error {
	res := db.Gorm(ctx).Model(&Account{}).Where("id = ?", id).Updates(fields)
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "update account %d", id)
	}
	return wrap(res.Error, "update account %d", id)
}

// ListPendingAccounts returns accounts waiting for an admin's approval,
// oldest first.
func (db *DB) ListPendingAccounts(ctx context.Context, limit int) ([]Account, error) {
	var out []Account
	err := db.Gorm(ctx).Joins("Actor").Where("NOT accounts.approved").Order("accounts.id").Limit(limit).Find(&out).Error
	return out, wrap(err, "list pending accounts")
}

// DeleteAccount removes an account that never took part (a refused
// registration) with its actor.
func (db *DB) DeleteAccount(ctx context.Context, acct *Account) error {
	return db.Tx(ctx, func(tx *DB) error {
		if err := tx.Gorm(ctx).Delete(&Account{}, acct.ID).Error; err != nil {
			return wrap(err, "delete account %d", acct.ID)
		}
		return wrap(tx.Gorm(ctx).Delete(&Actor{}, acct.ActorID).Error, "delete actor %d", acct.ActorID)
	})
}

// UpdateActorProfile sets a local actor's display name and summary.
func (db *DB) UpdateActorProfile(ctx context.Context, id int64, displayName, summary string) error {
	res := db.Gorm(ctx).Model(&Actor{}).Where("id = ? AND local", id).
		Updates(map[string]any{"display_name": displayName, "summary": summary})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "update profile of actor %d", id)
	}
	return wrap(res.Error, "update profile of actor %d", id)
}
