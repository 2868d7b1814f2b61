package storage

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Queries behind the client API's timelines, statuses and accounts.

// pageQuery applies p to q on column col and returns the order to read in:
// newest first, or oldest first from MinID (the caller reverses).
func pageQuery(q *gorm.DB, col string, p Page) (*gorm.DB, string) {
	if p.MaxID > 0 {
		q = q.Where(col+" < ?", p.MaxID)
	}
	if p.SinceID > 0 {
		q = q.Where(col+" > ?", p.SinceID)
	}
	if p.MinID > 0 {
		q = q.Where(col+" > ?", p.MinID)
		return q, col + " ASC"
	}
	return q, col + " DESC"
}

func reverse[T any](s []T) { slices.Reverse(s) }

// StatusFilter selects a page of live public posts for a timeline. Zero
// fields do not filter.
type StatusFilter struct {
	AuthorActorID    int64
	CommunityActorID int64
	// HomeOf is the home timeline of a member: top-level posts of the
	// communities they follow, the posts and replies of the people they
	// follow, and their own posts.
	HomeOf int64
	// Boosts, with HomeOf, adds the boosts by the member and the people
	// they follow, each an entry of its own with Boost set, paged by the
	// boost's id (see homeBoosts).
	Boosts bool
	// Local: "local" only this instance's posts, "remote" only others'.
	Origin       string
	Tag          string
	TopLevelOnly bool
	// Query finds posts by their words (every word, stemmed) in the
	// search index (search.go), newest first.
	Query string
	// HideLimited leaves out posts from domains the federation policy
	// limits: set for public timelines.
	HideLimited bool
	// ViewerID leaves out the posts of accounts the viewer muted or
	// blocked, or that blocked the viewer, or whose domain the viewer
	// blocked.
	ViewerID int64
	// ListID is the timeline of a member's list: posts by the people on
	// it and top-level posts of the communities on it.
	ListID int64
	// VisibleTo, when set, shows every post that actor may read (see
	// visibility.go): unlisted, followers-only and direct ones too, for
	// timelines of a member's own (home, lists, profiles). Unset, only
	// public posts are listed.
	VisibleTo *Actor
	// Unlisted, without VisibleTo, lists unlisted posts too (an account's
	// page: what anyone may read).
	Unlisted bool
	Page     Page
}

// ListStatuses returns a page of live posts, newest first: public ones,
// or those f.VisibleTo may read.
func (db *DB) ListStatuses(ctx context.Context, f StatusFilter) ([]Object, error) {
	q := db.Gorm(ctx).Model(&Object{}).Where("objects.deleted_at IS NULL")
	if f.VisibleTo != nil || f.Unlisted {
		q = VisibleTo(q, f.VisibleTo)
	} else {
		q = Listed(q)
	}
	if f.AuthorActorID > 0 {
		q = q.Where("objects.author_actor_id = ?", f.AuthorActorID)
	}
	if f.CommunityActorID > 0 {
		q = q.Where("objects.community_actor_id = ?", f.CommunityActorID)
	}
	if f.HomeOf > 0 {
		q = q.Where(db.inHome(ctx, f.HomeOf))
	}
	if f.ListID > 0 {
		on := db.Gorm(ctx).Model(&ListMember{}).Select("actor_id").Where("list_id = ?", f.ListID)
		q = q.Where("((objects.in_reply_to_uri = '' AND objects.community_actor_id IN (?)) OR objects.author_actor_id IN (?))", on, on)
	}
	if f.ViewerID > 0 {
		q = q.Where("objects.author_actor_id NOT IN (?)", db.hiddenAuthors(ctx, f.ViewerID))
	}
	switch f.Origin {
	case "local":
		q = q.Where("objects.local")
	case "remote":
		q = q.Where("NOT objects.local")
	}
	if f.Tag != "" {
		q = q.Where("objects.id IN (?)", db.Gorm(ctx).Model(&ObjectTag{}).Select("object_id").Where("tag = ?", strings.ToLower(f.Tag)))
	}
	if f.TopLevelOnly {
		q = q.Where("objects.in_reply_to_uri = ''")
	}
	if f.HideLimited {
		q = HideLimited(q)
	}
	if f.Query != "" {
		q = db.matchingText(q, f.Query)
	}
	q, order := pageQuery(q, "objects.id", f.Page)
	var out []Object
	err := q.Preload("AuthorActor").Preload("CommunityActor").Order(order).Limit(f.Page.limit()).Find(&out).Error
	if err != nil {
		return nil, wrap(err, "list statuses")
	}
	if f.Page.Ascending() {
		reverse(out)
	}
	if f.HomeOf > 0 && f.Boosts {
		boosts, err := db.homeBoosts(ctx, f)
		if err != nil {
			return nil, err
		}
		out = mergeTimeline(out, boosts, f.Page)
	}
	return out, nil
}

