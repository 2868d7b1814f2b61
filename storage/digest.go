package storage

import (
	"context"
	"time"
)

// AnsweredSince returns a community's live questions whose answer was
// accepted at or after since, the latest first, at most limit.
func (db *DB) AnsweredSince(ctx context.Context, communityActorID int64, since time.Time, limit int) ([]Object, error) {
	var out []Object
	err := db.Gorm(ctx).Preload("AuthorActor").
		Where("community_actor_id = ? AND deleted_at IS NULL AND accepted_answer_uri <> '' AND answered_at >= ?", communityActorID, since.UTC()).
		Order("answered_at DESC").Limit(limit).Find(&out).Error
	return out, wrap(err, "questions of %d answered since %v", communityActorID, since)
}

// ActiveThread is a thread with the number of replies it had lately.
type ActiveThread struct {
	Root    Object
	Replies int64
}

// ActiveThreads returns the threads begun in a community that had the
// most live replies published at or after since, most first, at most
// limit.
func (db *DB) ActiveThreads(ctx context.Context, communityActorID int64, since time.Time, limit int) ([]ActiveThread, error) {
	var rows []struct {
		ID      int64
		Replies int64
	}
	err := db.Gorm(ctx).Raw(`SELECT root.id AS id, COUNT(r.id) AS replies FROM objects root
		JOIN objects r ON r.context_uri = root.context_uri AND r.id <> root.id
		WHERE root.community_actor_id = ? AND root.in_reply_to_uri = '' AND root.deleted_at IS NULL
			AND r.in_reply_to_uri <> '' AND r.deleted_at IS NULL AND r.published_at >= ?
		GROUP BY root.id ORDER BY COUNT(r.id) DESC, root.id DESC LIMIT ?`, communityActorID, since.UTC(), limit).Scan(&rows).Error
	if err != nil || len(rows) == 0 {
		return nil, wrap(err, "active threads of %d", communityActorID)
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	roots, err := db.ListObjectsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]Object, len(roots))
	for _, o := range roots {
		byID[o.ID] = o
	}
	out := make([]ActiveThread, 0, len(rows))
	for _, r := range rows {
		if o, ok := byID[r.ID]; ok {
			out = append(out, ActiveThread{Root: o, Replies: r.Replies})
		}
	}
	return out, nil
}
