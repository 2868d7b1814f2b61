package storage

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// PostingRules are a local community's rules for posts entering it, kept
// on its row: pre-moderation of newcomers and hourly posting limits
// (0: none).
type PostingRules struct {
	// HoldNewMembers holds the posts of a member who has no post in the
	// community yet until a moderator approves one.
	HoldNewMembers bool
	// HoldNewInstances holds the posts from a server none of whose
	// members has a post in the community yet.
	HoldNewInstances     bool
	MemberPostsPerHour   int
	InstancePostsPerHour int
}

// Held post states and reasons.
const (
	HeldWaiting  = "held"
	HeldApproved = "approved"
	HeldRejected = "rejected"

	HoldNewMember   = "new_member"
	HoldNewInstance = "new_instance"

	// NotifyHeldPost tells a community's moderator that a post waits in
	// its queue; FromActor is the community. Shown on the web only: the
	// apps have no such notification.
	NotifyHeldPost = "held_post"
)

// HeldPost is a post or reply that waits for a moderator of its
// community before it enters: not stored as a post, not redistributed.
type HeldPost struct {
	ID               int64
	CommunityActorID int64
	AuthorActorID    int64
	AuthorActor      *Actor `gorm:"foreignKey:AuthorActorID"`
	ObjectURI        string `gorm:"column:object_uri"`
	InReplyToURI     string `gorm:"column:in_reply_to_uri"`
	Name             string
	Content          string
	// Raw is the Create as received or sent; ObjectRaw its object.
	Raw              string
	ObjectRaw        string
	Reason           string
	State            string
	DecidedByActorID *int64
	DecidedAt        *time.Time
	CreatedAt        time.Time
}

// SetPostingRules replaces a local community's posting rules.
func (db *DB) SetPostingRules(ctx context.Context, communityActorID int64, r PostingRules) error {
	res := db.Gorm(ctx).Model(&Community{}).Where("actor_id = ?", communityActorID).Updates(map[string]any{
		"hold_new_members": r.HoldNewMembers, "hold_new_instances": r.HoldNewInstances,
		"member_posts_per_hour": max(r.MemberPostsPerHour, 0), "instance_posts_per_hour": max(r.InstancePostsPerHour, 0),
		"updated_at": time.Now().UTC(),
	})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "posting rules of %d", communityActorID)
	}
	return wrap(res.Error, "posting rules of %d", communityActorID)
}

// HoldPost puts a post in its community's queue. A post already held
// (the same Create received twice) is ErrConflict.
func (db *DB) HoldPost(ctx context.Context, h *HeldPost) error {
	h.State = HeldWaiting
	h.CreatedAt = time.Now().UTC()
	res := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(h)
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrConflict, "hold %q", h.ObjectURI)
	}
	return wrap(res.Error, "hold %q", h.ObjectURI)
}

// GetHeldPost returns one held post (in any state), with its author.
func (db *DB) GetHeldPost(ctx context.Context, id int64) (*HeldPost, error) {
	var h HeldPost
	err := db.Gorm(ctx).Preload("AuthorActor").Where("id = ?", id).Take(&h).Error
	return &h, wrap(err, "get held post %d", id)
}

// GetHeldPostByURI returns the held post whose object id is uri.
func (db *DB) GetHeldPostByURI(ctx context.Context, uri string) (*HeldPost, error) {
	var h HeldPost
	err := db.Gorm(ctx).Preload("AuthorActor").Where("object_uri = ?", uri).Take(&h).Error
	return &h, wrap(err, "get held post %q", uri)
}

// HeldPosts lists a community's posts in state (HeldWaiting: its queue),
// oldest first, after the id afterID.
func (db *DB) HeldPosts(ctx context.Context, communityActorID int64, state string, afterID int64, limit int) ([]HeldPost, error) {
	var out []HeldPost
	err := db.Gorm(ctx).Preload("AuthorActor").
		Where("community_actor_id = ? AND state = ? AND id > ?", communityActorID, state, afterID).
		Order("id").Limit(limit).Find(&out).Error
	return out, wrap(err, "held posts of %d", communityActorID)
}

