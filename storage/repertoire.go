package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The curated repertoire (issue 15, item 3): a community's kept posts in
// ordered sections. Lists are short (the federation layer bounds them), so
// a change rewrites a community's whole list in one transaction.

// RepertoireItem is one post in a community's repertoire.
type RepertoireItem struct {
	ID               int64
	CommunityActorID int64
	ObjectID         int64
	Object           *Object `gorm:"foreignKey:ObjectID"`
	// Section is the title of the item's section ("" for none).
	Section        string
	Position       int
	AddedByActorID *int64
	CreatedAt      time.Time
}

// RepertoireCurator is a member trusted to curate a local community's
// repertoire.
type RepertoireCurator struct {
	CommunityActorID int64 `gorm:"primaryKey"`
	ActorID          int64 `gorm:"primaryKey"`
	CreatedAt        time.Time
}

// RepertoireSetting says whether a local community's trusted members
// curate its repertoire besides its moderators.
type RepertoireSetting struct {
	CommunityActorID int64 `gorm:"primaryKey;autoIncrement:false"`
	TrustedCurate    bool
	// Welcome is the message new members are shown (plain text).
	Welcome string
	// IntroductionsObjectID is the post where newcomers introduce
	// themselves (nil: none).
	IntroductionsObjectID *int64
}

// ListRepertoire returns a community's repertoire in order, at most
// limit items, leaving out posts deleted or taken out of the community.
func (db *DB) ListRepertoire(ctx context.Context, communityActorID int64, limit int) ([]RepertoireItem, error) {
	var out []RepertoireItem
	err := db.repertoire(ctx, communityActorID).Limit(limit).Find(&out).Error
	return out, wrap(err, "list repertoire of %d", communityActorID)
}

// ListRepertoireFor is ListRepertoire with only the posts viewer (nil: a
// signed-out reader) may read: a members-only community's are for its
// members.
func (db *DB) ListRepertoireFor(ctx context.Context, communityActorID int64, viewer *Actor, limit int) ([]RepertoireItem, error) {
	var out []RepertoireItem
	err := VisibleTo(db.repertoire(ctx, communityActorID), viewer).Limit(limit).Find(&out).Error
	return out, wrap(err, "list repertoire of %d", communityActorID)
}

func (db *DB) repertoire(ctx context.Context, communityActorID int64) *gorm.DB {
	return db.Gorm(ctx).Model(&RepertoireItem{}).
		Joins("JOIN objects ON objects.id = repertoire_items.object_id").
		Where("repertoire_items.community_actor_id = ? AND objects.deleted_at IS NULL AND objects.community_actor_id = repertoire_items.community_actor_id", communityActorID).
		Preload("Object").Preload("Object.AuthorActor").Preload("Object.CommunityActor").
		Order("repertoire_items.position")
}

// SetRepertoire replaces a community's repertoire with items, in their
// order (ObjectID, Section, AddedByActorID and CreatedAt are read).
func (db *DB) SetRepertoire(ctx context.Context, communityActorID int64, items []RepertoireItem) error {
	return db.Tx(ctx, func(tx *DB) error {
		if err := tx.Gorm(ctx).Where("community_actor_id = ?", communityActorID).Delete(&RepertoireItem{}).Error; err != nil {
			return wrap(err, "clear repertoire of %d", communityActorID)
		}
		now := time.Now().UTC()
		for i, it := range items {
			row := RepertoireItem{CommunityActorID: communityActorID, ObjectID: it.ObjectID, Section: it.Section,
				Position: i, AddedByActorID: it.AddedByActorID, CreatedAt: it.CreatedAt}
			if row.CreatedAt.IsZero() {
				row.CreatedAt = now
			}
			if err := tx.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
				return wrap(err, "put repertoire item %d of %d", it.ObjectID, communityActorID)
			}
		}
		return nil
	})
}

// RepertoireOf returns the communities whose repertoire holds each of
// objectIDs (for marking posts on pages).
func (db *DB) RepertoireOf(ctx context.Context, objectIDs []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(objectIDs) == 0 {
		return out, nil
	}
	var ids []int64
	err := db.Gorm(ctx).Model(&RepertoireItem{}).Where("object_id IN ?", objectIDs).Pluck("object_id", &ids).Error
	for _, id := range ids {
		out[id] = true
	}
	return out, wrap(err, "repertoire of objects")
}

// IsCurator reports whether actor is trusted to curate a community's
// repertoire and the community lets trusted members curate.
func (db *DB) IsCurator(ctx context.Context, communityActorID, actorID int64) (bool, error) {
	var n int64
	err := db.Gorm(ctx).Model(&RepertoireCurator{}).
		Joins("JOIN repertoire_settings s ON s.community_actor_id = repertoire_curators.community_actor_id AND s.trusted_curate").
		Where("repertoire_curators.community_actor_id = ? AND repertoire_curators.actor_id = ?", communityActorID, actorID).Count(&n).Error
	return n > 0, wrap(err, "is %d a curator of %d", actorID, communityActorID)
}

// SetCurator trusts (on false: no longer trusts) a member to curate.
func (db *DB) SetCurator(ctx context.Context, communityActorID, actorID int64, on bool) error {
	if !on {
		err := db.Gorm(ctx).Where("community_actor_id = ? AND actor_id = ?", communityActorID, actorID).Delete(&RepertoireCurator{}).Error
		return wrap(err, "untrust %d in %d", actorID, communityActorID)
	}
	err := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&RepertoireCurator{CommunityActorID: communityActorID, ActorID: actorID, CreatedAt: time.Now().UTC()}).Error
	return wrap(err, "trust %d in %d", actorID, communityActorID)
}

// Curators lists the members trusted to curate a community's repertoire.
func (db *DB) Curators(ctx context.Context, communityActorID int64, limit int) ([]Actor, error) {
	var out []Actor
	err := db.Gorm(ctx).Model(&Actor{}).Joins("JOIN repertoire_curators c ON c.actor_id = actors.id").
		Where("c.community_actor_id = ?", communityActorID).Order("c.created_at").Limit(limit).Find(&out).Error
	return out, wrap(err, "curators of %d", communityActorID)
}

// TrustedCurate reports whether a community lets trusted members curate.
func (db *DB) TrustedCurate(ctx context.Context, communityActorID int64) (bool, error) {
	var s RepertoireSetting
	err := db.Gorm(ctx).Where("community_actor_id = ?", communityActorID).Limit(1).Find(&s).Error
	return s.TrustedCurate, wrap(err, "repertoire setting of %d", communityActorID)
}

// SetTrustedCurate sets whether a community lets trusted members curate.
func (db *DB) SetTrustedCurate(ctx context.Context, communityActorID int64, on bool) error {
	err := db.Gorm(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "community_actor_id"}}, DoUpdates: clause.AssignmentColumns([]string{"trusted_curate"})}).
		Create(&RepertoireSetting{CommunityActorID: communityActorID, TrustedCurate: on}).Error
	return wrap(err, "set repertoire setting of %d", communityActorID)
}
