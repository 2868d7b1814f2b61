package storage

import (
	"context"
	"time"
)

// Queries behind discovery: the directory, suggestions, trends, the
// instance's peers and activity.

// Peers lists the domains of the remote actors this instance knows.
func (db *DB) Peers(ctx context.Context, limit int) ([]string, error) {
	var out []string
	err := db.Gorm(ctx).Model(&Actor{}).Where("NOT local AND domain <> ''").Distinct("domain").Order("domain").Limit(limit).Pluck("domain", &out).Error
	return out, wrap(err, "list peers")
}

// WeekActivity is one week of the instance's activity.
type WeekActivity struct {
	Week                            time.Time
	Statuses, Logins, Registrations int64
}

// Activity counts, for the weeks starting at each of starts, the local
// posts written, the accounts whose token was last used that week, and
// the accounts created.
func (db *DB) Activity(ctx context.Context, starts []time.Time) ([]WeekActivity, error) {
	out := make([]WeekActivity, len(starts))
	for i, s := range starts {
		e := s.AddDate(0, 0, 7)
		w := WeekActivity{Week: s}
		g := db.Gorm(ctx)
		if err := g.Model(&Object{}).Where("local AND published_at >= ? AND published_at < ?", s.UTC(), e.UTC()).Count(&w.Statuses).Error; err != nil {
			return nil, wrap(err, "week statuses")
		}
		if err := g.Model(&OAuthToken{}).Where("account_id IS NOT NULL AND last_used_at >= ? AND last_used_at < ?", s.UTC(), e.UTC()).Distinct("account_id").Count(&w.Logins).Error; err != nil {
			return nil, wrap(err, "week logins")
		}
		if err := g.Model(&Account{}).Where("created_at >= ? AND created_at < ?", s.UTC(), e.UTC()).Count(&w.Registrations).Error; err != nil {
			return nil, wrap(err, "week registrations")
		}
		out[i] = w
	}
	return out, nil
}

// Directory lists local accounts that may be listed: members who chose
// to be discoverable and public communities; "new" orders by creation,
// otherwise by latest post.
func (db *DB) Directory(ctx context.Context, order string, offset, limit int) ([]Actor, error) {
	public := db.Gorm(ctx).Model(&Community{}).Select("actor_id").Where("visibility = ?", VisibilityPublic)
	q := db.Gorm(ctx).Model(&Actor{}).Where("actors.local AND ((actors.type = ? AND actors.discoverable) OR (actors.type = ? AND actors.id IN (?)))",
		TypePerson, TypeGroup, public)
	if order == "new" {
		q = q.Order("actors.id DESC")
	} else {
		last := "(SELECT max(o.id) FROM objects o WHERE o.deleted_at IS NULL AND (o.author_actor_id = actors.id OR o.community_actor_id = actors.id))"
		q = q.Order("COALESCE(" + last + ", 0) DESC").Order("actors.id DESC")
	}
	var out []Actor
	err := q.Offset(offset).Limit(limit).Find(&out).Error
	return out, wrap(err, "directory")
}

// SuggestedCommunities lists public local communities viewerID has not
// joined, most members first.
func (db *DB) SuggestedCommunities(ctx context.Context, viewerID int64, limit int) ([]Actor, error) {
	public := db.Gorm(ctx).Model(&Community{}).Select("actor_id").Where("visibility = ?", VisibilityPublic)
	joined := db.Gorm(ctx).Model(&Membership{}).Select("community_actor_id").Where("member_actor_id = ?", viewerID)
	dismissed := db.Gorm(ctx).Table("suggestion_dismissals").Select("target_actor_id").Where("actor_id = ?", viewerID)
	members := "(SELECT count(*) FROM memberships m WHERE m.community_actor_id = actors.id AND m.state = 'accepted')"
	var out []Actor
	err := db.Gorm(ctx).Model(&Actor{}).Where("actors.local AND actors.type = ? AND actors.id IN (?) AND actors.id NOT IN (?) AND actors.id NOT IN (?)", TypeGroup, public, joined, dismissed).
		Order(members + " DESC").Order("actors.id").Limit(limit).Find(&out).Error
	return out, wrap(err, "suggested communities")
}

// TrendingTags lists the hashtags used by the most distinct authors in
// public posts since since.
func (db *DB) TrendingTags(ctx context.Context, since time.Time, offset, limit int) ([]string, error) {
	type row struct {
		Tag string
		N   int64
	}
	var rows []row
	q := db.Gorm(ctx).Model(&ObjectTag{}).Select("object_tags.tag, count(DISTINCT objects.author_actor_id) AS n").
		Joins("JOIN objects ON objects.id = object_tags.object_id").
		Where("objects.deleted_at IS NULL AND objects.visibility = ? AND objects.published_at >= ?", VisibilityPublic, since.UTC())
	err := HideLimited(q).Group("object_tags.tag").Order("n DESC").Order("object_tags.tag").Offset(offset).Limit(limit).Scan(&rows).Error
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Tag
	}
	return out, wrap(err, "trending tags")
}

// TrendingStatuses lists public posts since since with the most likes and
// boosts.
func (db *DB) TrendingStatuses(ctx context.Context, since time.Time, offset, limit int) ([]Object, error) {
	score := "((SELECT count(*) FROM likes l WHERE l.object_id = objects.id) + (SELECT count(*) FROM reblogs r WHERE r.object_id = objects.id))"
	q := db.Gorm(ctx).Model(&Object{}).Where("objects.deleted_at IS NULL AND objects.visibility = ? AND objects.published_at >= ? AND "+score+" > 0",
		VisibilityPublic, since.UTC())
	var out []Object
	err := HideLimited(q).Preload("AuthorActor").Preload("CommunityActor").Order(score + " DESC").Order("objects.id DESC").
		Offset(offset).Limit(limit).Find(&out).Error
	return out, wrap(err, "trending statuses")
}
