package storage

import (
	"context"
	"time"
)

// AccountCounts are the figures the client API shows on an account: its
// live public posts (CountObjects by author), its accepted members (a
// community's: CountMembers), its accepted memberships (CountFollowing)
// and when it last posted (LastPostAt).
type AccountCounts struct {
	Statuses, Followers, Following int64
	LastPostAt                     *time.Time
}

// AccountCountsOf returns the AccountCounts of each actor in ids in four
// queries, however many they are: a page of statuses names up to one
// author each, and four queries per author made a thread of 500 replies
// cost 2,000 (issue 17, item 4).
func (db *DB) AccountCountsOf(ctx context.Context, ids []int64) (map[int64]AccountCounts, error) {
	out := make(map[int64]AccountCounts, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	type count struct {
		ID int64
		N  int64
	}
	var statuses, followers, following []count
	err := db.filterObjects(ctx, ObjectFilter{}).Select("objects.author_actor_id AS id, COUNT(*) AS n").
		Where("objects.author_actor_id IN ?", ids).Group("objects.author_actor_id").Scan(&statuses).Error
	if err != nil {
		return nil, wrap(err, "count posts of %d actors", len(ids))
	}
	err = db.Gorm(ctx).Model(&Membership{}).Select("community_actor_id AS id, COUNT(*) AS n").
		Where("community_actor_id IN ? AND state = ?", ids, StateAccepted).Group("community_actor_id").Scan(&followers).Error
	if err != nil {
		return nil, wrap(err, "count members of %d actors", len(ids))
	}
	err = db.Gorm(ctx).Model(&Membership{}).Select("member_actor_id AS id, COUNT(*) AS n").
		Where("member_actor_id IN ? AND state = ?", ids, StateAccepted).Group("member_actor_id").Scan(&following).Error
	if err != nil {
		return nil, wrap(err, "count memberships of %d actors", len(ids))
	}
	var last []Object
	err = db.Gorm(ctx).Select("author_actor_id", "published_at").
		Where("id IN (?)", db.Gorm(ctx).Model(&Object{}).Select("MAX(id)").
			Where("author_actor_id IN ? AND deleted_at IS NULL", ids).Group("author_actor_id")).
		Find(&last).Error
	if err != nil {
		return nil, wrap(err, "last posts of %d actors", len(ids))
	}
	for _, id := range ids {
		out[id] = AccountCounts{}
	}
	for _, c := range statuses {
		a := out[c.ID]
		a.Statuses = c.N
		out[c.ID] = a
	}
	for _, c := range followers {
		a := out[c.ID]
		a.Followers = c.N
		out[c.ID] = a
	}
	for _, c := range following {
		a := out[c.ID]
		a.Following = c.N
		out[c.ID] = a
	}
	for _, o := range last {
		a := out[o.AuthorActorID]
		a.LastPostAt = &o.PublishedAt
		out[o.AuthorActorID] = a
	}
	return out, nil
}
