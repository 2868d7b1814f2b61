package storage

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// CommunityModerator is a moderator of a remote community, as its
// moderators collection and its Add and Remove activities say.
type CommunityModerator struct {
	CommunityActorID int64 `gorm:"primaryKey"`
	ActorID          int64 `gorm:"primaryKey"`
	CreatedAt        time.Time
}

// CommunityBan bars an actor from a community until ExpiresAt (nil: for
// good). URI is the Block that announced it.
type CommunityBan struct {
	ID               int64
	CommunityActorID int64
	ActorID          int64
	Actor            *Actor `gorm:"foreignKey:ActorID"`
	URI              string `gorm:"column:uri"`
	Reason           string
	ExpiresAt        *time.Time
	CreatedAt        time.Time
}

// Active reports whether the ban holds at now.
func (b *CommunityBan) Active(now time.Time) bool {
	return b.ExpiresAt == nil || b.ExpiresAt.After(now)
}

// Moderation actions recorded in the modlog.
const (
	ModRemovePost      = "remove_post"
	ModLock            = "lock"
	ModUnlock          = "unlock"
	ModBan             = "ban"
	ModUnban           = "unban"
	ModAddModerator    = "add_moderator"
	ModRemoveModerator = "remove_moderator"
	ModRestrictPosting = "restrict_posting"
	ModOpenPosting     = "open_posting"
	ModResolveReport   = "resolve_report"
	ModDismissReport   = "dismiss_report"
	ModApprovePost     = "approve_post"
	ModRejectPost      = "reject_post"
	ModPostingRules    = "posting_rules"
)

// ModAction is one entry of a community's modlog: who did what to whom or
// which post, when and why. A private reason is for moderators only.
type ModAction struct {
	ID               int64
	CommunityActorID int64
	ModeratorActorID *int64
	ModeratorActor   *Actor `gorm:"foreignKey:ModeratorActorID"`
	Action           string
	TargetActorID    *int64
	TargetActor      *Actor `gorm:"foreignKey:TargetActorID"`
	ObjectURI        string `gorm:"column:object_uri"`
	Reason           string
	ReasonPrivate    bool
	ExpiresAt        *time.Time
	CreatedAt        time.Time
}

// SetRemoteModerators replaces what we know of a remote community's
// moderators.
func (db *DB) SetRemoteModerators(ctx context.Context, communityActorID int64, actorIDs []int64) error {
	return db.Tx(ctx, func(tx *DB) error {
		if err := tx.Gorm(ctx).Where("community_actor_id = ?", communityActorID).Delete(&CommunityModerator{}).Error; err != nil {
			return wrap(err, "clear moderators of %d", communityActorID)
		}
		for _, id := range actorIDs {
			if err := tx.AddRemoteModerator(ctx, communityActorID, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// AddRemoteModerator records a moderator of a remote community; a known
// one is no error.
func (db *DB) AddRemoteModerator(ctx context.Context, communityActorID, actorID int64) error {
	err := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&CommunityModerator{CommunityActorID: communityActorID, ActorID: actorID, CreatedAt: time.Now().UTC()}).Error
	return wrap(err, "add moderator %d of %d", actorID, communityActorID)
}

// RemoveRemoteModerator forgets a moderator of a remote community.
func (db *DB) RemoveRemoteModerator(ctx context.Context, communityActorID, actorID int64) error {
	err := db.Gorm(ctx).Where("community_actor_id = ? AND actor_id = ?", communityActorID, actorID).Delete(&CommunityModerator{}).Error
	return wrap(err, "remove moderator %d of %d", actorID, communityActorID)
}

// SetMemberRole gives an accepted member of a community a role (member,
// moderator). ErrNotFound if they are not an accepted member; an owner's
// role is not changed.
func (db *DB) SetMemberRole(ctx context.Context, communityActorID, memberActorID int64, role string) error {
	res := db.Gorm(ctx).Model(&Membership{}).
		Where("community_actor_id = ? AND member_actor_id = ? AND state = ? AND role <> ?", communityActorID, memberActorID, StateAccepted, RoleOwner).
		Updates(map[string]any{"role": role, "updated_at": time.Now().UTC()})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "set role of %d in %d", memberActorID, communityActorID)
	}
	return wrap(res.Error, "set role of %d in %d", memberActorID, communityActorID)
}

// SetPostingRestricted says whether only a community's moderators may
// start threads in it.
func (db *DB) SetPostingRestricted(ctx context.Context, communityActorID int64, on bool) error {
	err := db.Gorm(ctx).Model(&Actor{}).Where("id = ?", communityActorID).
		Updates(map[string]any{"posting_restricted_to_mods": on, "updated_at": time.Now().UTC()}).Error
	return wrap(err, "restrict posting in %d", communityActorID)
}

// PutBan bans an actor from a community, replacing an earlier ban.
func (db *DB) PutBan(ctx context.Context, b *CommunityBan) error {
	if b.CreatedAt.IsZero() {
		b.CreatedAt = time.Now().UTC()
	}
	err := db.Gorm(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "community_actor_id"}, {Name: "actor_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"uri", "reason", "expires_at", "created_at"}),
	}).Create(b).Error
	return wrap(err, "ban %d from %d", b.ActorID, b.CommunityActorID)
}

// DeleteBan lifts a ban. ErrNotFound if there was none.
func (db *DB) DeleteBan(ctx context.Context, communityActorID, actorID int64) error {
	res := db.Gorm(ctx).Where("community_actor_id = ? AND actor_id = ?", communityActorID, actorID).Delete(&CommunityBan{})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "unban %d from %d", actorID, communityActorID)
	}
	return wrap(res.Error, "unban %d from %d", actorID, communityActorID)
}

