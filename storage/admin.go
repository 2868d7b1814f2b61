package storage

import (
	"context"
	"strings"
	"time"
)

// Instance settings that admins change at run time, kept beside the
// federation settings.
const (
	SettingInstanceTitle       = "instance.title"
	SettingInstanceDescription = "instance.description"
	SettingInstanceContact     = "instance.contact_email"
	SettingInstanceRules       = "instance.rules"
	// SettingRegistrations overrides COMMONPLACE_REGISTRATIONS when set.
	SettingRegistrations = "instance.registrations"
)

// Settings returns the values of keys that were ever set.
func (db *DB) Settings(ctx context.Context, keys ...string) (map[string]string, error) {
	var rows []FederationSetting
	err := db.Gorm(ctx).Where("key IN ?", keys).Find(&rows).Error
	out := make(map[string]string, len(rows))
	for _, r := range rows {
		out[r.Key] = r.Value
	}
	return out, wrap(err, "read %d settings", len(keys))
}

// TransferOwnership makes an accepted member the owner of a community;
// its previous owners become moderators. ErrNotFound if newOwnerID is not
// an accepted member.
func (db *DB) TransferOwnership(ctx context.Context, communityActorID, newOwnerID int64) error {
	now := time.Now().UTC()
	err := db.Tx(ctx, func(tx *DB) error {
		res := tx.Gorm(ctx).Model(&Membership{}).
			Where("community_actor_id = ? AND member_actor_id = ? AND state = ?", communityActorID, newOwnerID, StateAccepted).
			Updates(map[string]any{"role": RoleOwner, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return tx.Gorm(ctx).Model(&Membership{}).
			Where("community_actor_id = ? AND member_actor_id <> ? AND role = ?", communityActorID, newOwnerID, RoleOwner).
			Updates(map[string]any{"role": RoleModerator, "updated_at": now}).Error
	})
	return wrap(err, "transfer community %d to %d", communityActorID, newOwnerID)
}

// DeleteCommunity removes a local community: its row (and tags), its
// memberships and bans, and marks its actor deleted. The actor row stays
// for the keys that sign the Delete on its way to the members' servers,
// and so that its name is not given to another community.
func (db *DB) DeleteCommunity(ctx context.Context, communityActorID int64) error {
	now := time.Now().UTC()
	err := db.Tx(ctx, func(tx *DB) error {
		res := tx.Gorm(ctx).Where("actor_id = ?", communityActorID).Delete(&Community{})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		if err := tx.Gorm(ctx).Where("community_actor_id = ?", communityActorID).Delete(&Membership{}).Error; err != nil {
			return err
		}
		if err := tx.Gorm(ctx).Where("community_actor_id = ?", communityActorID).Delete(&CommunityBan{}).Error; err != nil {
			return err
		}
		return tx.Gorm(ctx).Model(&Actor{}).Where("id = ? AND local", communityActorID).
			Updates(map[string]any{"deleted_at": now, "updated_at": now}).Error
	})
	return wrap(err, "delete community %d", communityActorID)
}

// UpdateCommunitySettings saves what its moderators may change of a local
// community (title, summary, tags, closed), on its row and its actor.
func (db *DB) UpdateCommunitySettings(ctx context.Context, c *Community) error {
	now := time.Now().UTC()
	err := db.Tx(ctx, func(tx *DB) error {
		err := tx.Gorm(ctx).Model(&Community{}).Where("id = ?", c.ID).
			Updates(map[string]any{"title": c.Title, "summary": c.Summary, "closed": c.Closed, "updated_at": now}).Error
		if err != nil {
			return err
		}
		if err := tx.Gorm(ctx).Where("community_id = ?", c.ID).Delete(&CommunityTag{}).Error; err != nil {
			return err
		}
		for i := range c.Tags {
			c.Tags[i].CommunityID = c.ID
		}
		if len(c.Tags) > 0 {
			if err := tx.Gorm(ctx).Create(&c.Tags).Error; err != nil {
				return err
			}
		}
		return tx.Gorm(ctx).Model(&Actor{}).Where("id = ?", c.ActorID).Updates(map[string]any{
			"display_name": c.Title, "summary": c.Summary, "manually_approves_followers": c.Closed, "updated_at": now,
		}).Error
	})
	return wrap(err, "update community %d", c.ID)
}

// GetDeletedLocalActor returns the deleted local actor called username
// (a deleted community), for its Tombstone.
func (db *DB) GetDeletedLocalActor(ctx context.Context, username string) (*Actor, error) {
	var a Actor
	err := db.Gorm(ctx).Where("lower(username) = ? AND local AND deleted_at IS NOT NULL", strings.ToLower(username)).Take(&a).Error
	return &a, wrap(err, "get deleted local actor %q", username)
}
