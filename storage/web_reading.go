package storage

import (
	"context"
	"strings"
)

// Queries behind the web's reading pages.

// ListLikers returns the actors who liked an object, first likes first.
func (db *DB) ListLikers(ctx context.Context, objectID int64, limit int) ([]Actor, error) {
	var out []Actor
	err := db.Gorm(ctx).Model(&Actor{}).Joins("JOIN likes ON likes.actor_id = actors.id").
		Where("likes.object_id = ?", objectID).Order("likes.id").Limit(limit).Find(&out).Error
	return out, wrap(err, "list likers of %d", objectID)
}

// ListActiveTopLevel returns a community's live public top-level posts
// (with members, its members posts too: for a members-only community's
// members), the most recently answered (or posted) first, skipping offset
// of them: by objects.last_activity_id (see touchThread), in the order of
// the objects_community_activity index.
func (db *DB) ListActiveTopLevel(ctx context.Context, communityActorID int64, hideLimited, members bool, offset, limit int) ([]Object, error) {
	visibilities := []string{VisibilityPublic}
	if members {
		visibilities = append(visibilities, VisibilityMembers)
	}
	q := db.Gorm(ctx).Model(&Object{}).
		Where("objects.community_actor_id = ? AND objects.in_reply_to_uri = '' AND objects.deleted_at IS NULL AND objects.visibility IN ?", communityActorID, visibilities)
	if hideLimited {
		q = HideLimited(q)
	}
	var out []Object
	err := q.Preload("AuthorActor").Preload("CommunityActor").
		Order("objects.last_activity_id DESC, objects.id DESC").
		Offset(offset).Limit(limit).Find(&out).Error
	return out, wrap(err, "list active posts of %d", communityActorID)
}

// SearchCommunities finds local communities whose name, title or summary
// holds q.
func (db *DB) SearchCommunities(ctx context.Context, q string, limit int) ([]Community, error) {
	like := "%" + escapeLike(strings.ToLower(strings.TrimSpace(q))) + "%"
	var out []Community
	err := db.Gorm(ctx).Joins("Actor").Preload("Tags").
		Where(`lower("Actor".username) LIKE ? ESCAPE '\' OR lower(communities.title) LIKE ? ESCAPE '\' OR lower(communities.summary) LIKE ? ESCAPE '\'`, like, like, like).
		Order("communities.id").Limit(limit).Find(&out).Error
	return out, wrap(err, "search communities")
}
