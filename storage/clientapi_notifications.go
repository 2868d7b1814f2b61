package storage

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Notification types, named as Mastodon's client API names them.
const (
	NotifyFollow        = "follow"
	NotifyFollowRequest = "follow_request"
	NotifyMention       = "mention"
	NotifyFavourite     = "favourite"
	NotifyReblog        = "reblog"
)

// Notification tells a local member that something happened: FromActorID
// followed (or asked to join a community they moderate), mentioned or
// answered them, or liked their post ObjectID (0 when no post is
// concerned).
type Notification struct {
	ID               int64
	RecipientActorID int64
	Type             string
	FromActorID      int64
	FromActor        *Actor `gorm:"foreignKey:FromActorID"`
	ObjectID         int64
	// ReportID is the report an admin.report notification is about.
	ReportID  *int64
	CreatedAt time.Time
}

// PutNotification records a notification; the same event twice is one
// notification (the repeat reports false, without error).
func (db *DB) PutNotification(ctx context.Context, n *Notification) (bool, error) {
	res := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(n)
	return res.RowsAffected == 1, wrap(res.Error, "put notification for %d", n.RecipientActorID)
}

// NotificationFilter selects a page of a member's notifications.
type NotificationFilter struct {
	RecipientActorID int64
	Types            []string
	ExcludeTypes     []string
	FromActorID      int64
	// HideMuted leaves out notifications from accounts the recipient
	// muted (with notifications) or blocked, or on domains they blocked.
	HideMuted bool
	// Policy, when set, leaves out the notifications it filters or drops
	// (Filtered inverts it: only those it filters).
	Policy   *NotificationPolicy
	Filtered bool
	// FromDismissed leaves out senders the member dismissed as requests.
	FromDismissed bool
	// ObjectID and the creation window select one group's notifications.
	ObjectID                 int64
	CreatedFrom, CreatedTill time.Time
	Page                     Page
}

// FilterableTypes are the notification types a notification policy
// applies to; follow requests and the like always come through.
var FilterableTypes = []string{NotifyMention, NotifyFavourite, NotifyReblog, NotifyFollow}

// policyCondition is the SQL that is true of a notification the policy
// does not accept, with its arguments.
func policyCondition(db *DB, ctx context.Context, recipient int64, p *NotificationPolicy, now time.Time) (string, []any) {
	var parts []string
	var args []any
	if p.ForNotFollowing != "accept" {
		parts = append(parts, "from_actor_id NOT IN (?)")
		args = append(args, db.Gorm(ctx).Model(&Membership{}).Select("community_actor_id").Where("member_actor_id = ? AND state = ?", recipient, StateAccepted))
	}
	if p.ForNotFollowers != "accept" {
		parts = append(parts, "from_actor_id NOT IN (?)")
		args = append(args, db.Gorm(ctx).Model(&Membership{}).Select("member_actor_id").Where("community_actor_id = ? AND state = ?", recipient, StateAccepted))
	}
	if p.ForNewAccounts != "accept" {
		parts = append(parts, "from_actor_id IN (?)")
		args = append(args, db.Gorm(ctx).Model(&Actor{}).Select("id").Where("COALESCE(published_at, created_at) > ?", now.Add(-30*24*time.Hour).UTC()))
	}
	if p.ForLimitedAccounts != "accept" {
		parts = append(parts, "EXISTS (SELECT 1 FROM actors a WHERE a.id = notifications.from_actor_id AND "+limitedActorSQL+")")
	}
	if len(parts) == 0 {
		return "", nil
	}
	// Senders the member accepted come through whatever the policy says.
	return "(type IN ? AND from_actor_id NOT IN (?) AND (" + strings.Join(parts, " OR ") + "))",
		append([]any{FilterableTypes, db.sendersDecided(ctx, recipient, SenderAccepted)}, args...)
}

// notificationQuery builds the query for f.
func (db *DB) notificationQuery(ctx context.Context, f NotificationFilter) *gorm.DB {
	q := db.Gorm(ctx).Model(&Notification{}).Where("recipient_actor_id = ?", f.RecipientActorID)
	if len(f.Types) > 0 {
		q = q.Where("type IN ?", f.Types)
	}
	if len(f.ExcludeTypes) > 0 {
		q = q.Where("type NOT IN ?", f.ExcludeTypes)
	}
	if f.FromActorID > 0 {
		q = q.Where("from_actor_id = ?", f.FromActorID)
	}
	if f.ObjectID > 0 {
		q = q.Where("object_id = ?", f.ObjectID)
	}
	if !f.CreatedFrom.IsZero() {
		q = q.Where("created_at >= ? AND created_at < ?", f.CreatedFrom.UTC(), f.CreatedTill.UTC())
	}
	if f.HideMuted {
		q = q.Where("from_actor_id NOT IN (?)", db.hiddenNotifiers(ctx, f.RecipientActorID))
		// Nor about posts in threads the member muted.
		q = q.Where("(object_id = 0 OR object_id NOT IN (?))", db.Gorm(ctx).Model(&Object{}).Select("objects.id").
			Joins("JOIN conversation_mutes cm ON cm.context_uri = objects.context_uri AND objects.context_uri <> ''").
			Where("cm.actor_id = ?", f.RecipientActorID))
	}
	if f.FromDismissed {
		q = q.Where("from_actor_id NOT IN (?)", db.sendersDecided(ctx, f.RecipientActorID, SenderDismissed))
	}
	if f.Policy != nil {
		cond, args := policyCondition(db, ctx, f.RecipientActorID, f.Policy, time.Now())
		switch {
		case cond != "" && f.Filtered:
			q = q.Where(cond, args...)
		case cond != "":
			q = q.Where("NOT "+cond, args...)
		case f.Filtered:
			q = q.Where("1 = 0")
		}
	}
	return q
}

