package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CreateObject stores a new post or reply. ErrConflict if its URI is known.
func (db *DB) CreateObject(ctx context.Context, o *Object) error {
	if o.Visibility == "" {
		o.Visibility = VisibilityPublic
	}
	// The author and community are stored already: without Omit, GORM
	// would upsert both actor rows with every post (two statements).
	if err := db.Gorm(ctx).Omit(clause.Associations).Create(o).Error; err != nil {
		return wrap(err, "create object %q", o.URI)
	}
	return db.touchThread(ctx, o)
}

// touchThread keeps objects.last_activity_id (the newest live post of a
// top-level post's thread, for the "active" sort) up to date after o is
// stored: o is the newest post of its thread, so the thread's top-level
// posts (o itself, if it is one) are active as of o. Ids only grow, so
// this never lowers a value a concurrent post set.
func (db *DB) touchThread(ctx context.Context, o *Object) error {
	var err error
	switch {
	case o.ContextURI != "":
		err = db.Gorm(ctx).Exec(`UPDATE objects SET last_activity_id = ?
			WHERE context_uri = ? AND in_reply_to_uri = '' AND last_activity_id < ?`, o.ID, o.ContextURI, o.ID).Error
	case o.InReplyToURI == "":
		err = db.Gorm(ctx).Exec(`UPDATE objects SET last_activity_id = id WHERE id = ?`, o.ID).Error
	}
	return wrap(err, "thread activity of object %q", o.URI)
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
	// HideLimited leaves out posts by authors on domains the federation
	// policy limits: set it for public timelines and directories.
	HideLimited bool
	// Members lists members posts too: for a members-only community's
	// pages and outbox, shown to its members only.
	Members bool
	// Unlisted lists unlisted posts too: an account's outbox, a post's
	// replies (Mastodon keeps them out of public timelines and search
	// only).
	Unlisted bool
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
	q := db.Gorm(ctx).Model(&Object{}).Where("objects.deleted_at IS NULL")
	visibilities := []string{VisibilityPublic}
	if f.Members {
		visibilities = append(visibilities, VisibilityMembers)
	}
	if f.Unlisted {
		visibilities = append(visibilities, VisibilityUnlisted)
	}
	q = q.Where("objects.visibility IN ?", visibilities)
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
	if f.HideLimited {
		q = HideLimited(q)
	}
	return q
}

// ObjectUpdate is an edit of a post.
type ObjectUpdate struct {
	Name, Kind, Summary, Content, Source, Raw string
	Sensitive                                 bool
	EditedAt                                  time.Time
}

// UpdateObject applies an edit to a live object, keeping the version it
// replaces in object_edits (the apps' edit history).
func (db *DB) UpdateObject(ctx context.Context, id int64, u ObjectUpdate) error {
	keep := db.Gorm(ctx).Exec(`INSERT INTO object_edits (object_id, name, summary, content, source, sensitive, created_at)
		SELECT id, name, summary, content, source, sensitive, COALESCE(edited_at, published_at) FROM objects
		WHERE id = ? AND deleted_at IS NULL AND (edited_at IS NULL OR edited_at <> ?)`, id, u.EditedAt.UTC())
	if keep.Error != nil {
		return wrap(keep.Error, "keep version of object %d", id)
	}
	res := db.Gorm(ctx).Model(&Object{}).Where("id = ? AND deleted_at IS NULL", id).Updates(map[string]any{
		"name": u.Name, "kind": u.Kind, "summary": u.Summary, "content": u.Content, "source": u.Source,
		"sensitive": u.Sensitive, "raw": u.Raw, "edited_at": u.EditedAt.UTC(), "updated_at": time.Now().UTC(),
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "update object %d", id)
	}
	return wrap(res.Error, "update object %d", id)
}

// SetObjectCommunity puts a post that is in no community into one (a post
// stored from its author before its community announced it). ErrNotFound
// if the post is unknown or already in a community.
func (db *DB) SetObjectCommunity(ctx context.Context, id, communityActorID int64) error {
	res := db.Gorm(ctx).Model(&Object{}).Where("id = ? AND community_actor_id IS NULL", id).
		Updates(map[string]any{"community_actor_id": communityActorID, "updated_at": time.Now().UTC()})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "set community of object %d", id)
	}
	return wrap(res.Error, "set community of object %d", id)
}

// TombstoneObject deletes an object's content and keeps its id as a
// tombstone, so that it is served as Tombstone (410) and never reused.
// A question it was the accepted answer of is unanswered again.
func (db *DB) TombstoneObject(ctx context.Context, id int64, at time.Time) error {
	return db.Tx(ctx, func(tx *DB) error {
		if err := tx.clearAcceptedAnswer(ctx, id); err != nil {
			return err
		}
		if err := tx.unindexObject(ctx, id); err != nil {
			return err
		}
		err := tx.Gorm(ctx).Model(&Object{}).Where("id = ?", id).Updates(map[string]any{
			"content": "", "source": "", "name": "", "summary": "", "raw": "",
			"deleted_at": at.UTC(), "updated_at": time.Now().UTC(),
		}).Error
		if err != nil {
			return wrap(err, "tombstone object %d", id)
		}
		// Its thread was last active with the newest post still live.
		err = tx.Gorm(ctx).Exec(`UPDATE objects SET last_activity_id = COALESCE(
			(SELECT MAX(r.id) FROM objects r WHERE r.context_uri = objects.context_uri AND r.deleted_at IS NULL), id)
			WHERE context_uri = (SELECT d.context_uri FROM objects d WHERE d.id = ?) AND context_uri <> '' AND in_reply_to_uri = ''`, id).Error
		return wrap(err, "thread activity after tombstoning object %d", id)
	})
}

// PutLike records a Like; a repeated one is not an error.
func (db *DB) PutLike(ctx context.Context, l *Like) (bool, error) {
	res := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(l)
	return res.RowsAffected == 1, wrap(res.Error, "put like %q", l.URI)
}

// DeleteLike removes actor's like of object. ErrNotFound if absent.
func (db *DB) DeleteLike(ctx context.Context, actorID, objectID int64) error {
	res := db.Gorm(ctx).Where("actor_id = ? AND object_id = ?", actorID, objectID).Delete(&Like{})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "delete like")
	}
	return wrap(res.Error, "delete like")
}

// GetLikeByURI returns the like created by a Like activity.
func (db *DB) GetLikeByURI(ctx context.Context, uri string) (*Like, error) {
	var l Like
	err := db.Gorm(ctx).Where("uri = ?", uri).Take(&l).Error
	return &l, wrap(err, "get like %q", uri)
}

// CountLikes counts an object's likes.
func (db *DB) CountLikes(ctx context.Context, objectID int64) (int64, error) {
	var n int64
	err := db.Gorm(ctx).Model(&Like{}).Where("object_id = ?", objectID).Count(&n).Error
	return n, wrap(err, "count likes")
}

// GetObjectByID returns the object with primary key id.
func (db *DB) GetObjectByID(ctx context.Context, id int64) (*Object, error) {
	var o Object
	err := db.Gorm(ctx).Preload("AuthorActor").Preload("CommunityActor").Take(&o, id).Error
	return &o, wrap(err, "get object %d", id)
}
