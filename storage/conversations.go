package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Conversation is a local member's direct thread, as Mastodon's
// conversations list them: the thread's latest direct post the member may
// read, and whether the member has read it.
type Conversation struct {
	ID           int64
	ActorID      int64
	ContextURI   string `gorm:"column:context_uri"`
	LastObjectID int64
	LastObject   *Object `gorm:"foreignKey:LastObjectID"`
	Unread       bool
	UpdatedAt    time.Time
}

// TouchConversation records direct post o in the conversation of the
// local member actorID (unread unless they wrote it). A later post of the
// thread stays the latest.
func (db *DB) TouchConversation(ctx context.Context, actorID int64, o *Object) (*Conversation, error) {
	thread := o.ContextURI
	if thread == "" {
		thread = o.URI
	}
	c := &Conversation{ActorID: actorID, ContextURI: thread, LastObjectID: o.ID, Unread: o.AuthorActorID != actorID, UpdatedAt: time.Now().UTC()}
	err := db.Gorm(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "actor_id"}, {Name: "context_uri"}},
		DoUpdates: clause.Assignments(map[string]any{
			"last_object_id": gorm.Expr("CASE WHEN conversations.last_object_id < ? THEN ? ELSE conversations.last_object_id END", o.ID, o.ID),
			"unread":         c.Unread,
			"updated_at":     c.UpdatedAt,
		}),
	}).Create(c).Error
	if err != nil {
		return nil, wrap(err, "conversation of %d in %q", actorID, thread)
	}
	return db.GetConversationByThread(ctx, actorID, thread)
}

// GetConversationByThread returns a member's conversation of a thread.
func (db *DB) GetConversationByThread(ctx context.Context, actorID int64, contextURI string) (*Conversation, error) {
	var c Conversation
	err := db.conversations(ctx).Where("conversations.actor_id = ? AND conversations.context_uri = ?", actorID, contextURI).Take(&c).Error
	return &c, wrap(err, "conversation of %d in %q", actorID, contextURI)
}

// GetConversation returns one of a member's conversations.
func (db *DB) GetConversation(ctx context.Context, actorID, id int64) (*Conversation, error) {
	var c Conversation
	err := db.conversations(ctx).Where("conversations.actor_id = ? AND conversations.id = ?", actorID, id).Take(&c).Error
	return &c, wrap(err, "conversation %d of %d", id, actorID)
}

func (db *DB) conversations(ctx context.Context) *gorm.DB {
	return db.Gorm(ctx).Model(&Conversation{}).Preload("LastObject").Preload("LastObject.AuthorActor").Preload("LastObject.CommunityActor")
}

// ListConversations returns a page of a member's conversations whose
// latest post is live, most recently active first (paged by the id of
// that post, as Mastodon pages them).
func (db *DB) ListConversations(ctx context.Context, actorID int64, p Page) ([]Conversation, error) {
	q := db.conversations(ctx).Joins("JOIN objects ON objects.id = conversations.last_object_id").
		Where("conversations.actor_id = ? AND objects.deleted_at IS NULL", actorID)
	q, order := pageQuery(q, "conversations.last_object_id", p)
	var out []Conversation
	err := q.Order(order).Limit(p.limit()).Find(&out).Error
	if p.Ascending() {
		reverse(out)
	}
	return out, wrap(err, "conversations of %d", actorID)
}

// ReadConversation marks one of a member's conversations read.
func (db *DB) ReadConversation(ctx context.Context, actorID, id int64) error {
	res := db.Gorm(ctx).Model(&Conversation{}).Where("actor_id = ? AND id = ?", actorID, id).Update("unread", false)
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(gorm.ErrRecordNotFound, "conversation %d of %d", id, actorID)
	}
	return wrap(res.Error, "read conversation %d", id)
}

// DeleteConversation removes one of a member's conversations from their
// list (the posts stay; a new post in the thread brings it back).
func (db *DB) DeleteConversation(ctx context.Context, actorID, id int64) error {
	res := db.Gorm(ctx).Where("actor_id = ? AND id = ?", actorID, id).Delete(&Conversation{})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(gorm.ErrRecordNotFound, "conversation %d of %d", id, actorID)
	}
	return wrap(res.Error, "delete conversation %d", id)
}
