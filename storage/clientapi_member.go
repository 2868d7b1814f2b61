package storage

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// What a member keeps for themselves through the client API: bookmarks,
// boosts, pins, mutes, blocks, notes, filters, lists, followed and
// featured tags, the notification policy, and earlier versions of edited
// posts.

// ProfileField is one name/value pair of a profile (Actor.Fields).
type ProfileField struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ProfileFields decodes Actor.Fields; a malformed value reads as none.
func (a *Actor) ProfileFields() []ProfileField {
	var out []ProfileField
	if a.Fields != "" {
		_ = json.Unmarshal([]byte(a.Fields), &out)
	}
	return out
}

// ObjectEdit is an earlier version of a post, kept when an edit replaced it.
type ObjectEdit struct {
	ID                             int64
	ObjectID                       int64
	Name, Summary, Content, Source string
	Sensitive                      bool
	CreatedAt                      time.Time
}

// ListObjectEdits returns a post's earlier versions, oldest first.
func (db *DB) ListObjectEdits(ctx context.Context, objectID int64) ([]ObjectEdit, error) {
	var out []ObjectEdit
	err := db.Gorm(ctx).Where("object_id = ?", objectID).Order("id").Limit(1000).Find(&out).Error
	return out, wrap(err, "list edits of %d", objectID)
}

// Bookmark is a post a member saved for later.
type Bookmark struct {
	ID, ActorID, ObjectID int64
	CreatedAt             time.Time
}

// Reblog is a person's boost of a post: an Announce of its id.
type Reblog struct {
	ID        int64
	URI       string `gorm:"column:uri"`
	ActorID   int64
	Actor     *Actor `gorm:"foreignKey:ActorID"`
	ObjectID  int64
	CreatedAt time.Time
}

// Pin is a member's own post shown first on their profile (featured).
type Pin struct {
	ID, ActorID, ObjectID int64
	CreatedAt             time.Time
}

// markTable names the tables of per-member marks on posts.
type markTable string

const (
	BookmarksTable markTable = "bookmarks"
	PinsTable      markTable = "pins"
)

// PutMark records actorID's bookmark or pin of objectID; a repeat is no
// error.
func (db *DB) PutMark(ctx context.Context, t markTable, actorID, objectID int64) error {
	row := map[string]any{"actor_id": actorID, "object_id": objectID, "created_at": time.Now().UTC()}
	err := db.Gorm(ctx).Table(string(t)).Clauses(clause.OnConflict{DoNothing: true}).Create(row).Error
	return wrap(err, "put %s", t)
}

// DeleteMark removes a bookmark or pin; none is no error.
func (db *DB) DeleteMark(ctx context.Context, t markTable, actorID, objectID int64) error {
	err := db.Gorm(ctx).Exec("DELETE FROM "+string(t)+" WHERE actor_id = ? AND object_id = ?", actorID, objectID).Error
	return wrap(err, "delete %s", t)
}

// CountMarks counts actorID's rows in a mark table.
func (db *DB) CountMarks(ctx context.Context, t markTable, actorID int64) (int64, error) {
	var n int64
	err := db.Gorm(ctx).Table(string(t)).Where("actor_id = ?", actorID).Count(&n).Error
	return n, wrap(err, "count %s", t)
}

// MarkedPage is a page of posts with the ids of the rows that mark them,
// which are what Mastodon pages bookmarks and favourites by.
type MarkedPage struct {
	Objects []Object
	RowIDs  []int64
}

