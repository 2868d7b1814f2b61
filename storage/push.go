package storage

import (
	"context"
	"slices"
	"time"

	"gorm.io/gorm/clause"
)

// InstanceKey is a key pair the instance made for itself (migration
// 01103); keys are encoded as their users need them.
type InstanceKey struct {
	Name       string `gorm:"primaryKey"`
	PublicKey  string
	PrivateKey string
	CreatedAt  time.Time
}

// EnsureInstanceKey stores k unless a key of its name exists, and returns
// the stored one: replicas starting together agree on the first.
func (db *DB) EnsureInstanceKey(ctx context.Context, k *InstanceKey) (*InstanceKey, error) {
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now().UTC()
	}
	if err := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(k).Error; err != nil {
		return nil, wrap(err, "instance key %q", k.Name)
	}
	var out InstanceKey
	err := db.Gorm(ctx).Where("name = ?", k.Name).Take(&out).Error
	return &out, wrap(err, "instance key %q", k.Name)
}

// GetInstanceKey returns a key the instance made.
func (db *DB) GetInstanceKey(ctx context.Context, name string) (*InstanceKey, error) {
	var out InstanceKey
	err := db.Gorm(ctx).Where("name = ?", name).Take(&out).Error
	return &out, wrap(err, "instance key %q", name)
}

// Push policies: whose notifications are pushed.
const (
	PushPolicyAll      = "all"
	PushPolicyFollowed = "followed"
	PushPolicyFollower = "follower"
	PushPolicyNone     = "none"
)

// PushSubscription is an app's Web Push subscription, one per OAuth token.
type PushSubscription struct {
	ID      int64
	TokenID int64
	ActorID int64
	// AccessToken is the token itself: Mastodon's payload carries it.
	AccessToken string
	Endpoint    string
	KeyP256dh   string `gorm:"column:key_p256dh"`
	KeyAuth     string
	// Alerts are the notification types pushed.
	Alerts    map[string]bool `gorm:"serializer:json"`
	Policy    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PutPushSubscription creates the subscription of s.TokenID, replacing any.
func (db *DB) PutPushSubscription(ctx context.Context, s *PushSubscription) error {
	return db.Tx(ctx, func(tx *DB) error {
		if err := tx.Gorm(ctx).Where("token_id = ?", s.TokenID).Delete(&PushSubscription{}).Error; err != nil {
			return wrap(err, "replace push subscription of token %d", s.TokenID)
		}
		s.ID = 0
		return wrap(tx.Gorm(ctx).Create(s).Error, "push subscription of token %d", s.TokenID)
	})
}

// GetPushSubscription returns the subscription of a token.
func (db *DB) GetPushSubscription(ctx context.Context, tokenID int64) (*PushSubscription, error) {
	var s PushSubscription
	err := db.Gorm(ctx).Where("token_id = ?", tokenID).Take(&s).Error
	return &s, wrap(err, "push subscription of token %d", tokenID)
}

// UpdatePushSubscription changes a subscription's alerts and policy.
func (db *DB) UpdatePushSubscription(ctx context.Context, s *PushSubscription) error {
	res := db.Gorm(ctx).Model(&PushSubscription{}).Where("id = ?", s.ID).Updates(map[string]any{
		"alerts": clause.Expr{SQL: "?", Vars: []any{jsonAlerts(s.Alerts)}}, "policy": s.Policy, "updated_at": time.Now().UTC(),
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "push subscription %d", s.ID)
	}
	return wrap(res.Error, "update push subscription %d", s.ID)
}

// DeletePushSubscription removes a subscription, by id.
func (db *DB) DeletePushSubscription(ctx context.Context, id int64) error {
	return wrap(db.Gorm(ctx).Delete(&PushSubscription{}, id).Error, "delete push subscription %d", id)
}

func jsonAlerts(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, k...) // alert names are fixed identifiers
		b = append(b, `":`...)
		if m[k] {
			b = append(b, "true"...)
		} else {
			b = append(b, "false"...)
		}
	}
	return string(append(b, '}'))
}

// MaxPushSubscriptions bounds the subscriptions (apps, devices) of one
// member that a notification is pushed to: the most recent ones.
const MaxPushSubscriptions = 20

// EnqueuePushes queues a push of notification n for each subscription of
// its recipient (on a live token) whose alerts and policy take it, and
// reports how many.
func (db *DB) EnqueuePushes(ctx context.Context, n *Notification) (int, error) {
	var subs []PushSubscription
	err := db.Gorm(ctx).Joins("JOIN oauth_tokens ON oauth_tokens.id = push_subscriptions.token_id").
		Where("push_subscriptions.actor_id = ? AND oauth_tokens.revoked_at IS NULL", n.RecipientActorID).
		Order("push_subscriptions.id DESC").Limit(MaxPushSubscriptions).Find(&subs).Error
	if err != nil || len(subs) == 0 {
		return 0, wrap(err, "push subscriptions of %d", n.RecipientActorID)
	}
	now := time.Now().UTC()
	var rows []map[string]any
	for _, s := range subs {
		if !s.Alerts[n.Type] {
			continue
		}
		ok, err := db.pushPolicyAllows(ctx, s.Policy, n)
		if err != nil {
			return 0, err
		}
		if ok {
			rows = append(rows, map[string]any{"subscription_id": s.ID, "notification_id": n.ID, "next_attempt_at": now, "created_at": now})
		}
	}
	if len(rows) == 0 {
		return 0, nil
	}
	err = db.Gorm(ctx).Table("push_deliveries").Clauses(clause.OnConflict{DoNothing: true}).Create(rows).Error
	return len(rows), wrap(err, "queue pushes of notification %d", n.ID)
}

