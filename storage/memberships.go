package storage

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm/clause"
)

// PutMembership records a follow of a community. If one exists it is
// updated in place (a repeated Follow refreshes its id and may be accepted
// at once); an existing owner or moderator keeps their role.
func (db *DB) PutMembership(ctx context.Context, m *Membership) error {
	if m.Role == "" {
		m.Role = RoleMember
	}
	if m.State == StateAccepted && m.AcceptedAt == nil {
		now := time.Now().UTC()
		m.AcceptedAt = &now
	}
	err := db.Gorm(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "community_actor_id"}, {Name: "member_actor_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"state", "follow_uri", "accepted_at", "updated_at"}),
	}).Create(m).Error
	if err != nil {
		return wrap(err, "put membership of %d in %d", m.MemberActorID, m.CommunityActorID)
	}
	got, err := db.GetMembership(ctx, m.CommunityActorID, m.MemberActorID)
	if err != nil {
		return err
	}
	*m = *got
	return nil
}

// GetMembership returns member's membership of community.
func (db *DB) GetMembership(ctx context.Context, communityActorID, memberActorID int64) (*Membership, error) {
	var m Membership
	err := db.Gorm(ctx).Where("community_actor_id = ? AND member_actor_id = ?", communityActorID, memberActorID).Take(&m).Error
	return &m, wrap(err, "get membership of %d in %d", memberActorID, communityActorID)
}

// GetMembershipByFollowURI finds the membership created by a Follow.
func (db *DB) GetMembershipByFollowURI(ctx context.Context, followURI string) (*Membership, error) {
	var m Membership
	err := db.Gorm(ctx).Where("follow_uri = ?", followURI).Take(&m).Error
	return &m, wrap(err, "get membership by follow %q", followURI)
}

// AcceptMembership marks a pending membership accepted.
func (db *DB) AcceptMembership(ctx context.Context, id int64) error {
	now := time.Now().UTC()
	res := db.Gorm(ctx).Model(&Membership{}).Where("id = ?", id).
		Updates(map[string]any{"state": StateAccepted, "accepted_at": now, "updated_at": now})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "accept membership %d", id)
	}
	return wrap(res.Error, "accept membership %d", id)
}

// DeleteMembership removes member from community. ErrNotFound if absent.
func (db *DB) DeleteMembership(ctx context.Context, communityActorID, memberActorID int64) error {
	res := db.Gorm(ctx).Where("community_actor_id = ? AND member_actor_id = ?", communityActorID, memberActorID).Delete(&Membership{})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "delete membership of %d in %d", memberActorID, communityActorID)
	}
	return wrap(res.Error, "delete membership of %d in %d", memberActorID, communityActorID)
}

// MemberPage lists a community's members in a state, by membership id,
// after the given id (0 for the first page).
func (db *DB) MemberPage(ctx context.Context, communityActorID int64, state string, afterID int64, limit int) ([]Membership, error) {
	var out []Membership
	q := db.Gorm(ctx).Preload("MemberActor").Where("community_actor_id = ? AND state = ?", communityActorID, state)
	if afterID > 0 {
		q = q.Where("id > ?", afterID)
	}
	err := q.Order("id").Limit(limit).Find(&out).Error
	return out, wrap(err, "list members of %d", communityActorID)
}

// CountMembers counts a community's members in a state.
func (db *DB) CountMembers(ctx context.Context, communityActorID int64, state string) (int64, error) {
	var n int64
	err := db.Gorm(ctx).Model(&Membership{}).Where("community_actor_id = ? AND state = ?", communityActorID, state).Count(&n).Error
	return n, wrap(err, "count members of %d", communityActorID)
}

// Moderators returns the actors who own or moderate a community: for a
// local one its owners and moderators, for a remote one those its
// moderators collection names.
func (db *DB) Moderators(ctx context.Context, communityActorID int64) ([]Actor, error) {
	var out []Actor
	err := db.Gorm(ctx).Joins("JOIN memberships ON memberships.member_actor_id = actors.id").
		Where("memberships.community_actor_id = ? AND memberships.state = ? AND memberships.role IN ?",
			communityActorID, StateAccepted, []string{RoleOwner, RoleModerator}).
		Order("memberships.id").Find(&out).Error
	if err != nil {
		return nil, wrap(err, "list moderators of %d", communityActorID)
	}
	var remote []Actor
	err = db.Gorm(ctx).Joins("JOIN community_moderators ON community_moderators.actor_id = actors.id").
		Where("community_moderators.community_actor_id = ?", communityActorID).
		Order("community_moderators.created_at, actors.id").Find(&remote).Error
	for _, a := range remote {
		if !slices.ContainsFunc(out, func(b Actor) bool { return b.ID == a.ID }) {
			out = append(out, a)
		}
	}
	return out, wrap(err, "list moderators of %d", communityActorID)
}