// ListMarked returns a page of live posts actorID bookmarked
// ("bookmarks"), liked ("likes"), pinned ("pins") or boosted ("reblogs"),
// newest mark first: those viewer (nil: anyone) may read.
func (db *DB) ListMarked(ctx context.Context, table string, actorID int64, viewer *Actor, p Page) (MarkedPage, error) {
	switch table {
	case "bookmarks", "likes", "pins", "reblogs":
	default:
		return MarkedPage{}, errors.New("storage: unknown mark table " + table)
	}
	type row struct{ ID, ObjectID int64 }
	q := VisibleTo(db.Gorm(ctx).Table(table).Select(table+".id, "+table+".object_id").
		Joins("JOIN objects ON objects.id = "+table+".object_id").
		Where(table+".actor_id = ? AND objects.deleted_at IS NULL", actorID), viewer)
	q, order := pageQuery(q, table+".id", p)
	var rows []row
	if err := q.Order(order).Limit(p.limit()).Scan(&rows).Error; err != nil {
		return MarkedPage{}, wrap(err, "list %s of %d", table, actorID)
	}
	if p.Ascending() {
		reverse(rows)
	}
	ids := make([]int64, len(rows))
	out := MarkedPage{RowIDs: make([]int64, len(rows))}
	for i, r := range rows {
		ids[i], out.RowIDs[i] = r.ObjectID, r.ID
	}
	objs, err := db.ListObjectsByIDs(ctx, ids)
	if err != nil {
		return out, err
	}
	byID := make(map[int64]Object, len(objs))
	for _, o := range objs {
		byID[o.ID] = o
	}
	for _, id := range ids {
		out.Objects = append(out.Objects, byID[id])
	}
	return out, nil
}

// MarksOf reports which of objectIDs actorID has marked in table.
func (db *DB) MarksOf(ctx context.Context, table string, actorID int64, objectIDs []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	if len(objectIDs) == 0 || actorID == 0 {
		return out, nil
	}
	var ids []int64
	err := db.Gorm(ctx).Table(table).Where("actor_id = ? AND object_id IN ?", actorID, objectIDs).Pluck("object_id", &ids).Error
	for _, id := range ids {
		out[id] = true
	}
	return out, wrap(err, "marks in %s", table)
}

// CountReblogs counts the boosts of each post.
func (db *DB) CountReblogs(ctx context.Context, objectIDs []int64) (map[int64]int64, error) {
	out := map[int64]int64{}
	if len(objectIDs) == 0 {
		return out, nil
	}
	type row struct{ ObjectID, N int64 }
	var rows []row
	err := db.Gorm(ctx).Table("reblogs").Select("object_id, count(*) AS n").
		Where("object_id IN ?", objectIDs).Group("object_id").Scan(&rows).Error
	for _, r := range rows {
		out[r.ObjectID] = r.N
	}
	return out, wrap(err, "count reblogs")
}

// PutReblog records a boost. ErrConflict if actor already boosted it.
// Its id is taken from the posts' sequence (migration 01053): a boost is
// a status of its own in home timelines, paged with the posts by id.
func (db *DB) PutReblog(ctx context.Context, r *Reblog) error {
	if r.ID == 0 {
		id, err := db.nextObjectID(ctx)
		if err != nil {
			return err
		}
		r.ID = id
	}
	return wrap(db.Gorm(ctx).Create(r).Error, "put reblog")
}

// nextObjectID reserves the next id of the objects table's sequence. An id
// reserved and not used is a gap, as a rolled-back insert leaves.
func (db *DB) nextObjectID(ctx context.Context) (int64, error) {
	var id int64
	q := "SELECT nextval('objects_id_seq')"
	if db.dialect == SQLite {
		// AUTOINCREMENT numbers a new row after the larger of this and
		// the largest id, so an id counted here is never given to a post.
		q = "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = 'objects' RETURNING seq"
	}
	err := db.Gorm(ctx).Raw(q).Scan(&id).Error
	if err == nil && id == 0 {
		err = errors.New("no sequence for objects")
	}
	return id, wrap(err, "next object id")
}

// GetReblogByURI returns the boost whose Announce has the id uri.
func (db *DB) GetReblogByURI(ctx context.Context, uri string) (*Reblog, error) {
	var r Reblog
	err := db.Gorm(ctx).Where("uri = ?", uri).Take(&r).Error
	return &r, wrap(err, "get reblog %q", uri)
}

// GetReblogByID returns the boost with the given id.
func (db *DB) GetReblogByID(ctx context.Context, id int64) (*Reblog, error) {
	var r Reblog
	err := db.Gorm(ctx).Preload("Actor").Where("id = ?", id).Take(&r).Error
	return &r, wrap(err, "get reblog %d", id)
}

// GetReblog returns actorID's boost of objectID.
func (db *DB) GetReblog(ctx context.Context, actorID, objectID int64) (*Reblog, error) {
	var r Reblog
	err := db.Gorm(ctx).Where("actor_id = ? AND object_id = ?", actorID, objectID).Take(&r).Error
	return &r, wrap(err, "get reblog")
}

