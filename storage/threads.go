package storage

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"
)

// threadForServer is the live posts of the thread contextURI that the
// server at host may read (host empty: anyone, so public and unlisted
// posts only), as CanServerSee decides for each.
func (db *DB) threadForServer(ctx context.Context, contextURI, host string) *gorm.DB {
	q := db.Gorm(ctx).Model(&Object{}).Where("objects.context_uri = ? AND objects.deleted_at IS NULL", contextURI)
	public := db.Gorm(ctx).Where("objects.visibility IN (?, ?)", VisibilityPublic, VisibilityUnlisted)
	if host = strings.ToLower(host); host != "" {
		public = public.Or(serverVisible(db.Gorm(ctx), host))
	}
	return q.Where(public)
}

// ListThreadForServer returns the posts of a thread the server at host
// may read (see threadForServer), oldest first, after the post afterID
// (0: from the start), at most limit.
func (db *DB) ListThreadForServer(ctx context.Context, contextURI, host string, afterID int64, limit int) ([]Object, error) {
	var out []Object
	err := db.threadForServer(ctx, contextURI, host).Where("objects.id > ?", afterID).
		Order("objects.id").Limit(limit).Find(&out).Error
	return out, wrap(err, "list thread %q for %q", contextURI, host)
}

// CountThreadForServer counts the posts ListThreadForServer lists.
func (db *DB) CountThreadForServer(ctx context.Context, contextURI, host string) (int64, error) {
	var n int64
	err := db.threadForServer(ctx, contextURI, host).Count(&n).Error
	return n, wrap(err, "count thread %q for %q", contextURI, host)
}

// GetThreadRoot returns the first post of the thread contextURI: the post
// whose id it is (a thread begun here, or by a server that names threads
// by their first post), else its earliest post that answers none.
func (db *DB) GetThreadRoot(ctx context.Context, contextURI string) (*Object, error) {
	if o, err := db.GetObjectByURI(ctx, contextURI); err == nil || !errors.Is(err, ErrNotFound) {
		return o, err
	}
	var o Object
	err := db.Gorm(ctx).Preload("AuthorActor").Preload("CommunityActor").
		Where("context_uri = ? AND in_reply_to_uri = ''", contextURI).Order("id").Take(&o).Error
	return &o, wrap(err, "thread root of %q", contextURI)
}
