package storage

import "context"

// ListCommunityPosts returns the live posts and replies of a community,
// whatever their visibility, oldest first, after the post afterID (0:
// from the first), at most limit: what an export of it holds.
func (db *DB) ListCommunityPosts(ctx context.Context, communityActorID, afterID int64, limit int) ([]Object, error) {
	var out []Object
	err := db.Gorm(ctx).Preload("AuthorActor").
		Where("community_actor_id = ? AND deleted_at IS NULL AND id > ?", communityActorID, afterID).
		Order("id").Limit(limit).Find(&out).Error
	return out, wrap(err, "list posts of community %d", communityActorID)
}