// DeleteReblogByURI removes a boost by its Announce's id.
func (db *DB) DeleteReblogByURI(ctx context.Context, uri string) error {
	return wrap(db.Gorm(ctx).Where("uri = ?", uri).Delete(&Reblog{}).Error, "delete reblog")
}

// ActorsWho lists, newest first, the actors who liked ("likes") or
// boosted ("reblogs") a post, paged by the row id.
func (db *DB) ActorsWho(ctx context.Context, table string, objectID int64, p Page) ([]Actor, []int64, error) {
	if table != "likes" && table != "reblogs" {
		return nil, nil, errors.New("storage: unknown table " + table)
	}
	q := db.Gorm(ctx).Table(table).Where("object_id = ?", objectID)
	q, order := pageQuery(q, "id", p)
	type row struct{ ID, ActorID int64 }
	var rows []row
	if err := q.Select("id, actor_id").Order(order).Limit(p.limit()).Scan(&rows).Error; err != nil {
		return nil, nil, wrap(err, "list %s of %d", table, objectID)
	}
	if p.Ascending() {
		reverse(rows)
	}
	return actorsInOrderOf(ctx, db, rows, func(r row) (int64, int64) { return r.ID, r.ActorID })
}

// actorsInOrderOf loads the actors of rows, keeping their order, with the
// rows' own ids for paging.
func actorsInOrderOf[R any](ctx context.Context, db *DB, rows []R, ids func(R) (rowID, actorID int64)) ([]Actor, []int64, error) {
	actorIDs := make([]int64, len(rows))
	for i, r := range rows {
		_, actorIDs[i] = ids(r)
	}
	var actors []Actor
	if len(actorIDs) > 0 {
		if err := db.Gorm(ctx).Where("id IN ?", actorIDs).Find(&actors).Error; err != nil {
			return nil, nil, wrap(err, "load actors")
		}
	}
	byID := make(map[int64]Actor, len(actors))
	for _, a := range actors {
		byID[a.ID] = a
	}
	var out []Actor
	var rowIDs []int64
	for _, r := range rows {
		rowID, actorID := ids(r)
		if a, ok := byID[actorID]; ok {
			out = append(out, a)
			rowIDs = append(rowIDs, rowID)
		}
	}
	return out, rowIDs, nil
}

// Follows lists a page of the accepted followers of actorID (followers
// true) or of the actors actorID follows, newest first, paged by
// membership id.
func (db *DB) Follows(ctx context.Context, actorID int64, followers bool, p Page) ([]Actor, []int64, error) {
	self, other := "community_actor_id", "member_actor_id"
	if !followers {
		self, other = other, self
	}
	q := db.Gorm(ctx).Model(&Membership{}).Where(self+" = ? AND state = ?", actorID, StateAccepted)
	q, order := pageQuery(q, "id", p)
	type row struct{ ID, ActorID int64 }
	var rows []row
	if err := q.Select("id, " + other + " AS actor_id").Order(order).Limit(p.limit()).Scan(&rows).Error; err != nil {
		return nil, nil, wrap(err, "list follows of %d", actorID)
	}
	if p.Ascending() {
		reverse(rows)
	}
	return actorsInOrderOf(ctx, db, rows, func(r row) (int64, int64) { return r.ID, r.ActorID })
}

// UpdateProfile writes a local actor's profile fields.
func (db *DB) UpdateProfile(ctx context.Context, a *Actor) error {
	err := db.Gorm(ctx).Model(&Actor{}).Where("id = ?", a.ID).Updates(map[string]any{
		"display_name": a.DisplayName, "summary": a.Summary, "fields": a.Fields,
		"manually_approves_followers": a.ManuallyApprovesFollowers, "discoverable": a.Discoverable,
		"hide_collections": a.HideCollections, "updated_at": time.Now().UTC(),
	}).Error
	return wrap(err, "update profile of %d", a.ID)
}

// UpdatePreferences writes a member's posting defaults.
func (db *DB) UpdatePreferences(ctx context.Context, a *Account) error {
	err := db.Gorm(ctx).Model(&Account{}).Where("id = ?", a.ID).Updates(map[string]any{
		"default_privacy": a.DefaultPrivacy, "default_sensitive": a.DefaultSensitive,
		"default_language": a.DefaultLanguage, "updated_at": time.Now().UTC(),
	}).Error
	return wrap(err, "update preferences of %d", a.ID)
}