// CountHeldPosts counts the posts waiting in a community's queue.
func (db *DB) CountHeldPosts(ctx context.Context, communityActorID int64) (int64, error) {
	var n int64
	err := db.Gorm(ctx).Model(&HeldPost{}).Where("community_actor_id = ? AND state = ?", communityActorID, HeldWaiting).Count(&n).Error
	return n, wrap(err, "count held posts of %d", communityActorID)
}

// DecideHeldPost moves a waiting post to approved or rejected, once:
// ErrNotFound if it is not waiting (another moderator decided first).
func (db *DB) DecideHeldPost(ctx context.Context, id, byActorID int64, approve bool) error {
	state := HeldRejected
	if approve {
		state = HeldApproved
	}
	now := time.Now().UTC()
	res := db.Gorm(ctx).Model(&HeldPost{}).Where("id = ? AND state = ?", id, HeldWaiting).
		Updates(map[string]any{"state": state, "decided_by_actor_id": byActorID, "decided_at": now})
	if res.Error == nil && res.RowsAffected == 0 {
		return wrap(ErrNotFound, "decide held post %d", id)
	}
	return wrap(res.Error, "decide held post %d", id)
}

// HasPostedIn reports whether author has a post or reply in the
// community that a moderator did not take out: a known member, whose posts
// are not held as a newcomer's.
func (db *DB) HasPostedIn(ctx context.Context, communityActorID, authorActorID int64) (bool, error) {
	var n int64
	err := db.Gorm(ctx).Model(&Object{}).
		Where("author_actor_id = ? AND community_actor_id = ? AND removed_at IS NULL", authorActorID, communityActorID).
		Limit(1).Count(&n).Error
	return n > 0, wrap(err, "has %d posted in %d", authorActorID, communityActorID)
}

// HostHasPostedIn reports whether any actor of the server at host
// (host[:port]) has a post or reply in the community that a moderator did
// not take out.
func (db *DB) HostHasPostedIn(ctx context.Context, communityActorID int64, host string) (bool, error) {
	var n int64
	err := onHostQuery(db.Gorm(ctx).Model(&Object{}).Joins("JOIN actors ha ON ha.id = objects.author_actor_id"), "ha", host).
		Where("objects.community_actor_id = ? AND objects.removed_at IS NULL", communityActorID).
		Limit(1).Count(&n).Error
	return n > 0, wrap(err, "has %s posted in %d", host, communityActorID)
}

// RecentPosts counts the posts and replies (stored, held or rejected)
// that reached the community since, by author, or by any actor of host when host is
// not "" (then authorActorID is ignored).
func (db *DB) RecentPosts(ctx context.Context, communityActorID, authorActorID int64, host string, since time.Time) (int64, error) {
	count := func(q *gorm.DB, table string) (int64, error) {
		q = q.Where(table+".community_actor_id = ? AND "+table+".created_at >= ?", communityActorID, since.UTC())
		if host != "" {
			q = onHostQuery(q.Joins("JOIN actors ha ON ha.id = "+table+".author_actor_id"), "ha", host)
		} else {
			q = q.Where(table+".author_actor_id = ?", authorActorID)
		}
		var n int64
		err := q.Count(&n).Error
		return n, err
	}
	posts, err := count(db.Gorm(ctx).Model(&Object{}), "objects")
	if err != nil {
		return 0, wrap(err, "recent posts in %d", communityActorID)
	}
	// An approved post is counted as the post it became.
	held, err := count(db.Gorm(ctx).Model(&HeldPost{}).Where("held_posts.state <> ?", HeldApproved), "held_posts")
	return posts + held, wrap(err, "recent held posts in %d", communityActorID)
}

// onHostQuery restricts q to rows whose actor (alias) has its id on host.
func onHostQuery(q *gorm.DB, alias, host string) *gorm.DB {
	prefix := escapeLike(strings.ToLower(host)) + "/%"
	return q.Where(`NOT `+alias+`.local AND (lower(`+alias+`.uri) LIKE ? ESCAPE '\' OR lower(`+alias+`.uri) LIKE ? ESCAPE '\')`,
		"https://"+prefix, "http://"+prefix)
}
