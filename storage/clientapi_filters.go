package storage

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Filters, lists, followed and featured hashtags and the notification
// policy: a member's own arrangements of what they read.

// Filter hides or warns about posts matching its keywords or naming its
// posts, in the contexts listed (space-separated).
type Filter struct {
	ID        int64
	ActorID   int64
	Title     string
	Context   string
	Action    string
	ExpiresAt *time.Time
	CreatedAt time.Time
	Keywords  []FilterKeyword `gorm:"foreignKey:FilterID"`
	Statuses  []FilterStatus  `gorm:"foreignKey:FilterID"`
}

// FilterKeyword is a word or phrase a filter matches.
type FilterKeyword struct {
	ID        int64
	FilterID  int64
	Keyword   string
	WholeWord bool
}

// FilterStatus is a post a filter names.
type FilterStatus struct {
	ID       int64
	FilterID int64
	ObjectID int64
}

// Limits of what one member keeps, so that no list grows without bound.
const (
	MaxFilters         = 100
	MaxFilterKeywords  = 100
	MaxLists           = 100
	MaxListMembers     = 1000
	MaxFollowedTags    = 1000
	MaxFeaturedTags    = 10
	MaxMutesAndBlocks  = 10000
	MaxFilterStatusIDs = 1000
)

// ListFilters returns all of a member's filters with keywords and posts.
func (db *DB) ListFilters(ctx context.Context, actorID int64) ([]Filter, error) {
	var out []Filter
	err := db.Gorm(ctx).Preload("Keywords", func(q *gorm.DB) *gorm.DB { return q.Order("id") }).
		Preload("Statuses", func(q *gorm.DB) *gorm.DB { return q.Order("id") }).
		Where("actor_id = ?", actorID).Order("id").Limit(MaxFilters).Find(&out).Error
	return out, wrap(err, "list filters of %d", actorID)
}

// GetFilter returns one of a member's filters.
func (db *DB) GetFilter(ctx context.Context, actorID, id int64) (*Filter, error) {
	var f Filter
	err := db.Gorm(ctx).Preload("Keywords", func(q *gorm.DB) *gorm.DB { return q.Order("id") }).
		Preload("Statuses", func(q *gorm.DB) *gorm.DB { return q.Order("id") }).
		Where("actor_id = ? AND id = ?", actorID, id).Take(&f).Error
	return &f, wrap(err, "get filter %d", id)
}

// SaveFilter creates or updates a filter's own fields; keywords given
// with ID 0 are added, those with Destroy set in destroy are removed.
func (db *DB) SaveFilter(ctx context.Context, f *Filter, add []FilterKeyword, update []FilterKeyword, destroy []int64) error {
	return db.Tx(ctx, func(tx *DB) error {
		g := tx.Gorm(ctx)
		if f.ID == 0 {
			var n int64
			if err := g.Model(&Filter{}).Where("actor_id = ?", f.ActorID).Count(&n).Error; err != nil {
				return wrap(err, "count filters")
			}
			if n >= MaxFilters {
				return wrap(ErrConflict, "too many filters")
			}
			f.CreatedAt = time.Now().UTC()
			if err := g.Omit(clause.Associations).Create(f).Error; err != nil {
				return wrap(err, "create filter")
			}
		} else if err := g.Model(&Filter{}).Where("id = ? AND actor_id = ?", f.ID, f.ActorID).Updates(map[string]any{
			"title": f.Title, "context": f.Context, "action": f.Action, "expires_at": f.ExpiresAt,
		}).Error; err != nil {
			return wrap(err, "update filter %d", f.ID)
		}
		for _, k := range update {
			if err := g.Model(&FilterKeyword{}).Where("id = ? AND filter_id = ?", k.ID, f.ID).
				Updates(map[string]any{"keyword": k.Keyword, "whole_word": k.WholeWord}).Error; err != nil {
				return wrap(err, "update keyword")
			}
		}
		if len(destroy) > 0 {
			if err := g.Where("filter_id = ? AND id IN ?", f.ID, destroy).Delete(&FilterKeyword{}).Error; err != nil {
				return wrap(err, "delete keywords")
			}
		}
		for i := range add {
			add[i].ID, add[i].FilterID = 0, f.ID
		}
		if len(add) > 0 {
			if err := g.Create(&add).Error; err != nil {
				return wrap(err, "add keywords")
			}
		}
		var n int64
		if err := g.Model(&FilterKeyword{}).Where("filter_id = ?", f.ID).Count(&n).Error; err != nil {
			return wrap(err, "count keywords")
		}
		if n > MaxFilterKeywords {
			return wrap(ErrConflict, "too many keywords")
		}
		return nil
	})
}