// AccountMute hides an account's posts (and, with Notifications, its
// notifications) from a member, until ExpiresAt if set.
type AccountMute struct {
	ID            int64
	ActorID       int64
	TargetActorID int64
	TargetActor   *Actor `gorm:"foreignKey:TargetActorID"`
	Notifications bool
	ExpiresAt     *time.Time
	CreatedAt     time.Time
}

// AccountBlock is a member's block of an account, sent as a Block.
type AccountBlock struct {
	ID            int64
	URI           string `gorm:"column:uri"`
	ActorID       int64
	TargetActorID int64
	TargetActor   *Actor `gorm:"foreignKey:TargetActorID"`
	CreatedAt     time.Time
}

// MemberDomainBlock is a member's block of a whole domain.
type MemberDomainBlock struct {
	ID        int64
	ActorID   int64
	Domain    string
	CreatedAt time.Time
}

// AccountNote is a member's private note on an account.
type AccountNote struct {
	ActorID       int64 `gorm:"primaryKey;autoIncrement:false"`
	TargetActorID int64 `gorm:"primaryKey;autoIncrement:false"`
	Note          string
}

// PutMute creates or replaces a mute.
func (db *DB) PutMute(ctx context.Context, m *AccountMute) error {
	err := db.Gorm(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "actor_id"}, {Name: "target_actor_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"notifications", "expires_at"}),
	}).Create(m).Error
	return wrap(err, "put mute")
}

// PutBlock records a block; a repeat keeps the first.
func (db *DB) PutBlock(ctx context.Context, b *AccountBlock) (bool, error) {
	res := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(b)
	return res.RowsAffected == 1, wrap(res.Error, "put block")
}

// GetBlock returns actorID's block of targetID.
func (db *DB) GetBlock(ctx context.Context, actorID, targetID int64) (*AccountBlock, error) {
	var b AccountBlock
	err := db.Gorm(ctx).Where("actor_id = ? AND target_actor_id = ?", actorID, targetID).Take(&b).Error
	return &b, wrap(err, "get block")
}

// PutDomainBlock records a member's domain block; a repeat is no error.
func (db *DB) PutDomainBlock(ctx context.Context, actorID int64, domain string) error {
	err := db.Gorm(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&MemberDomainBlock{ActorID: actorID, Domain: domain, CreatedAt: time.Now().UTC()}).Error
	return wrap(err, "put domain block")
}

// DeleteOwn deletes actorID's rows of model matching where (an unmute, an
// unblock, ...); none is no error.
func (db *DB) DeleteOwn(ctx context.Context, model any, actorID int64, where string, args ...any) error {
	q := db.Gorm(ctx).Where("actor_id = ?", actorID)
	if where != "" {
		q = q.Where(where, args...)
	}
	return wrap(q.Delete(model).Error, "delete own %T", model)
}

// ListOwn reads a page of actorID's rows of a table into dst (a pointer
// to a slice), newest first, paged by id; preload names associations.
func (db *DB) ListOwn(ctx context.Context, dst any, actorID int64, p Page, preload ...string) error {
	q := db.Gorm(ctx).Where("actor_id = ?", actorID)
	for _, pl := range preload {
		q = q.Preload(pl)
	}
	q, order := pageQuery(q, "id", p)
	err := q.Order(order).Limit(p.limit()).Find(dst).Error
	return wrap(err, "list own %T", dst)
}

// Relations are what a viewer has done about some accounts, by id.
type Relations struct {
	Muting, MutingNotifications, Blocking, BlockedBy, DomainBlocking map[int64]bool
	Notes                                                            map[int64]string
}