// CountNotifications counts the notifications f selects (its page's
// bounds apply; its limit caps the count).
func (db *DB) CountNotifications(ctx context.Context, f NotificationFilter) (int64, error) {
	q := db.notificationQuery(ctx, f)
	q, _ = pageQuery(q, "notifications.id", f.Page)
	var n int64
	err := db.Gorm(ctx).Table("(?) AS sel", q.Select("id").Limit(f.Page.limit())).Count(&n).Error
	return n, wrap(err, "count notifications of %d", f.RecipientActorID)
}

// DeleteNotificationsWhere dismisses the notifications f selects.
func (db *DB) DeleteNotificationsWhere(ctx context.Context, f NotificationFilter) error {
	ids := db.notificationQuery(ctx, f).Select("id")
	err := db.Gorm(ctx).Where("id IN (?)", ids).Delete(&Notification{}).Error
	return wrap(err, "dismiss notifications of %d", f.RecipientActorID)
}

// Page is Mastodon's id-based paging: ids below MaxID, above SinceID, or
// the page just above MinID (oldest first, then reversed by the caller's
// order). Limit 0 means 20.
type Page struct {
	MaxID, SinceID, MinID int64
	Limit                 int
}

// Ascending reports whether the page is read upwards from MinID.
func (p Page) Ascending() bool { return p.MinID > 0 }

func (p Page) limit() int {
	if p.Limit <= 0 {
		return 20
	}
	return p.Limit
}

// ListNotifications returns a page of notifications, newest first.
func (db *DB) ListNotifications(ctx context.Context, f NotificationFilter) ([]Notification, error) {
	q := db.notificationQuery(ctx, f).Preload("FromActor")
	q, order := pageQuery(q, "notifications.id", f.Page)
	var out []Notification
	err := q.Order(order).Limit(f.Page.limit()).Find(&out).Error
	if f.Page.Ascending() {
		reverse(out)
	}
	return out, wrap(err, "list notifications of %d", f.RecipientActorID)
}

// GetNotification returns one of recipient's notifications.
func (db *DB) GetNotification(ctx context.Context, recipientActorID, id int64) (*Notification, error) {
	var n Notification
	err := db.Gorm(ctx).Preload("FromActor").Where("recipient_actor_id = ? AND id = ?", recipientActorID, id).Take(&n).Error
	return &n, wrap(err, "get notification %d", id)
}

// DeleteNotifications dismisses one of recipient's notifications (id > 0)
// or all of them (id 0).
func (db *DB) DeleteNotifications(ctx context.Context, recipientActorID, id int64) error {
	q := db.Gorm(ctx).Where("recipient_actor_id = ?", recipientActorID)
	if id > 0 {
		q = q.Where("id = ?", id)
	}
	res := q.Delete(&Notification{})
	if res.Error == nil && id > 0 && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "dismiss notification %d", id)
	}
	return wrap(res.Error, "dismiss notifications of %d", recipientActorID)
}

// Marker is where a member stopped reading a timeline (home or
// notifications), shared between their apps.
type Marker struct {
	ActorID    int64  `gorm:"primaryKey;autoIncrement:false"`
	Timeline   string `gorm:"primaryKey"`
	LastReadID string
	Version    int
	UpdatedAt  time.Time
}

// ListMarkers returns actor's markers for the given timelines.
func (db *DB) ListMarkers(ctx context.Context, actorID int64, timelines []string) ([]Marker, error) {
	var out []Marker
	err := db.Gorm(ctx).Where("actor_id = ? AND timeline IN ?", actorID, timelines).Order("timeline").Find(&out).Error
	return out, wrap(err, "list markers of %d", actorID)
}

// PutMarker saves a marker, counting its version up on every save.
func (db *DB) PutMarker(ctx context.Context, m *Marker) error {
	now := time.Now().UTC()
	m.UpdatedAt, m.Version = now, 0
	err := db.Gorm(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "actor_id"}, {Name: "timeline"}},
		DoUpdates: clause.Assignments(map[string]any{
			"last_read_id": m.LastReadID, "updated_at": now,
			"version": clause.Expr{SQL: "markers.version + 1"},
		}),
	}).Create(m).Error
	if err != nil {
		return wrap(err, "put marker %s of %d", m.Timeline, m.ActorID)
	}
	err = db.Gorm(ctx).Where("actor_id = ? AND timeline = ?", m.ActorID, m.Timeline).Take(m).Error
	return wrap(err, "get marker %s of %d", m.Timeline, m.ActorID)
}