// FollowingPage lists the communities an actor follows (accepted), after a
// membership id.
func (db *DB) FollowingPage(ctx context.Context, memberActorID int64, afterID int64, limit int) ([]Membership, error) {
	var out []Membership
	q := db.Gorm(ctx).Preload("CommunityActor").Where("member_actor_id = ? AND state = ?", memberActorID, StateAccepted)
	if afterID > 0 {
		q = q.Where("id > ?", afterID)
	}
	err := q.Order("id").Limit(limit).Find(&out).Error
	return out, wrap(err, "list following of %d", memberActorID)
}

// CountFollowing counts the communities an actor follows (accepted).
func (db *DB) CountFollowing(ctx context.Context, memberActorID int64) (int64, error) {
	var n int64
	err := db.Gorm(ctx).Model(&Membership{}).Where("member_actor_id = ? AND state = ?", memberActorID, StateAccepted).Count(&n).Error
	return n, wrap(err, "count following of %d", memberActorID)
}

// MemberInboxes returns the distinct inboxes of a community's accepted
// remote members: the shared inbox where a server has one, so a fan-out
// makes one request per server, not per member.
func (db *DB) MemberInboxes(ctx context.Context, communityActorID int64) ([]string, error) {
	var out []string
	err := db.Gorm(ctx).Model(&Actor{}).
		Joins("JOIN memberships ON memberships.member_actor_id = actors.id").
		Where("memberships.community_actor_id = ? AND memberships.state = ? AND NOT actors.local", communityActorID, StateAccepted).
		Distinct().
		Pluck("CASE WHEN actors.shared_inbox_uri <> '' THEN actors.shared_inbox_uri ELSE actors.inbox_uri END", &out).Error
	return out, wrap(err, "list member inboxes of %d", communityActorID)
}

// IsModerator reports whether actor owns or moderates community (for a
// remote community: whether its moderators collection names them).
func (db *DB) IsModerator(ctx context.Context, communityActorID, actorID int64) (bool, error) {
	m, err := db.GetMembership(ctx, communityActorID, actorID)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return false, err
	}
	if err == nil && m.State == StateAccepted && (m.Role == RoleOwner || m.Role == RoleModerator) {
		return true, nil
	}
	var n int64
	err = db.Gorm(ctx).Model(&CommunityModerator{}).
		Where("community_actor_id = ? AND actor_id = ?", communityActorID, actorID).Count(&n).Error
	return n > 0, wrap(err, "is %d a moderator of %d", actorID, communityActorID)
}

// PendingMembers lists a community's follow requests, oldest first.
func (db *DB) PendingMembers(ctx context.Context, communityActorID int64, limit int) ([]Membership, error) {
	return db.MemberPage(ctx, communityActorID, StatePending, 0, limit)
}

// HasLocalMember reports whether any local actor follows (accepted) the
// community, or the person: only then do its Announces, or their posts,
// concern this instance.
func (db *DB) HasLocalMember(ctx context.Context, communityActorID int64) (bool, error) {
	var n int64
	err := db.Gorm(ctx).Model(&Membership{}).
		Joins("JOIN actors ON actors.id = memberships.member_actor_id").
		Where("memberships.community_actor_id = ? AND memberships.state = ? AND actors.local", communityActorID, StateAccepted).
		Limit(1).Count(&n).Error
	return n > 0, wrap(err, "local members of %d", communityActorID)
}

// DeleteMemberships removes every membership of an actor (a deleted
// account), and every membership in it (a deleted community); it returns
// how many.
func (db *DB) DeleteMemberships(ctx context.Context, memberActorID int64) (int64, error) {
	res := db.Gorm(ctx).Where("member_actor_id = ? OR community_actor_id = ?", memberActorID, memberActorID).Delete(&Membership{})
	return res.RowsAffected, wrap(res.Error, "delete memberships of %d", memberActorID)
}