// DeleteFilter removes a member's filter with its keywords and posts.
func (db *DB) DeleteFilter(ctx context.Context, actorID, id int64) error {
	res := db.Gorm(ctx).Where("actor_id = ? AND id = ?", actorID, id).Delete(&Filter{})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "delete filter %d", id)
	}
	return wrap(res.Error, "delete filter %d", id)
}

// FilterOfKeyword returns the filter (of actorID) that holds keyword id.
func (db *DB) FilterOfKeyword(ctx context.Context, actorID, keywordID int64) (*Filter, *FilterKeyword, error) {
	var k FilterKeyword
	if err := db.Gorm(ctx).Take(&k, keywordID).Error; err != nil {
		return nil, nil, wrap(err, "get keyword %d", keywordID)
	}
	f, err := db.GetFilter(ctx, actorID, k.FilterID)
	return f, &k, err
}

// FilterOfStatus returns the filter (of actorID) that holds filter
// status id.
func (db *DB) FilterOfStatus(ctx context.Context, actorID, filterStatusID int64) (*Filter, *FilterStatus, error) {
	var s FilterStatus
	if err := db.Gorm(ctx).Take(&s, filterStatusID).Error; err != nil {
		return nil, nil, wrap(err, "get filter status %d", filterStatusID)
	}
	f, err := db.GetFilter(ctx, actorID, s.FilterID)
	return f, &s, err
}

// AddFilterStatus adds a post to a filter. ErrConflict if already there.
func (db *DB) AddFilterStatus(ctx context.Context, s *FilterStatus) error {
	var n int64
	if err := db.Gorm(ctx).Model(&FilterStatus{}).Where("filter_id = ?", s.FilterID).Count(&n).Error; err != nil {
		return wrap(err, "count filter statuses")
	}
	if n >= MaxFilterStatusIDs {
		return wrap(ErrConflict, "too many posts in a filter")
	}
	return wrap(db.Gorm(ctx).Create(s).Error, "add filter status")
}

// DeleteFilterPart deletes a keyword (*FilterKeyword) or a post
// (*FilterStatus) by id.
func (db *DB) DeleteFilterPart(ctx context.Context, model any, id int64) error {
	return wrap(db.Gorm(ctx).Delete(model, id).Error, "delete %T %d", model, id)
}

// List is a member's list of accounts, with its own timeline.
type List struct {
	ID            int64
	ActorID       int64
	Title         string
	RepliesPolicy string
	Exclusive     bool
	CreatedAt     time.Time
}

// ListMember is an account on a list.
type ListMember struct {
	ListID  int64 `gorm:"primaryKey;autoIncrement:false"`
	ActorID int64 `gorm:"primaryKey;autoIncrement:false"`
}

// ListLists returns a member's lists, by title.
func (db *DB) ListLists(ctx context.Context, actorID int64) ([]List, error) {
	var out []List
	err := db.Gorm(ctx).Where("actor_id = ?", actorID).Order("title, id").Limit(MaxLists).Find(&out).Error
	return out, wrap(err, "list lists of %d", actorID)
}