// RelationsOf reads the viewer's mutes, blocks (both ways), domain blocks
// and notes about targets.
func (db *DB) RelationsOf(ctx context.Context, viewerID int64, targets []Actor) (Relations, error) {
	r := Relations{Muting: map[int64]bool{}, MutingNotifications: map[int64]bool{}, Blocking: map[int64]bool{},
		BlockedBy: map[int64]bool{}, DomainBlocking: map[int64]bool{}, Notes: map[int64]string{}}
	if viewerID == 0 || len(targets) == 0 {
		return r, nil
	}
	ids := make([]int64, len(targets))
	domains := make([]string, len(targets))
	for i, t := range targets {
		ids[i], domains[i] = t.ID, strings.ToLower(t.Domain)
	}
	var mutes []AccountMute
	now := time.Now().UTC()
	if err := db.Gorm(ctx).Where("actor_id = ? AND target_actor_id IN ? AND (expires_at IS NULL OR expires_at > ?)", viewerID, ids, now).Find(&mutes).Error; err != nil {
		return r, wrap(err, "read mutes")
	}
	for _, m := range mutes {
		r.Muting[m.TargetActorID] = true
		r.MutingNotifications[m.TargetActorID] = m.Notifications
	}
	var blocks []AccountBlock
	if err := db.Gorm(ctx).Where("(actor_id = ? AND target_actor_id IN ?) OR (target_actor_id = ? AND actor_id IN ?)", viewerID, ids, viewerID, ids).Find(&blocks).Error; err != nil {
		return r, wrap(err, "read blocks")
	}
	for _, b := range blocks {
		if b.ActorID == viewerID {
			r.Blocking[b.TargetActorID] = true
		} else {
			r.BlockedBy[b.ActorID] = true
		}
	}
	var blocked []string
	if err := db.Gorm(ctx).Model(&MemberDomainBlock{}).Where("actor_id = ? AND domain IN ?", viewerID, domains).Pluck("domain", &blocked).Error; err != nil {
		return r, wrap(err, "read domain blocks")
	}
	for _, t := range targets {
		for _, d := range blocked {
			if strings.EqualFold(t.Domain, d) {
				r.DomainBlocking[t.ID] = true
			}
		}
	}
	var notes []AccountNote
	if err := db.Gorm(ctx).Where("actor_id = ? AND target_actor_id IN ?", viewerID, ids).Find(&notes).Error; err != nil {
		return r, wrap(err, "read notes")
	}
	for _, n := range notes {
		r.Notes[n.TargetActorID] = n.Note
	}
	return r, nil
}

// PutNote sets (or, with "", clears) a member's note on an account.
func (db *DB) PutNote(ctx context.Context, n *AccountNote) error {
	if n.Note == "" {
		return db.DeleteOwn(ctx, &AccountNote{}, n.ActorID, "target_actor_id = ?", n.TargetActorID)
	}
	err := db.Gorm(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "actor_id"}, {Name: "target_actor_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"note"}),
	}).Create(n).Error
	return wrap(err, "put note")
}

// hiddenAuthors is the subquery of actor ids whose posts viewerID does not
// want to see: muted (unexpired), blocked either way, or on a domain the
// viewer blocked. (The blocked domain is concatenated with an empty
// string to drop its column affinity, so that SQLite seeks their actors by
// the index on lower(domain) rather than reading every actor.)
func (db *DB) hiddenAuthors(ctx context.Context, viewerID int64) *gorm.DB {
	now := time.Now().UTC()
	return db.Gorm(ctx).Raw(`SELECT target_actor_id FROM account_mutes WHERE actor_id = ? AND (expires_at IS NULL OR expires_at > ?)
		UNION SELECT target_actor_id FROM account_blocks WHERE actor_id = ?
		UNION SELECT actor_id FROM account_blocks WHERE target_actor_id = ?
		UNION SELECT id FROM actors WHERE lower(domain) IN (SELECT domain || '' FROM member_domain_blocks WHERE actor_id = ?)`,
		viewerID, now, viewerID, viewerID, viewerID)
}

// hiddenNotifiers is the subquery of actors whose notifications viewerID
// does not want: muted with notifications, blocked, or on a blocked
// domain.
func (db *DB) hiddenNotifiers(ctx context.Context, viewerID int64) *gorm.DB {
	now := time.Now().UTC()
	return db.Gorm(ctx).Raw(`SELECT target_actor_id FROM account_mutes WHERE actor_id = ? AND notifications AND (expires_at IS NULL OR expires_at > ?)
		UNION SELECT target_actor_id FROM account_blocks WHERE actor_id = ?
		UNION SELECT id FROM actors WHERE lower(domain) IN (SELECT domain || '' FROM member_domain_blocks WHERE actor_id = ?)`,
		viewerID, now, viewerID, viewerID)
}

