package storage

import (
	"context"
	"net/url"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Who may read a post. This file is the one place that decides it: every
// read path (pages, timelines, threads, the client API, the streaming
// hub, a fetch by id from another server) asks CanSee or CanServerSee for
// one post, or narrows its query with VisibleTo, and all three read the
// same rule:
//
//   - public and unlisted posts: anyone (unlisted ones are left out of
//     listings, which show public posts only: see Listed);
//   - private (followers-only) posts: the author, the actors the post
//     names (object_recipients) and the author's accepted followers;
//   - direct posts: the author and the actors the post names;
//   - members posts (VisibilityMembers, in a members-only community):
//     the author, the community and its accepted members. A server sees
//     one when it hosts such a member or the community itself. What this
//     server knows of a remote community's members is its own members;
//     for the others federation asks the community (memberhosts.go).
//
// A post of any other visibility is seen by nobody: the rule fails
// closed.

// Post visibilities besides VisibilityPublic and VisibilityUnlisted, as
// Mastodon names them.
const (
	VisibilityPrivate = "private"
	VisibilityDirect  = "direct"
)

// ObjectRecipient is an actor a post names in to, cc or a Mention.
type ObjectRecipient struct {
	ObjectID int64  `gorm:"primaryKey;autoIncrement:false"`
	ActorURI string `gorm:"primaryKey;column:actor_uri"`
	Host     string
}

// Listed restricts a query on objects to what public listings show
// (public timelines, hashtag pages, search, community pages): public
// posts only. Unlisted posts are shown wherever else anyone looks (an
// account's posts and outbox, threads, replies), as on Mastodon.
func Listed(q *gorm.DB) *gorm.DB {
	return q.Where("objects.visibility = ?", VisibilityPublic)
}

// VisibleTo restricts a query on objects to the posts viewer may read
// (viewer nil: a signed-out reader).
func VisibleTo(q *gorm.DB, viewer *Actor) *gorm.DB {
	sql, args := visibleSQL(viewer)
	return q.Where(sql, args...)
}

func visibleSQL(viewer *Actor) (string, []any) {
	if viewer == nil || viewer.ID == 0 {
		return "objects.visibility IN (?, ?)", []any{VisibilityPublic, VisibilityUnlisted}
	}
	return `(objects.visibility IN (?, ?)
		OR (objects.visibility IN (?, ?) AND (objects.author_actor_id = ?
			OR EXISTS (SELECT 1 FROM object_recipients vr WHERE vr.object_id = objects.id AND vr.actor_uri = ?)))
		OR (objects.visibility = ? AND EXISTS (SELECT 1 FROM memberships vm WHERE vm.community_actor_id = objects.author_actor_id
			AND vm.member_actor_id = ? AND vm.state = ?))
		OR (objects.visibility = ? AND (objects.author_actor_id = ? OR objects.community_actor_id = ?
			OR EXISTS (SELECT 1 FROM memberships vc WHERE vc.community_actor_id = objects.community_actor_id
				AND vc.member_actor_id = ? AND vc.state = ?))))`,
		[]any{VisibilityPublic, VisibilityUnlisted, VisibilityPrivate, VisibilityDirect, viewer.ID, viewer.URI,
			VisibilityPrivate, viewer.ID, StateAccepted,
			VisibilityMembers, viewer.ID, viewer.ID, viewer.ID, StateAccepted}
}

// CanSee reports whether viewer (nil: a signed-out reader) may read the
// live post o.
func (db *DB) CanSee(ctx context.Context, viewer *Actor, o *Object) (bool, error) {
	if o.DeletedAt != nil {
		return false, nil
	}
	return db.CouldSee(ctx, viewer, o)
}

// CouldSee is CanSee of a post, deleted or not: for a deleted post,
// whether viewer could read it before (who may learn that it is gone;
// to anyone else it never existed).
func (db *DB) CouldSee(ctx context.Context, viewer *Actor, o *Object) (bool, error) {
	if o.Visibility == VisibilityPublic || o.Visibility == VisibilityUnlisted {
		return true, nil // as visibleSQL says, without a query
	}
	var n int64
	err := VisibleTo(db.Gorm(ctx).Model(&Object{}).Where("objects.id = ?", o.ID), viewer).Count(&n).Error
	return n > 0, wrap(err, "can %v see %d", viewerURI(viewer), o.ID)
}

// CanServerSee reports whether the server at host (host[:port], as in
// actor ids) may fetch the live post o: a public or unlisted post, or one
// whose readers include an actor on that server (a recipient, for a
// followers-only post an accepted follower of its author, for a members
// post a member of its community or the community itself).
func (db *DB) CanServerSee(ctx context.Context, host string, o *Object) (bool, error) {
	if o.DeletedAt != nil {
		return false, nil
	}
	return db.CouldServerSee(ctx, host, o)
}

// CouldServerSee is CanServerSee of a post, deleted or not (see
// CouldSee).
func (db *DB) CouldServerSee(ctx context.Context, host string, o *Object) (bool, error) {
	if o.Visibility == VisibilityPublic || o.Visibility == VisibilityUnlisted {
		return true, nil
	}
	host = strings.ToLower(host)
	if host == "" {
		return false, nil
	}
	var n int64
	err := serverVisible(db.Gorm(ctx).Model(&Object{}).Where("objects.id = ?", o.ID), host).
		Count(&n).Error
	return n > 0, wrap(err, "can %s see %d", host, o.ID)
}

// serverVisible restricts a query on objects to the non-public posts the
// server at host (lower-cased, not empty) may read: CanServerSee's rule.
func serverVisible(q *gorm.DB, host string) *gorm.DB {
	prefix := escapeLike(host) + "/%"
	return q.Where(`(objects.visibility IN (?, ?) AND EXISTS (SELECT 1 FROM object_recipients vr WHERE vr.object_id = objects.id AND vr.host = ?))
		OR (objects.visibility = ? AND EXISTS (SELECT 1 FROM memberships vm JOIN actors va ON va.id = vm.member_actor_id
			WHERE vm.community_actor_id = objects.author_actor_id AND vm.state = ? AND NOT va.local
			AND (lower(va.uri) LIKE ? ESCAPE '\' OR lower(va.uri) LIKE ? ESCAPE '\')))
		OR (objects.visibility = ? AND objects.community_actor_id IS NOT NULL AND (`+onHost("vg", "objects.community_actor_id")+`
			OR EXISTS (SELECT 1 FROM memberships vm JOIN actors va ON va.id = vm.member_actor_id
			WHERE vm.community_actor_id = objects.community_actor_id AND vm.state = ? AND NOT va.local
			AND (lower(va.uri) LIKE ? ESCAPE '\' OR lower(va.uri) LIKE ? ESCAPE '\'))))`,
		VisibilityPrivate, VisibilityDirect, host, VisibilityPrivate, StateAccepted, "https://"+prefix, "http://"+prefix,
		VisibilityMembers, "https://"+prefix, "http://"+prefix, StateAccepted, "https://"+prefix, "http://"+prefix)
}

// onHost is SQL that holds when the actor whose id column idCol names has
// its id on the host bound by the two LIKE arguments that follow.
func onHost(alias, idCol string) string {
	return `EXISTS (SELECT 1 FROM actors ` + alias + ` WHERE ` + alias + `.id = ` + idCol + ` AND NOT ` + alias + `.local
		AND (lower(` + alias + `.uri) LIKE ? ESCAPE '\' OR lower(` + alias + `.uri) LIKE ? ESCAPE '\'))`
}

// HostHasMember reports whether the server at host (host[:port]) hosts an
// accepted member of the community whose actor is communityID: who may
// read a members-only community's collections.
func (db *DB) HostHasMember(ctx context.Context, communityID int64, host string) (bool, error) {
	host = strings.ToLower(host)
	if host == "" {
		return false, nil
	}
	prefix := escapeLike(host) + "/%"
	var n int64
	err := db.Gorm(ctx).Model(&Membership{}).Joins("JOIN actors va ON va.id = memberships.member_actor_id").
		Where(`memberships.community_actor_id = ? AND memberships.state = ? AND NOT va.local
			AND (lower(va.uri) LIKE ? ESCAPE '\' OR lower(va.uri) LIKE ? ESCAPE '\')`,
			communityID, StateAccepted, "https://"+prefix, "http://"+prefix).
		Limit(1).Count(&n).Error
	return n > 0, wrap(err, "members of %d on %s", communityID, host)
}

func viewerURI(a *Actor) string {
	if a == nil {
		return "anyone"
	}
	return a.URI
}

// HostOf is the lower-cased host[:port] of an actor id, or "".
func HostOf(uri string) string {
	u, err := url.Parse(uri)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// PutObjectRecipients records the actors a post names; known ones are
// kept.
func (db *DB) PutObjectRecipients(ctx context.Context, objectID int64, uris []string) error {
	rows := make([]ObjectRecipient, 0, len(uris))
	seen := map[string]bool{}
	for _, u := range uris {
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		rows = append(rows, ObjectRecipient{ObjectID: objectID, ActorURI: u, Host: HostOf(u)})
	}
	if len(rows) == 0 {
		return nil
	}
	err := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, 100).Error
	return wrap(err, "recipients of %d", objectID)
}

// ObjectRecipients lists the actor ids a post names.
func (db *DB) ObjectRecipients(ctx context.Context, objectID int64) ([]string, error) {
	var out []string
	err := db.Gorm(ctx).Model(&ObjectRecipient{}).Where("object_id = ?", objectID).Order("actor_uri").Pluck("actor_uri", &out).Error
	return out, wrap(err, "recipients of %d", objectID)
}