// GetList returns one of a member's lists.
func (db *DB) GetList(ctx context.Context, actorID, id int64) (*List, error) {
	var l List
	err := db.Gorm(ctx).Where("actor_id = ? AND id = ?", actorID, id).Take(&l).Error
	return &l, wrap(err, "get list %d", id)
}

// SaveList creates (ID 0) or updates a list.
func (db *DB) SaveList(ctx context.Context, l *List) error {
	if l.ID != 0 {
		err := db.Gorm(ctx).Model(&List{}).Where("id = ? AND actor_id = ?", l.ID, l.ActorID).
			Updates(map[string]any{"title": l.Title, "replies_policy": l.RepliesPolicy, "exclusive": l.Exclusive}).Error
		return wrap(err, "update list %d", l.ID)
	}
	var n int64
	if err := db.Gorm(ctx).Model(&List{}).Where("actor_id = ?", l.ActorID).Count(&n).Error; err != nil {
		return wrap(err, "count lists")
	}
	if n >= MaxLists {
		return wrap(ErrConflict, "too many lists")
	}
	l.CreatedAt = time.Now().UTC()
	return wrap(db.Gorm(ctx).Create(l).Error, "create list")
}

// DeleteList removes a member's list.
func (db *DB) DeleteList(ctx context.Context, actorID, id int64) error {
	res := db.Gorm(ctx).Where("actor_id = ? AND id = ?", actorID, id).Delete(&List{})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "delete list %d", id)
	}
	return wrap(res.Error, "delete list %d", id)
}

// AddListMembers puts accounts on a list; ones already there stay.
func (db *DB) AddListMembers(ctx context.Context, listID int64, actorIDs []int64) error {
	return db.Tx(ctx, func(tx *DB) error {
		rows := make([]ListMember, len(actorIDs))
		for i, id := range actorIDs {
			rows[i] = ListMember{ListID: listID, ActorID: id}
		}
		if len(rows) > 0 {
			if err := tx.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
				return wrap(err, "add list members")
			}
		}
		var n int64
		if err := tx.Gorm(ctx).Model(&ListMember{}).Where("list_id = ?", listID).Count(&n).Error; err != nil {
			return wrap(err, "count list members")
		}
		if n > MaxListMembers {
			return wrap(ErrConflict, "too many accounts on a list")
		}
		return nil
	})
}

// RemoveListMembers takes accounts off a list.
func (db *DB) RemoveListMembers(ctx context.Context, listID int64, actorIDs []int64) error {
	if len(actorIDs) == 0 {
		return nil
	}
	err := db.Gorm(ctx).Where("list_id = ? AND actor_id IN ?", listID, actorIDs).Delete(&ListMember{}).Error
	return wrap(err, "remove list members")
}

// ListMembersPage returns a page of a list's accounts, by actor id.
func (db *DB) ListMembersPage(ctx context.Context, listID int64, p Page) ([]Actor, error) {
	q := db.Gorm(ctx).Model(&Actor{}).Where("id IN (?)", db.Gorm(ctx).Model(&ListMember{}).Select("actor_id").Where("list_id = ?", listID))
	q, order := pageQuery(q, "id", p)
	var out []Actor
	lim := p.Limit
	if lim <= 0 {
		lim = MaxListMembers
	}
	err := q.Order(order).Limit(lim).Find(&out).Error
	if p.Ascending() {
		reverse(out)
	}
	return out, wrap(err, "list members of %d", listID)
}

// ListsWith returns actorID's lists that hold targetID.
func (db *DB) ListsWith(ctx context.Context, actorID, targetID int64) ([]List, error) {
	var out []List
	err := db.Gorm(ctx).Where("actor_id = ? AND id IN (?)", actorID,
		db.Gorm(ctx).Model(&ListMember{}).Select("list_id").Where("actor_id = ?", targetID)).Order("title").Find(&out).Error
	return out, wrap(err, "lists with %d", targetID)
}

// TagRow is a followed or featured hashtag of a member.
type TagRow struct {
	ID        int64
	ActorID   int64
	Tag       string
	CreatedAt time.Time
}

