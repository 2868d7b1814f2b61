package storage

import (
	"context"
	"strings"
)

// CreateCommunity creates a local community: its Group actor, the community
// row, its tags and, if owner is not nil, the owner's accepted membership,
// all in one transaction.
func (db *DB) CreateCommunity(ctx context.Context, actor *Actor, c *Community, owner *Actor) error {
	return db.Tx(ctx, func(tx *DB) error {
		if err := tx.CreateActor(ctx, actor); err != nil {
			return err
		}
		c.ActorID = actor.ID
		if c.Visibility == "" {
			c.Visibility = VisibilityPublic
		}
		tags := c.Tags
		c.Tags = nil
		if err := tx.Gorm(ctx).Create(c).Error; err != nil {
			return wrap(err, "create community %q", actor.Username)
		}
		for i := range tags {
			tags[i].CommunityID = c.ID
		}
		if len(tags) > 0 {
			if err := tx.Gorm(ctx).Create(&tags).Error; err != nil {
				return wrap(err, "create community tags")
			}
		}
		c.Tags = tags
		c.Actor = actor
		if owner != nil {
			m := &Membership{
				CommunityActorID: actor.ID, MemberActorID: owner.ID,
				State: StateAccepted, Role: RoleOwner,
				AcceptedAt: &actor.CreatedAt,
			}
			if err := tx.Gorm(ctx).Create(m).Error; err != nil {
				return wrap(err, "create owner membership")
			}
		}
		return nil
	})
}

// GetCommunityByName returns the local community called name, with its
// actor and tags.
func (db *DB) GetCommunityByName(ctx context.Context, name string) (*Community, error) {
	var c Community
	err := db.Gorm(ctx).Joins("Actor").Preload("Tags").
		Where("lower(\"Actor\".username) = ? AND \"Actor\".local", strings.ToLower(name)).
		Take(&c).Error
	return &c, wrap(err, "get community %q", name)
}

// GetCommunityByActorID returns the local community whose Group actor is id.
func (db *DB) GetCommunityByActorID(ctx context.Context, actorID int64) (*Community, error) {
	var c Community
	err := db.Gorm(ctx).Joins("Actor").Preload("Tags").Where("communities.actor_id = ?", actorID).Take(&c).Error
	return &c, wrap(err, "get community of actor %d", actorID)
}

// ListCommunities returns local communities ordered by name.
func (db *DB) ListCommunities(ctx context.Context, limit int) ([]Community, error) {
	var out []Community
	err := db.Gorm(ctx).Joins("Actor").Preload("Tags").Order("\"Actor\".username").Limit(limit).Find(&out).Error
	return out, wrap(err, "list communities")
}
