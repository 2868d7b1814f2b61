package storage

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// CreateActor inserts a new actor. ErrConflict if its URI or
// username@domain is taken.
func (db *DB) CreateActor(ctx context.Context, a *Actor) error {
	return wrap(db.Gorm(ctx).Create(a).Error, "create actor %q", a.URI)
}

// GetActorByID returns the actor with primary key id.
func (db *DB) GetActorByID(ctx context.Context, id int64) (*Actor, error) {
	var a Actor
	err := db.Gorm(ctx).Take(&a, id).Error
	return &a, wrap(err, "get actor %d", id)
}

// GetActorByURI returns the actor whose ActivityPub id is uri.
func (db *DB) GetActorByURI(ctx context.Context, uri string) (*Actor, error) {
	var a Actor
	err := db.Gorm(ctx).Where("uri = ?", uri).Take(&a).Error
	return &a, wrap(err, "get actor %q", uri)
}

// GetActorByKeyID returns the actor that owns the public key keyID.
func (db *DB) GetActorByKeyID(ctx context.Context, keyID string) (*Actor, error) {
	var a Actor
	err := db.Gorm(ctx).Where("key_id = ?", keyID).Take(&a).Error
	return &a, wrap(err, "get actor by key %q", keyID)
}

// GetActorByHandle returns the actor username@domain, case-insensitively
// on the username.
func (db *DB) GetActorByHandle(ctx context.Context, username, domain string) (*Actor, error) {
	var a Actor
	err := db.Gorm(ctx).Where("lower(username) = ? AND domain = ?", strings.ToLower(username), strings.ToLower(domain)).Take(&a).Error
	return &a, wrap(err, "get actor %s@%s", username, domain)
}

// GetLocalActor returns the local actor called username, of any type.
func (db *DB) GetLocalActor(ctx context.Context, username string) (*Actor, error) {
	var a Actor
	err := db.Gorm(ctx).Where("lower(username) = ? AND local AND deleted_at IS NULL", strings.ToLower(username)).Take(&a).Error
	return &a, wrap(err, "get local actor %q", username)
}

// GetLocalActorByType returns the local actor called username if it has
// the given type; a member and a community never share a name.
func (db *DB) GetLocalActorByType(ctx context.Context, username, typ string) (*Actor, error) {
	var a Actor
	err := db.Gorm(ctx).Where("lower(username) = ? AND local AND type = ? AND deleted_at IS NULL", strings.ToLower(username), typ).Take(&a).Error
	return &a, wrap(err, "get local %s %q", typ, username)
}

// UpsertRemoteActor stores a fetched remote actor document, updating the
// cached copy if the URI is known. FetchedAt is set to now.
func (db *DB) UpsertRemoteActor(ctx context.Context, a *Actor) error {
	now := time.Now().UTC()
	a.Local = false
	a.FetchedAt = &now
	err := db.Gorm(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "uri"}},
		DoUpdates: clause.AssignmentColumns([]string{
			"type", "username", "domain", "display_name", "summary", "url",
			"inbox_uri", "outbox_uri", "shared_inbox_uri", "followers_uri",
			"following_uri", "featured_uri", "key_id", "public_key_pem",
			"manually_approves_followers", "published_at", "fetched_at", "updated_at",
			"moderators_uri", "posting_restricted_to_mods", "members_only",
		}),
	}).Create(a).Error
	if err != nil {
		return wrap(err, "upsert actor %q", a.URI)
	}
	// On conflict some drivers do not return the existing id.
	if a.ID == 0 {
		got, err := db.GetActorByURI(ctx, a.URI)
		if err != nil {
			return err
		}
		a.ID = got.ID
	}
	return nil
}

// ListActorsByIDs returns the actors with the given ids, in no set order.
func (db *DB) ListActorsByIDs(ctx context.Context, ids []int64) ([]Actor, error) {
	var out []Actor
	if len(ids) == 0 {
		return out, nil
	}
	err := db.Gorm(ctx).Where("id IN ?", ids).Find(&out).Error
	return out, wrap(err, "list actors")
}