// TagTable names the tables of a member's hashtags.
type TagTable string

const (
	FollowedTags TagTable = "followed_tags"
	FeaturedTags TagTable = "featured_tags"
)

// PutTag adds a hashtag to a member's followed or featured ones and
// returns the row; a repeat returns the existing row.
func (db *DB) PutTag(ctx context.Context, t TagTable, actorID int64, tag string) (*TagRow, error) {
	tag = strings.ToLower(tag)
	var row TagRow
	err := db.Tx(ctx, func(tx *DB) error {
		g := tx.Gorm(ctx).Table(string(t))
		var n int64
		if err := g.Where("actor_id = ?", actorID).Count(&n).Error; err != nil {
			return err
		}
		limit := int64(MaxFollowedTags)
		if t == FeaturedTags {
			limit = MaxFeaturedTags
		}
		err := tx.Gorm(ctx).Table(string(t)).Where("actor_id = ? AND tag = ?", actorID, tag).Take(&row).Error
		if err == nil {
			return nil
		}
		if n >= limit {
			return wrap(ErrConflict, "too many %s", t)
		}
		row = TagRow{ActorID: actorID, Tag: tag, CreatedAt: time.Now().UTC()}
		return tx.Gorm(ctx).Table(string(t)).Create(&row).Error
	})
	return &row, wrap(err, "put %s", t)
}

// DeleteTag removes a followed (by name) or featured (by id) hashtag.
func (db *DB) DeleteTag(ctx context.Context, t TagTable, actorID int64, where string, arg any) error {
	res := db.Gorm(ctx).Table(string(t)).Where("actor_id = ? AND "+where, actorID, arg).Delete(&TagRow{})
	if res.Error == nil && res.RowsAffected == 0 && t == FeaturedTags {
		return wrap(ErrNotFound, "delete %s", t)
	}
	return wrap(res.Error, "delete %s", t)
}

// ListTags returns a page of a member's followed or featured hashtags.
func (db *DB) ListTags(ctx context.Context, t TagTable, actorID int64, p Page) ([]TagRow, error) {
	q := db.Gorm(ctx).Table(string(t)).Where("actor_id = ?", actorID)
	q, order := pageQuery(q, "id", p)
	var out []TagRow
	err := q.Order(order).Limit(p.limit()).Find(&out).Error
	if p.Ascending() {
		reverse(out)
	}
	return out, wrap(err, "list %s", t)
}

// FollowsTag reports whether actorID follows tag.
func (db *DB) FollowsTag(ctx context.Context, actorID int64, tag string) (bool, error) {
	var n int64
	err := db.Gorm(ctx).Table(string(FollowedTags)).Where("actor_id = ? AND tag = ?", actorID, strings.ToLower(tag)).Count(&n).Error
	return n > 0, wrap(err, "follows tag")
}

// TagStats are a hashtag's uses on one day: posts and distinct authors.
type TagStats struct {
	Day            time.Time
	Uses, Accounts int64
}

// TagUsage counts, per day of the last days, a tag's posts and their
// distinct authors, newest day first, as Mastodon's tag history.
func (db *DB) TagUsage(ctx context.Context, tag string, days int, now time.Time) ([]TagStats, error) {
	start := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(days - 1))
	type row struct {
		PublishedAt   time.Time
		AuthorActorID int64
	}
	var rows []row
	err := db.Gorm(ctx).Model(&Object{}).Select("objects.published_at, objects.author_actor_id").
		Joins("JOIN object_tags ON object_tags.object_id = objects.id").
		Where("object_tags.tag = ? AND objects.deleted_at IS NULL AND objects.published_at >= ?", strings.ToLower(tag), start).
		Limit(100000).Scan(&rows).Error
	if err != nil {
		return nil, wrap(err, "tag usage of %s", tag)
	}
	out := make([]TagStats, days)
	authors := make([]map[int64]bool, days)
	for i := range out {
		out[i].Day = start.AddDate(0, 0, days-1-i)
		authors[i] = map[int64]bool{}
	}
	for _, r := range rows {
		i := days - 1 - int(r.PublishedAt.UTC().Sub(start)/(24*time.Hour))
		if i < 0 || i >= days {
			continue
		}
		out[i].Uses++
		authors[i][r.AuthorActorID] = true
	}
	for i := range out {
		out[i].Accounts = int64(len(authors[i]))
	}
	return out, nil
}

