package storage

import (
	"context"
	"slices"
)

// Queries behind live streaming: which of the members connected to this
// process see a post in their home timeline. They answer the same question
// as ListStatuses with HomeOf, for one post and many members at once.

// HomeAudience returns those of candidates whose home timeline holds o:
// its author, members who follow its author, and, for a top-level post in
// a community, members of that community.
func (db *DB) HomeAudience(ctx context.Context, o *Object, candidates []int64) ([]int64, error) {
	if len(candidates) == 0 {
		return nil, nil
	}
	followed := []int64{o.AuthorActorID}
	if o.CommunityActorID != nil && o.InReplyToURI == "" {
		followed = append(followed, *o.CommunityActorID)
	}
	var ids []int64
	err := db.Gorm(ctx).Model(&Membership{}).Distinct("member_actor_id").
		Where("state = ? AND member_actor_id IN ? AND community_actor_id IN ?", StateAccepted, candidates, followed).
		Pluck("member_actor_id", &ids).Error
	if err != nil {
		return nil, wrap(err, "home audience of %d", o.ID)
	}
	for _, c := range candidates {
		if c == o.AuthorActorID {
			ids = append(ids, c)
			break
		}
	}
	return ids, nil
}

// BoostAudience returns those of candidates whose home timeline holds the
// boost r as an entry of its own (see homeBoosts): the booster and their
// followers, for whom no earlier boost of the post by someone they follow
// is there already. Whether the post is in a home by itself
// (HomeAudience) and whether they may read it (CanSee) the caller asks.
func (db *DB) BoostAudience(ctx context.Context, r *Reblog, candidates []int64) ([]int64, error) {
	if len(candidates) == 0 {
		return nil, nil
	}
	var ids []int64
	err := db.Gorm(ctx).Raw(`SELECT who FROM (
			SELECT member_actor_id AS who FROM memberships WHERE community_actor_id = ? AND state = ? AND member_actor_id IN ?
			UNION SELECT id FROM actors WHERE id = ? AND id IN ?) audience
		WHERE NOT EXISTS (SELECT 1 FROM reblogs r1 WHERE r1.object_id = ? AND r1.id < ?
			AND (r1.actor_id = audience.who OR r1.actor_id IN
				(SELECT community_actor_id FROM memberships m1 WHERE m1.member_actor_id = audience.who AND m1.state = ?)))`,
		r.ActorID, StateAccepted, candidates, r.ActorID, candidates, r.ObjectID, r.ID, StateAccepted).Scan(&ids).Error
	return ids, wrap(err, "boost audience of %d", r.ID)
}

// FollowersAmong returns those of candidates who are actorID or follow
// it.
func (db *DB) FollowersAmong(ctx context.Context, actorID int64, candidates []int64) ([]int64, error) {
	if len(candidates) == 0 {
		return nil, nil
	}
	var ids []int64
	err := db.Gorm(ctx).Model(&Membership{}).
		Where("community_actor_id = ? AND state = ? AND member_actor_id IN ?", actorID, StateAccepted, candidates).
		Pluck("member_actor_id", &ids).Error
	if err != nil {
		return nil, wrap(err, "followers of %d", actorID)
	}
	if slices.Contains(candidates, actorID) {
		ids = append(ids, actorID)
	}
	return ids, nil
}

// LiveTokens returns which of the given OAuth tokens may still be used:
// not revoked, and not of a disabled account.
func (db *DB) LiveTokens(ctx context.Context, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(ids) == 0 {
		return out, nil
	}
	var live []int64
	err := db.Gorm(ctx).Table("oauth_tokens").
		Joins("LEFT JOIN accounts ON accounts.id = oauth_tokens.account_id").
		Where("oauth_tokens.id IN ? AND oauth_tokens.revoked_at IS NULL AND (accounts.id IS NULL OR NOT accounts.disabled)", ids).
		Pluck("oauth_tokens.id", &live).Error
	if err != nil {
		return nil, wrap(err, "live tokens")
	}
	for _, id := range live {
		out[id] = true
	}
	return out, nil
}
