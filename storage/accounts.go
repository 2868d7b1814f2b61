package storage

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// CreateAccount creates a local member: its Person actor and its login, in
// one transaction. ErrConflict if the name or email is taken.
func (db *DB) CreateAccount(ctx context.Context, actor *Actor, acct *Account) error {
	return db.Tx(ctx, func(tx *DB) error {
		if err := tx.CreateActor(ctx, actor); err != nil {
			return err
		}
		acct.ActorID = actor.ID
		acct.Email = strings.TrimSpace(acct.Email)
		if err := tx.Gorm(ctx).Create(acct).Error; err != nil {
			return wrap(err, "create account %q", actor.Username)
		}
		acct.Actor = actor
		return nil
	})
}

// GetAccountByUsername returns a local member's account with its actor.
func (db *DB) GetAccountByUsername(ctx context.Context, username string) (*Account, error) {
	var acct Account
	err := db.Gorm(ctx).Joins("Actor").
		Where("lower(\"Actor\".username) = ? AND \"Actor\".local", strings.ToLower(username)).
		Take(&acct).Error
	return &acct, wrap(err, "get account %q", username)
}

// GetAccountByEmail returns the account registered with email.
func (db *DB) GetAccountByEmail(ctx context.Context, email string) (*Account, error) {
	var acct Account
	err := db.Gorm(ctx).Joins("Actor").Where("lower(accounts.email) = ?", strings.ToLower(strings.TrimSpace(email))).Take(&acct).Error
	return &acct, wrap(err, "get account by email")
}

// ListAccounts returns local accounts ordered by creation.
func (db *DB) ListAccounts(ctx context.Context, limit int) ([]Account, error) {
	var out []Account
	err := db.Gorm(ctx).Joins("Actor").Order("accounts.id").Limit(limit).Find(&out).Error
	return out, wrap(err, "list accounts")
}

// UsageCounts are the numbers NodeInfo publishes.
type UsageCounts struct {
	Users, ActiveMonth, ActiveHalfYear, LocalPosts, LocalComments, Communities int64
}

// Usage counts local members, their recent activity and local posts.
func (db *DB) Usage(ctx context.Context, now time.Time) (UsageCounts, error) {
	var u UsageCounts
	g := db.Gorm(ctx)
	if err := g.Model(&Account{}).Where("NOT disabled").Count(&u.Users).Error; err != nil {
		return u, wrap(err, "count accounts")
	}
	active := func(since time.Time, dst *int64) error {
		// A member is active if they joined or posted in the period.
		return g.Model(&Account{}).Where("NOT disabled AND (created_at >= ? OR actor_id IN (?))", since,
			g.Model(&Object{}).Select("author_actor_id").Where("local AND published_at >= ?", since)).Count(dst).Error
	}
	if err := active(now.AddDate(0, 0, -30), &u.ActiveMonth); err != nil {
		return u, wrap(err, "count active members")
	}
	if err := active(now.AddDate(0, -6, 0), &u.ActiveHalfYear); err != nil {
		return u, wrap(err, "count active members")
	}
	// A members-only community's posts, and the community itself, are
	// nobody else's business: they count nowhere.
	posts := func() *gorm.DB {
		return g.Model(&Object{}).Where("local AND deleted_at IS NULL AND visibility <> ?", VisibilityMembers)
	}
	if err := posts().Where("in_reply_to_uri = ''").Count(&u.LocalPosts).Error; err != nil {
		return u, wrap(err, "count posts")
	}
	if err := posts().Where("in_reply_to_uri <> ''").Count(&u.LocalComments).Error; err != nil {
		return u, wrap(err, "count comments")
	}
	if err := g.Model(&Community{}).Where("visibility <> ?", VisibilityMembers).Count(&u.Communities).Error; err != nil {
		return u, wrap(err, "count communities")
	}
	return u, nil
}