// TagPostStats counts an actor's live posts with tag and the newest one's
// time (featured tags show them).
func (db *DB) TagPostStats(ctx context.Context, actorID int64, tag string) (int64, *time.Time, error) {
	q := db.Gorm(ctx).Model(&Object{}).Joins("JOIN object_tags ON object_tags.object_id = objects.id").
		Where("object_tags.tag = ? AND objects.author_actor_id = ? AND objects.deleted_at IS NULL", strings.ToLower(tag), actorID)
	var n int64
	if err := q.Count(&n).Error; err != nil || n == 0 {
		return n, nil, wrap(err, "tag stats")
	}
	var o Object
	err := db.Gorm(ctx).Model(&Object{}).Select("objects.published_at").Joins("JOIN object_tags ON object_tags.object_id = objects.id").
		Where("object_tags.tag = ? AND objects.author_actor_id = ? AND objects.deleted_at IS NULL", strings.ToLower(tag), actorID).
		Order("objects.id DESC").Limit(1).Take(&o).Error
	return n, &o.PublishedAt, wrap(err, "tag stats")
}

// NotificationPolicy says, per kind of sender, whether their
// notifications are accepted, filtered (kept aside as requests) or
// dropped.
type NotificationPolicy struct {
	ActorID            int64 `gorm:"primaryKey;autoIncrement:false"`
	ForNotFollowing    string
	ForNotFollowers    string
	ForNewAccounts     string
	ForPrivateMentions string
	ForLimitedAccounts string
	UpdatedAt          time.Time
}

// GetNotificationPolicy returns a member's policy, the default (accept
// all) when none was saved.
func (db *DB) GetNotificationPolicy(ctx context.Context, actorID int64) (*NotificationPolicy, error) {
	p := NotificationPolicy{ActorID: actorID, ForNotFollowing: "accept", ForNotFollowers: "accept",
		ForNewAccounts: "accept", ForPrivateMentions: "accept", ForLimitedAccounts: "accept"}
	err := db.Gorm(ctx).Where("actor_id = ?", actorID).Take(&p).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, wrap(err, "get notification policy")
	}
	return &p, nil
}

// PutNotificationPolicy saves a member's policy.
func (db *DB) PutNotificationPolicy(ctx context.Context, p *NotificationPolicy) error {
	p.UpdatedAt = time.Now().UTC()
	err := db.Gorm(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(p).Error
	return wrap(err, "put notification policy")
}

// RecentTagsOf returns the hashtags of actorID's latest posts, newest
// first, leaving out those the actor features already.
func (db *DB) RecentTagsOf(ctx context.Context, actorID int64, limit int) ([]string, error) {
	var rows []ObjectTag
	err := db.Gorm(ctx).Model(&ObjectTag{}).
		Joins("JOIN objects ON objects.id = object_tags.object_id").
		Where("objects.author_actor_id = ? AND objects.deleted_at IS NULL", actorID).
		Where("object_tags.tag NOT IN (?)", db.Gorm(ctx).Table(string(FeaturedTags)).Select("tag").Where("actor_id = ?", actorID)).
		Order("object_tags.object_id DESC").Limit(200).Find(&rows).Error
	var out []string
	seen := map[string]bool{}
	for _, r := range rows {
		if !seen[r.Tag] && len(out) < limit {
			seen[r.Tag] = true
			out = append(out, r.Tag)
		}
	}
	return out, wrap(err, "recent tags of %d", actorID)
}
