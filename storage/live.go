package storage

import "context"

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