// GetBan returns an actor's ban from a community, expired or not.
func (db *DB) GetBan(ctx context.Context, communityActorID, actorID int64) (*CommunityBan, error) {
	var b CommunityBan
	err := db.Gorm(ctx).Where("community_actor_id = ? AND actor_id = ?", communityActorID, actorID).Take(&b).Error
	return &b, wrap(err, "get ban of %d from %d", actorID, communityActorID)
}

// IsBanned reports whether an actor is banned from a community now.
func (db *DB) IsBanned(ctx context.Context, communityActorID, actorID int64) (bool, error) {
	var n int64
	err := db.Gorm(ctx).Model(&CommunityBan{}).
		Where("community_actor_id = ? AND actor_id = ? AND (expires_at IS NULL OR expires_at > ?)", communityActorID, actorID, time.Now().UTC()).
		Count(&n).Error
	return n > 0, wrap(err, "is %d banned from %d", actorID, communityActorID)
}

// Bans lists a community's bans in force, newest first.
func (db *DB) Bans(ctx context.Context, communityActorID int64, limit int) ([]CommunityBan, error) {
	var out []CommunityBan
	err := db.Gorm(ctx).Preload("Actor").
		Where("community_actor_id = ? AND (expires_at IS NULL OR expires_at > ?)", communityActorID, time.Now().UTC()).
		Order("id DESC").Limit(limit).Find(&out).Error
	return out, wrap(err, "list bans of %d", communityActorID)
}

// LockObject locks (or unlocks) a thread.
func (db *DB) LockObject(ctx context.Context, id int64, locked bool) error {
	var at *time.Time
	if locked {
		now := time.Now().UTC()
		at = &now
	}
	res := db.Gorm(ctx).Model(&Object{}).Where("id = ?", id).Updates(map[string]any{"locked_at": at, "updated_at": time.Now().UTC()})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "lock object %d", id)
	}
	return wrap(res.Error, "lock object %d", id)
}

// DetachObject takes a post out of its community, keeping it as its
// author's (a moderator's removal, on the author's own server). A
// question it was the accepted answer of is unanswered again.
func (db *DB) DetachObject(ctx context.Context, id int64) error {
	return db.Tx(ctx, func(tx *DB) error {
		if err := tx.clearAcceptedAnswer(ctx, id); err != nil {
			return err
		}
		now := time.Now().UTC()
		err := tx.Gorm(ctx).Model(&Object{}).Where("id = ?", id).
			Updates(map[string]any{"community_actor_id": nil, "removed_at": now, "updated_at": now}).Error
		return wrap(err, "detach object %d", id)
	})
}

// LiveObjectsOf lists the live posts and replies of an author in a
// community, newest first, at most limit.
func (db *DB) LiveObjectsOf(ctx context.Context, communityActorID, authorActorID int64, limit int) ([]Object, error) {
	var out []Object
	err := db.Gorm(ctx).Preload("AuthorActor").Preload("CommunityActor").
		Where("community_actor_id = ? AND author_actor_id = ? AND deleted_at IS NULL", communityActorID, authorActorID).
		Order("id DESC").Limit(limit).Find(&out).Error
	return out, wrap(err, "list posts of %d in %d", authorActorID, communityActorID)
}

// PutModAction records a moderation action in a community's modlog.
func (db *DB) PutModAction(ctx context.Context, a *ModAction) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now().UTC()
	}
	return wrap(db.Gorm(ctx).Create(a).Error, "record %s in %d", a.Action, a.CommunityActorID)
}

// ModLog lists a community's moderation actions, newest first, before an
// id (0: from the newest).
func (db *DB) ModLog(ctx context.Context, communityActorID, beforeID int64, limit int) ([]ModAction, error) {
	var out []ModAction
	q := db.Gorm(ctx).Preload("ModeratorActor").Preload("TargetActor").Where("community_actor_id = ?", communityActorID)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	err := q.Order("id DESC").Limit(limit).Find(&out).Error
	return out, wrap(err, "modlog of %d", communityActorID)
}
