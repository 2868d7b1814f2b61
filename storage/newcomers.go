package storage

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm/clause"
)

// The newcomer's view (issue 15, item 5): a community's welcome message
// and the members who help most.

// Welcome returns a community's welcome message ("" for none).
func (db *DB) Welcome(ctx context.Context, communityActorID int64) (string, error) {
	var s RepertoireSetting
	err := db.Gorm(ctx).Where("community_actor_id = ?", communityActorID).Limit(1).Find(&s).Error
	return s.Welcome, wrap(err, "welcome of %d", communityActorID)
}

// SetWelcome sets a community's welcome message.
func (db *DB) SetWelcome(ctx context.Context, communityActorID int64, text string) error {
	err := db.Gorm(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "community_actor_id"}}, DoUpdates: clause.AssignmentColumns([]string{"welcome"})}).
		Create(&RepertoireSetting{CommunityActorID: communityActorID, Welcome: text}).Error
	return wrap(err, "set welcome of %d", communityActorID)
}

// AnswererOptout is a member who is not to be listed among the people
// who answer in a community.
type AnswererOptout struct {
	ActorID   int64 `gorm:"primaryKey;autoIncrement:false"`
	CreatedAt time.Time
}

// SetAnswererOptout keeps (on false: stops keeping) an actor out of the
// lists of people who answer.
func (db *DB) SetAnswererOptout(ctx context.Context, actorID int64, out bool) error {
	var err error
	if out {
		err = db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&AnswererOptout{ActorID: actorID, CreatedAt: time.Now().UTC()}).Error
	} else {
		err = db.Gorm(ctx).Where("actor_id = ?", actorID).Delete(&AnswererOptout{}).Error
	}
	return wrap(err, "answerer opt-out of %d", actorID)
}

// IsAnswererOptedOut reports whether an actor keeps out of those lists.
func (db *DB) IsAnswererOptedOut(ctx context.Context, actorID int64) (bool, error) {
	var n int64
	err := db.Gorm(ctx).Model(&AnswererOptout{}).Where("actor_id = ?", actorID).Count(&n).Error
	return n > 0, wrap(err, "answerer opt-out of %d", actorID)
}

// Answerer is a member who helps in a community: their accepted answers
// and their public replies there.
type Answerer struct {
	Actor    Actor
	Accepted int64
	Replies  int64
}

// TopAnswerers lists the people whose answers a community accepted most,
// then who replied most, among its last maxRecent public replies, leaving
// out those who opted out; at most limit.
func (db *DB) TopAnswerers(ctx context.Context, communityActorID int64, limit int) ([]Answerer, error) {
	const maxRecent = 5000
	var rows []struct {
		ActorID  int64
		Accepted int64
		Replies  int64
	}
	err := db.Gorm(ctx).Raw(`SELECT r.author_actor_id AS actor_id,
			COUNT(q.id) AS accepted, COUNT(*) AS replies
		FROM (SELECT id, uri, author_actor_id FROM objects
			WHERE community_actor_id = ? AND in_reply_to_uri <> '' AND deleted_at IS NULL AND visibility = ?
			ORDER BY id DESC LIMIT ?) r
		LEFT JOIN objects q ON q.accepted_answer_uri = r.uri AND q.community_actor_id = ?
		WHERE NOT EXISTS (SELECT 1 FROM answerer_optouts x WHERE x.actor_id = r.author_actor_id)
		GROUP BY r.author_actor_id
		ORDER BY accepted DESC, replies DESC, actor_id LIMIT ?`,
		communityActorID, VisibilityPublic, maxRecent, communityActorID, limit).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, wrap(err, "answerers of %d", communityActorID)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ActorID
	}
	var actors []Actor
	if err := db.Gorm(ctx).Where("id IN ?", ids).Find(&actors).Error; err != nil {
		return nil, wrap(err, "answerers of %d", communityActorID)
	}
	byID := make(map[int64]Actor, len(actors))
	for _, a := range actors {
		byID[a.ID] = a
	}
	out := make([]Answerer, 0, len(rows))
	for _, r := range rows {
		if a, ok := byID[r.ActorID]; ok {
			out = append(out, Answerer{Actor: a, Accepted: r.Accepted, Replies: r.Replies})
		}
	}
	return out, nil
}

// Introductions returns the live post of a community where newcomers
// introduce themselves, or nil.
func (db *DB) Introductions(ctx context.Context, communityActorID int64) (*Object, error) {
	var s RepertoireSetting
	if err := db.Gorm(ctx).Where("community_actor_id = ?", communityActorID).Limit(1).Find(&s).Error; err != nil {
		return nil, wrap(err, "introductions of %d", communityActorID)
	}
	if s.IntroductionsObjectID == nil {
		return nil, nil
	}
	o, err := db.GetObjectByID(ctx, *s.IntroductionsObjectID)
	if errors.Is(err, ErrNotFound) || err == nil && (o.DeletedAt != nil || o.CommunityActorID == nil || *o.CommunityActorID != communityActorID) {
		return nil, nil
	}
	return o, err
}

// SetIntroductions makes the post with id objectID (0: none) a community's
// introductions thread.
func (db *DB) SetIntroductions(ctx context.Context, communityActorID, objectID int64) error {
	var id *int64
	if objectID != 0 {
		id = &objectID
	}
	err := db.Gorm(ctx).Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "community_actor_id"}}, DoUpdates: clause.AssignmentColumns([]string{"introductions_object_id"})}).
		Create(&RepertoireSetting{CommunityActorID: communityActorID, IntroductionsObjectID: id}).Error
	return wrap(err, "set introductions of %d", communityActorID)
}