// inHome is the condition on objects of the posts in member's home
// timeline by themselves: top-level posts of the communities they follow,
// posts of the people they follow and their own, and posts with the
// hashtags they follow. Never NULL.
func (db *DB) inHome(ctx context.Context, member int64) clause.Expr {
	followed := db.Gorm(ctx).Model(&Membership{}).Select("community_actor_id").
		Where("member_actor_id = ? AND state = ?", member, StateAccepted)
	// CROSS JOIN makes SQLite read the few followed tags first and seek
	// their posts, rather than read every post's tags.
	tagged := db.Gorm(ctx).Raw(`SELECT object_tags.object_id FROM followed_tags CROSS JOIN object_tags
		WHERE object_tags.tag = followed_tags.tag AND followed_tags.actor_id = ?`, member)
	return gorm.Expr("((objects.in_reply_to_uri = '' AND objects.community_actor_id IS NOT NULL AND objects.community_actor_id IN (?)) OR objects.author_actor_id = ? OR objects.author_actor_id IN (?) OR objects.id IN (?))",
		followed, member, followed, tagged)
}

// homeBoosts returns the boosts in f.HomeOf's home timeline as entries
// with Boost set, newest boost first (oldest first from MinID, reversed),
// paged by the boost's id. As Mastodon's home feed shows them: boosts by
// the member and by the people they follow, of live posts the member may
// read (VisibleTo), by authors and boosters the member has not muted or
// blocked (ViewerID); a post that is in the home timeline by itself is not
// shown again as a boost, and of several boosts of one post only the
// first is shown.
func (db *DB) homeBoosts(ctx context.Context, f StatusFilter) ([]Object, error) {
	boosters := db.Gorm(ctx).Model(&Membership{}).Select("community_actor_id").
		Where("member_actor_id = ? AND state = ?", f.HomeOf, StateAccepted)
	q := db.Gorm(ctx).Model(&Reblog{}).Joins("JOIN objects ON objects.id = reblogs.object_id").
		Where("objects.deleted_at IS NULL").
		Where("(reblogs.actor_id = ? OR reblogs.actor_id IN (?))", f.HomeOf, boosters).
		Where("NOT ?", db.inHome(ctx, f.HomeOf)).
		Where("reblogs.id = (SELECT MIN(r1.id) FROM reblogs r1 WHERE r1.object_id = reblogs.object_id AND (r1.actor_id = ? OR r1.actor_id IN (?)))",
			f.HomeOf, boosters)
	if f.VisibleTo != nil || f.Unlisted {
		q = VisibleTo(q, f.VisibleTo)
	} else {
		q = Listed(q)
	}
	if f.ViewerID > 0 {
		hidden := db.hiddenAuthors(ctx, f.ViewerID)
		q = q.Where("objects.author_actor_id NOT IN (?) AND reblogs.actor_id NOT IN (?)", hidden, hidden)
	}
	q, order := pageQuery(q, "reblogs.id", f.Page)
	var rows []Reblog
	if err := q.Select("reblogs.*").Preload("Actor").Order(order).Limit(f.Page.limit()).Find(&rows).Error; err != nil {
		return nil, wrap(err, "list home boosts of %d", f.HomeOf)
	}
	if f.Page.Ascending() {
		reverse(rows)
	}
	ids := make([]int64, 0, len(rows))
	for _, r := range rows {
		ids = append(ids, r.ObjectID)
	}
	objs, err := db.ListObjectsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[int64]*Object, len(objs))
	for i := range objs {
		byID[objs[i].ID] = &objs[i]
	}
	out := make([]Object, 0, len(rows))
	for i := range rows {
		if o := byID[rows[i].ObjectID]; o != nil {
			e := *o
			e.Boost = &rows[i]
			out = append(out, e)
		}
	}
	return out, nil
}