// pushPolicyAllows applies a subscription's policy to n, as Mastodon's
// Web::PushNotificationWorker does: from anyone, from accounts the
// recipient follows, from its followers, or from no one.
func (db *DB) pushPolicyAllows(ctx context.Context, policy string, n *Notification) (bool, error) {
	var follower, followed int64
	switch policy {
	case PushPolicyNone:
		return false, nil
	case PushPolicyFollowed:
		follower, followed = n.RecipientActorID, n.FromActorID
	case PushPolicyFollower:
		follower, followed = n.FromActorID, n.RecipientActorID
	default:
		return true, nil
	}
	var c int64
	err := db.Gorm(ctx).Model(&Membership{}).
		Where("member_actor_id = ? AND community_actor_id = ? AND state = ?", follower, followed, StateAccepted).Count(&c).Error
	return c > 0, wrap(err, "push policy %q", policy)
}

// PushDelivery is one queued push.
type PushDelivery struct {
	ID             int64
	SubscriptionID int64
	NotificationID int64
	Attempts       int
	NextAttemptAt  time.Time
	LockedUntil    *time.Time
	LastError      string
	CreatedAt      time.Time
}

// ClaimPushes leases up to limit pushes due by now to the caller, as
// ClaimDeliveries does for activities.
func (db *DB) ClaimPushes(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]PushDelivery, error) {
	now = now.UTC()
	until := now.Add(lease)
	const where = `next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)`
	var out []PushDelivery
	var err error
	if db.dialect == Postgres {
		err = db.Gorm(ctx).Raw(`WITH due AS (SELECT id FROM push_deliveries WHERE `+where+`
				ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
			UPDATE push_deliveries SET locked_until = ?, attempts = attempts + 1 FROM due
			WHERE push_deliveries.id = due.id RETURNING push_deliveries.*`, now, now, limit, until).Scan(&out).Error
	} else {
		err = db.Tx(ctx, func(tx *DB) error {
			var ids []int64
			g := tx.Gorm(ctx)
			if err := g.Raw(`SELECT id FROM push_deliveries WHERE `+where+` ORDER BY next_attempt_at, id LIMIT ?`, now, now, limit).Scan(&ids).Error; err != nil {
				return err
			}
			if len(ids) == 0 {
				return nil
			}
			if err := g.Exec(`UPDATE push_deliveries SET locked_until = ?, attempts = attempts + 1 WHERE id IN ?`, until, ids).Error; err != nil {
				return err
			}
			return g.Where("id IN ?", ids).Find(&out).Error
		})
	}
	slices.SortFunc(out, func(a, b PushDelivery) int { return int(a.ID - b.ID) })
	return out, wrap(err, "claim pushes")
}

// FinishPush removes a push that was sent or given up.
func (db *DB) FinishPush(ctx context.Context, id int64) error {
	return wrap(db.Gorm(ctx).Delete(&PushDelivery{}, id).Error, "finish push %d", id)
}

// RetryPush schedules another attempt of a push.
func (db *DB) RetryPush(ctx context.Context, id int64, at time.Time, reason string) error {
	err := db.Gorm(ctx).Model(&PushDelivery{}).Where("id = ?", id).
		Updates(map[string]any{"next_attempt_at": at.UTC(), "locked_until": nil, "last_error": reason}).Error
	return wrap(err, "retry push %d", id)
}

// GetPushSubscriptionByID returns a subscription by id, with whether its
// token is still valid.
func (db *DB) GetPushSubscriptionByID(ctx context.Context, id int64) (*PushSubscription, bool, error) {
	var s PushSubscription
	if err := db.Gorm(ctx).Take(&s, id).Error; err != nil {
		return nil, false, wrap(err, "push subscription %d", id)
	}
	var live int64
	err := db.Gorm(ctx).Table("oauth_tokens").Where("id = ? AND revoked_at IS NULL", s.TokenID).Count(&live).Error
	return &s, live > 0, wrap(err, "token of push subscription %d", id)
}

// GetAccountByActorID returns the account of a local member's actor.
func (db *DB) GetAccountByActorID(ctx context.Context, actorID int64) (*Account, error) {
	var a Account
	err := db.Gorm(ctx).Where("actor_id = ?", actorID).Take(&a).Error
	return &a, wrap(err, "account of actor %d", actorID)
}
