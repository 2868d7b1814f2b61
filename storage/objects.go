package storage

import (
	"context"

	"gorm.io/gorm"
)

// CreateObject stores a new post or reply. ErrConflict if its URI is known.
func (db *DB) CreateObject(ctx context.Context, o *Object) error {
	if o.Visibility == "" {
		o.Visibility = VisibilityPublic
	}
	return wrap(db.Gorm(ctx).Create(o).Error, "create object %q", o.URI)
}

// GetObjectByURI returns the object (possibly a tombstone) with id uri.
func (db *DB) GetObjectByURI(ctx context.Context, uri string) (*Object, error) {
	var o Object
	err := db.Gorm(ctx).Preload("AuthorActor").Preload("CommunityActor").Where("uri = ?", uri).Take(&o).Error
	return &o, wrap(err, "get object %q", uri)
}

// ObjectFilter selects a page of objects, newest first.
type ObjectFilter struct {
	AuthorActorID    int64
	CommunityActorID int64
	InReplyToID      int64
	TopLevelOnly     bool
	// BeforeID pages backwards: only objects with a smaller id.
	BeforeID int64
	Limit    int
}

// ListObjects returns live (not deleted) public objects matching f, newest
// first.
func (db *DB) ListObjects(ctx context.Context, f ObjectFilter) ([]Object, error) {
	q := db.filterObjects(ctx, f)
	if f.BeforeID > 0 {
		q = q.Where("objects.id < ?", f.BeforeID)
	}
	var out []Object
	err := q.Preload("AuthorActor").Preload("CommunityActor").Order("objects.id DESC").Limit(f.Limit).Find(&out).Error
	return out, wrap(err, "list objects")
}

// CountObjects counts live public objects matching f (ignoring paging).
func (db *DB) CountObjects(ctx context.Context, f ObjectFilter) (int64, error) {
	var n int64
	err := db.filterObjects(ctx, f).Count(&n).Error
	return n, wrap(err, "count objects")
}

func (db *DB) filterObjects(ctx context.Context, f ObjectFilter) *gorm.DB {
	q := db.Gorm(ctx).Model(&Object{}).Where("objects.deleted_at IS NULL AND objects.visibility = ?", VisibilityPublic)
	if f.AuthorActorID > 0 {
		q = q.Where("objects.author_actor_id = ?", f.AuthorActorID)
	}
	if f.CommunityActorID > 0 {
		q = q.Where("objects.community_actor_id = ?", f.CommunityActorID)
	}
	if f.InReplyToID > 0 {
		q = q.Where("objects.in_reply_to_id = ?", f.InReplyToID)
	}
	if f.TopLevelOnly {
		q = q.Where("objects.in_reply_to_uri = ''")
	}
	return q
}