// RemoveFollowersOnDomain ends the follows of actorID by accounts on
// domain (a member's domain block).
func (db *DB) RemoveFollowersOnDomain(ctx context.Context, actorID int64, domain string) error {
	err := db.Gorm(ctx).Where("community_actor_id = ? AND member_actor_id IN (?)", actorID,
		db.Gorm(ctx).Model(&Actor{}).Select("id").Where("lower(domain) = ?", strings.ToLower(domain))).
		Delete(&Membership{}).Error
	return wrap(err, "remove followers on %s", domain)
}

// FamiliarFollowers lists up to limit accounts that viewerID follows and
// that follow targetID.
func (db *DB) FamiliarFollowers(ctx context.Context, viewerID, targetID int64, limit int) ([]Actor, error) {
	var out []Actor
	followed := db.Gorm(ctx).Model(&Membership{}).Select("community_actor_id").Where("member_actor_id = ? AND state = ?", viewerID, StateAccepted)
	followers := db.Gorm(ctx).Model(&Membership{}).Select("member_actor_id").Where("community_actor_id = ? AND state = ?", targetID, StateAccepted)
	err := db.Gorm(ctx).Where("id IN (?) AND id IN (?) AND id <> ?", followed, followers, viewerID).Order("id").Limit(limit).Find(&out).Error
	return out, wrap(err, "familiar followers of %d", targetID)
}

// Decisions about senders the notification policy filtered.
const (
	SenderAccepted  = "accepted"
	SenderDismissed = "dismissed"
)

// PutSenderDecisions records a member's decision about senders.
func (db *DB) PutSenderDecisions(ctx context.Context, actorID int64, fromIDs []int64, decision string) error {
	if len(fromIDs) == 0 {
		return nil
	}
	rows := make([]map[string]any, len(fromIDs))
	for i, id := range fromIDs {
		rows[i] = map[string]any{"actor_id": actorID, "from_actor_id": id, "decision": decision, "created_at": time.Now().UTC()}
	}
	err := db.Gorm(ctx).Table("notification_senders").Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "actor_id"}, {Name: "from_actor_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"decision"}),
	}).Create(rows).Error
	return wrap(err, "put sender decisions")
}

// sendersDecided is the subquery of senders actorID decided about.
func (db *DB) sendersDecided(ctx context.Context, actorID int64, decision string) *gorm.DB {
	return db.Gorm(ctx).Table("notification_senders").Select("from_actor_id").Where("actor_id = ? AND decision = ?", actorID, decision)
}

// MuteConversation mutes (on) or unmutes the thread of context uri.
func (db *DB) MuteConversation(ctx context.Context, actorID int64, contextURI string, on bool) error {
	if !on {
		err := db.Gorm(ctx).Exec("DELETE FROM conversation_mutes WHERE actor_id = ? AND context_uri = ?", actorID, contextURI).Error
		return wrap(err, "unmute conversation")
	}
	err := db.Gorm(ctx).Table("conversation_mutes").Clauses(clause.OnConflict{DoNothing: true}).
		Create(map[string]any{"actor_id": actorID, "context_uri": contextURI, "created_at": time.Now().UTC()}).Error
	return wrap(err, "mute conversation")
}

// MutedConversations reports which of contexts actorID muted.
func (db *DB) MutedConversations(ctx context.Context, actorID int64, contexts []string) (map[string]bool, error) {
	out := map[string]bool{}
	if actorID == 0 || len(contexts) == 0 {
		return out, nil
	}
	var got []string
	err := db.Gorm(ctx).Table("conversation_mutes").Where("actor_id = ? AND context_uri IN ?", actorID, contexts).Pluck("context_uri", &got).Error
	for _, c := range got {
		out[c] = true
	}
	return out, wrap(err, "muted conversations")
}

// DismissSuggestion keeps an account out of a member's suggestions.
func (db *DB) DismissSuggestion(ctx context.Context, actorID, targetID int64) error {
	err := db.Gorm(ctx).Table("suggestion_dismissals").Clauses(clause.OnConflict{DoNothing: true}).
		Create(map[string]any{"actor_id": actorID, "target_actor_id": targetID}).Error
	return wrap(err, "dismiss suggestion")
}