// mergeTimeline merges two lists of entries, each newest first by
// TimelineID, into one page of p.Limit: the newest, or from MinID the
// oldest (closest to it).
func mergeTimeline(a, b []Object, p Page) []Object {
	out := make([]Object, 0, len(a)+len(b))
	for len(a) > 0 || len(b) > 0 {
		if len(b) == 0 || len(a) > 0 && a[0].TimelineID() > b[0].TimelineID() {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	if n := p.limit(); len(out) > n {
		if p.Ascending() {
			return out[len(out)-n:]
		}
		return out[:n]
	}
	return out
}

// prefixMatch is the condition that expr (lower-case) starts with
// prefix, lower-cased, in the form an index on expr serves: LIKE for
// PostgreSQL's text_pattern_ops indexes; for SQLite, whose LIKE no index
// on an expression serves, also the range of strings that start with it
// (in its byte order: prefix, then anything below the last code point).
func (db *DB) prefixMatch(expr, prefix string) (string, []any) {
	prefix = strings.ToLower(prefix)
	like := escapeLike(prefix) + "%"
	if db.dialect == Postgres {
		return expr + ` LIKE ? ESCAPE '\'`, []any{like}
	}
	return "(" + expr + " >= ? AND " + expr + " < ? AND " + expr + ` LIKE ? ESCAPE '\')`, []any{prefix, prefix + "\U0010FFFF", like}
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListObjectsByIDs returns the objects with the given ids (tombstones
// included), in no set order.
func (db *DB) ListObjectsByIDs(ctx context.Context, ids []int64) ([]Object, error) {
	var out []Object
	if len(ids) == 0 {
		return out, nil
	}
	err := db.Gorm(ctx).Preload("AuthorActor").Preload("CommunityActor").Where("id IN ?", ids).Find(&out).Error
	return out, wrap(err, "list objects by id")
}

// ListThread returns the live posts of a thread (same context) that
// viewer (nil: anyone) may read, oldest first, at most limit.
func (db *DB) ListThread(ctx context.Context, contextURI string, viewer *Actor, limit int) ([]Object, error) {
	var out []Object
	q := db.Gorm(ctx).Model(&Object{}).Preload("AuthorActor").Preload("CommunityActor").
		Where("objects.context_uri = ? AND objects.deleted_at IS NULL", contextURI)
	err := VisibleTo(q, viewer).Order("objects.id").Limit(limit).Find(&out).Error
	return out, wrap(err, "list thread %q", contextURI)
}

// ObjectTag is a hashtag of a post, lower-cased without '#'.
type ObjectTag struct {
	ObjectID int64  `gorm:"primaryKey;autoIncrement:false"`
	Tag      string `gorm:"primaryKey"`
}

// PutObjectTags records a post's hashtags; known ones are kept.
func (db *DB) PutObjectTags(ctx context.Context, objectID int64, tags []string) error {
	if len(tags) == 0 {
		return nil
	}
	rows := make([]ObjectTag, 0, len(tags))
	for _, t := range tags {
		rows = append(rows, ObjectTag{ObjectID: objectID, Tag: strings.ToLower(t)})
	}
	err := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error
	return wrap(err, "put tags of object %d", objectID)
}

// ObjectTags returns the hashtags of each of the given posts.
func (db *DB) ObjectTags(ctx context.Context, objectIDs []int64) (map[int64][]string, error) {
	out := map[int64][]string{}
	if len(objectIDs) == 0 {
		return out, nil
	}
	var rows []ObjectTag
	err := db.Gorm(ctx).Where("object_id IN ?", objectIDs).Order("object_id, tag").Find(&rows).Error
	for _, r := range rows {
		out[r.ObjectID] = append(out[r.ObjectID], r.Tag)
	}
	return out, wrap(err, "list object tags")
}

// SearchTags returns known hashtags (of posts and of communities) that
// start with prefix.
func (db *DB) SearchTags(ctx context.Context, prefix string, limit int) ([]string, error) {
	match, args := db.prefixMatch("tag", prefix)
	var a, b []string
	if err := db.Gorm(ctx).Model(&ObjectTag{}).Distinct().Where(match, args...).Order("tag").Limit(limit).Pluck("tag", &a).Error; err != nil {
		return nil, wrap(err, "search tags")
	}
	if err := db.Gorm(ctx).Model(&CommunityTag{}).Distinct().Where(match, args...).Order("tag").Limit(limit).Pluck("tag", &b).Error; err != nil {
		return nil, wrap(err, "search tags")
	}
	out := append(a, b...)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// SearchActors returns actors whose username or display name starts with
// q, local ones first.
func (db *DB) SearchActors(ctx context.Context, q string, limit int) ([]Actor, error) {
	byName, args := db.prefixMatch("lower(username)", q)
	byDisplay, more := db.prefixMatch("lower(display_name)", q)
	var out []Actor
	err := db.Gorm(ctx).Where("type IN ?", []string{TypePerson, TypeGroup}).
		Where("("+byName+" OR "+byDisplay+")", append(args, more...)...).
		Order("local DESC, username").Limit(limit).Find(&out).Error
	return out, wrap(err, "search actors")
}

// StatusStats are the counters and the viewer's state of one post.
type StatusStats struct {
	Replies, Favourites, Reblogs              int64
	Favourited, Reblogged, Bookmarked, Pinned bool
}

// StatusStats counts replies and likes of each post and whether viewer
// (0 for nobody) liked it, in three queries for a whole page.
func (db *DB) StatusStats(ctx context.Context, objectIDs []int64, viewerActorID int64) (map[int64]*StatusStats, error) {
	out := make(map[int64]*StatusStats, len(objectIDs))
	if len(objectIDs) == 0 {
		return out, nil
	}
	for _, id := range objectIDs {
		out[id] = &StatusStats{}
	}
	type count struct {
		ID int64
		N  int64
	}
	var rows []count
	err := db.Gorm(ctx).Model(&Object{}).Select("in_reply_to_id AS id, count(*) AS n").
		Where("in_reply_to_id IN ? AND deleted_at IS NULL", objectIDs).Group("in_reply_to_id").Scan(&rows).Error
	if err != nil {
		return nil, wrap(err, "count replies")
	}
	for _, r := range rows {
		out[r.ID].Replies = r.N
	}
	rows = rows[:0]
	err = db.Gorm(ctx).Model(&Like{}).Select("object_id AS id, count(*) AS n").
		Where("object_id IN ?", objectIDs).Group("object_id").Scan(&rows).Error
	if err != nil {
		return nil, wrap(err, "count likes")
	}
	for _, r := range rows {
		out[r.ID].Favourites = r.N
	}
	if viewerActorID > 0 {
		var liked []int64
		err = db.Gorm(ctx).Model(&Like{}).Where("actor_id = ? AND object_id IN ?", viewerActorID, objectIDs).Pluck("object_id", &liked).Error
		if err != nil {
			return nil, wrap(err, "list likes of %d", viewerActorID)
		}
		for _, id := range liked {
			out[id].Favourited = true
		}
		for table, set := range map[string]func(*StatusStats){
			"reblogs":   func(s *StatusStats) { s.Reblogged = true },
			"bookmarks": func(s *StatusStats) { s.Bookmarked = true },
			"pins":      func(s *StatusStats) { s.Pinned = true },
		} {
			marked, err := db.MarksOf(ctx, table, viewerActorID, objectIDs)
			if err != nil {
				return nil, err
			}
			for id := range marked {
				set(out[id])
			}
		}
	}
	reblogs, err := db.CountReblogs(ctx, objectIDs)
	if err != nil {
		return nil, err
	}
	for id, n := range reblogs {
		out[id].Reblogs = n
	}
	return out, nil
}

// GetLike returns actor's like of object.
func (db *DB) GetLike(ctx context.Context, actorID, objectID int64) (*Like, error) {
	var l Like
	err := db.Gorm(ctx).Where("actor_id = ? AND object_id = ?", actorID, objectID).Take(&l).Error
	return &l, wrap(err, "get like of %d by %d", objectID, actorID)
}

// LastPostAt returns when actor last posted, or nil.
func (db *DB) LastPostAt(ctx context.Context, actorID int64) (*time.Time, error) {
	var o Object
	err := db.Gorm(ctx).Select("published_at").Where("author_actor_id = ? AND deleted_at IS NULL", actorID).
		Order("id DESC").Limit(1).Take(&o).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap(err, "last post of %d", actorID)
	}
	return &o.PublishedAt, nil
}

// MembershipsOf returns member's memberships (any state) of the given
// actors, by the followed actor's id.
func (db *DB) MembershipsOf(ctx context.Context, memberActorID int64, actorIDs []int64) (map[int64]Membership, error) {
	out := map[int64]Membership{}
	if len(actorIDs) == 0 {
		return out, nil
	}
	var rows []Membership
	err := db.Gorm(ctx).Where("member_actor_id = ? AND community_actor_id IN ?", memberActorID, actorIDs).Find(&rows).Error
	for _, m := range rows {
		out[m.CommunityActorID] = m
	}
	return out, wrap(err, "list memberships of %d", memberActorID)
}

// PendingRequestsFor lists pending requests to join the local communities
// that moderatorActorID owns or moderates, newest first, paged by
// membership id. fromActorID > 0 selects one requester's requests.
func (db *DB) PendingRequestsFor(ctx context.Context, moderatorActorID, fromActorID int64, p Page) ([]Membership, error) {
	moderated := db.Gorm(ctx).Model(&Membership{}).Select("community_actor_id").
		Where("member_actor_id = ? AND state = ? AND role IN ?", moderatorActorID, StateAccepted, []string{RoleOwner, RoleModerator})
	q := db.Gorm(ctx).Preload("MemberActor").Preload("CommunityActor").
		Where("state = ? AND community_actor_id IN (?)", StatePending, moderated)
	if fromActorID > 0 {
		q = q.Where("member_actor_id = ?", fromActorID)
	}
	q, order := pageQuery(q, "memberships.id", p)
	var out []Membership
	err := q.Order(order).Limit(p.limit()).Find(&out).Error
	if p.Ascending() {
		reverse(out)
	}
	return out, wrap(err, "list follow requests for %d", moderatorActorID)
}

// ReserveIdempotencyKey claims key for actor's next status. It returns
// (nil, true) when the key is new or its earlier use is older than ttl (the
// caller creates the status and calls FinishIdempotencyKey), or the earlier
// use and false. An earlier use still in flight has ObjectID nil.
func (db *DB) ReserveIdempotencyKey(ctx context.Context, actorID int64, key string, ttl time.Duration) (*IdempotencyKey, bool, error) {
	now := time.Now().UTC()
	for range 3 {
		row := &IdempotencyKey{ActorID: actorID, Key: key, CreatedAt: now}
		res := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(row)
		if res.Error != nil {
			return nil, false, wrap(res.Error, "reserve idempotency key")
		}
		if res.RowsAffected == 1 {
			return nil, true, nil
		}
		var got IdempotencyKey
		err := db.Gorm(ctx).Where("actor_id = ? AND key = ?", actorID, key).Take(&got).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			continue // released meanwhile
		}
		if err != nil {
			return nil, false, wrap(err, "get idempotency key")
		}
		if got.CreatedAt.After(now.Add(-ttl)) {
			return &got, false, nil
		}
		// Expired: forget it and claim again.
		if err := db.Gorm(ctx).Where("id = ? AND created_at = ?", got.ID, got.CreatedAt).Delete(&IdempotencyKey{}).Error; err != nil {
			return nil, false, wrap(err, "expire idempotency key")
		}
	}
	return nil, false, wrap(ErrConflict, "reserve idempotency key")
}

// FinishIdempotencyKey records the status created under a reserved key;
// objectID 0 releases the key (the creation failed).
func (db *DB) FinishIdempotencyKey(ctx context.Context, actorID int64, key string, objectID int64) error {
	q := db.Gorm(ctx).Where("actor_id = ? AND key = ? AND object_id IS NULL", actorID, key)
	if objectID == 0 {
		return wrap(q.Delete(&IdempotencyKey{}).Error, "release idempotency key")
	}
	return wrap(q.Model(&IdempotencyKey{}).Update("object_id", objectID).Error, "finish idempotency key")
}

// IdempotencyKey remembers the status an Idempotency-Key created.
type IdempotencyKey struct {
	ID        int64
	ActorID   int64
	Key       string
	ObjectID  *int64
	CreatedAt time.Time
}

// ListAncestors returns the posts that objectID answers, nearest first,
// at most limit of them, in two queries however deep the thread is. The
// list stops before the first post viewer may not see (nil: a visitor).
// Deleted posts are included: callers decide what to show of them.
func (db *DB) ListAncestors(ctx context.Context, objectID int64, viewer *Actor, limit int) ([]Object, error) {
	if limit <= 0 {
		return nil, nil
	}
	var ids []int64
	err := db.Gorm(ctx).Raw(`WITH RECURSIVE up (id, parent, depth) AS (
			SELECT o.id, o.in_reply_to_id, 1 FROM objects o
			WHERE o.id = (SELECT in_reply_to_id FROM objects WHERE id = ?)
			UNION ALL
			SELECT o.id, o.in_reply_to_id, up.depth + 1 FROM objects o JOIN up ON o.id = up.parent
			WHERE up.depth < ?
		) SELECT id FROM up ORDER BY depth`, objectID, limit).Scan(&ids).Error
	if err != nil || len(ids) == 0 {
		return nil, wrap(err, "list ancestors of %d", objectID)
	}
	var found []Object
	q := db.Gorm(ctx).Model(&Object{}).Preload("AuthorActor").Preload("CommunityActor").Where("objects.id IN ?", ids)
	if err := VisibleTo(q, viewer).Find(&found).Error; err != nil {
		return nil, wrap(err, "list ancestors of %d", objectID)
	}
	byID := make(map[int64]Object, len(found))
	for _, o := range found {
		byID[o.ID] = o
	}
	out := make([]Object, 0, len(ids))
	for _, id := range ids {
		o, ok := byID[id]
		if !ok {
			break
		}
		out = append(out, o)
	}
	return out, nil
}
