package storage

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// Mastodon's kinds of media attachment.
const (
	MediaImage   = "image"
	MediaGifv    = "gifv"
	MediaVideo   = "video"
	MediaAudio   = "audio"
	MediaUnknown = "unknown" // a document: PDF, office files
)

// Purposes of media rows that are no attachment.
const (
	MediaAvatar = "avatar"
	MediaHeader = "header"
)

// MediaAttachment is an uploaded file, or a remote post's attachment. Its
// files are in the blob store under FileKey and ThumbKey.
type MediaAttachment struct {
	ID             int64
	AccountActorID int64
	ObjectID       *int64
	Position       int
	Kind           string
	ContentType    string
	FileKey        string
	FileSize       int64
	ThumbKey       string
	ThumbSize      int64
	Width          int
	Height         int
	ThumbWidth     int
	ThumbHeight    int
	Blurhash       string
	FocusX         float64
	FocusY         float64
	Description    string
	// RemoteURL is where a remote attachment is; its files are a cache.
	RemoteURL string `gorm:"column:remote_url"`
	// Purpose is "" for an attachment, or MediaAvatar or MediaHeader.
	Purpose string
	// Refused says why a remote file was not stored.
	Refused   string
	FetchedAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CreateMedia stores a new attachment row.
func (db *DB) CreateMedia(ctx context.Context, m *MediaAttachment) error {
	return wrap(db.Gorm(ctx).Create(m).Error, "create media attachment")
}

// GetMedia loads an attachment by id.
func (db *DB) GetMedia(ctx context.Context, id int64) (*MediaAttachment, error) {
	var m MediaAttachment
	if err := db.Gorm(ctx).First(&m, id).Error; err != nil {
		return nil, wrap(err, "get media attachment %d", id)
	}
	return &m, nil
}

// GetMediaByKey loads the attachment whose file or thumbnail is key.
func (db *DB) GetMediaByKey(ctx context.Context, key string) (*MediaAttachment, error) {
	var m MediaAttachment
	if err := db.Gorm(ctx).Where("file_key = ? OR thumb_key = ?", key, key).First(&m).Error; err != nil {
		return nil, wrap(err, "get media attachment by key")
	}
	return &m, nil
}

// UpdateMedia saves an attachment's description, focus and files.
func (db *DB) UpdateMedia(ctx context.Context, m *MediaAttachment) error {
	return wrap(db.Gorm(ctx).Save(m).Error, "update media attachment %d", m.ID)
}

// MediaUsage is what one account's attachments take.
type MediaUsage struct {
	Files int64
	Bytes int64
}

// AccountMediaUsage sums the files of one account's attachments (uploads
// and, for remote actors, the cache of their posts' media).
func (db *DB) AccountMediaUsage(ctx context.Context, actorID int64) (MediaUsage, error) {
	var u MediaUsage
	err := db.Gorm(ctx).Model(&MediaAttachment{}).
		Select("COUNT(*) AS files, COALESCE(SUM(file_size + thumb_size), 0) AS bytes").
		Where("account_actor_id = ?", actorID).Scan(&u).Error
	return u, wrap(err, "media usage of %d", actorID)
}

// AccountUsage is one account's media usage, for `media usage`.
type AccountUsage struct {
	ActorID  int64
	Username string
	Domain   string
	Local    bool
	Files    int64
	Bytes    int64
}

// MediaUsageByAccount lists the accounts using the most media storage
// first, at most limit.
func (db *DB) MediaUsageByAccount(ctx context.Context, limit int) ([]AccountUsage, error) {
	var out []AccountUsage
	err := db.Gorm(ctx).Table("media_attachments AS m").
		Select("a.id AS actor_id, a.username, a.domain, a.local, COUNT(*) AS files, COALESCE(SUM(m.file_size + m.thumb_size), 0) AS bytes").
		Joins("JOIN actors a ON a.id = m.account_actor_id").
		Where("m.file_size > 0").
		Group("a.id, a.username, a.domain, a.local").
		Order("bytes DESC, a.id").Limit(limit).Scan(&out).Error
	return out, wrap(err, "media usage by account")
}

// MediaOfObjects returns the attachments of posts, by post, in order.
func (db *DB) MediaOfObjects(ctx context.Context, objectIDs []int64) (map[int64][]MediaAttachment, error) {
	out := map[int64][]MediaAttachment{}
	if len(objectIDs) == 0 {
		return out, nil
	}
	var rows []MediaAttachment
	err := db.Gorm(ctx).Where("object_id IN ?", objectIDs).Order("object_id, position, id").Find(&rows).Error
	if err != nil {
		return nil, wrap(err, "media of objects")
	}
	for _, m := range rows {
		out[*m.ObjectID] = append(out[*m.ObjectID], m)
	}
	return out, nil
}

// SetObjectMedia makes ids, in that order, the attachments of objectID;
// attachments it had and ids does not name are detached (and pruned
// later as any unattached upload).
func (db *DB) SetObjectMedia(ctx context.Context, objectID int64, ids []int64) error {
	return db.Gorm(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Model(&MediaAttachment{}).Where("object_id = ?", objectID)
		if len(ids) > 0 {
			q = q.Where("id NOT IN ?", ids)
		}
		if err := q.Updates(map[string]any{"object_id": nil, "updated_at": time.Now().UTC()}).Error; err != nil {
			return wrap(err, "detach media of %d", objectID)
		}
		for i, id := range ids {
			err := tx.Model(&MediaAttachment{}).Where("id = ?", id).
				Updates(map[string]any{"object_id": objectID, "position": i, "updated_at": time.Now().UTC()}).Error
			if err != nil {
				return wrap(err, "attach media %d to %d", id, objectID)
			}
		}
		return nil
	})
}

// UnattachedMedia lists uploads never attached to a post and created
// before before, at most limit, oldest first.
func (db *DB) UnattachedMedia(ctx context.Context, before time.Time, limit int) ([]MediaAttachment, error) {
	var out []MediaAttachment
	err := db.Gorm(ctx).Where("object_id IS NULL AND purpose = '' AND created_at < ?", before.UTC()).
		Order("created_at").Limit(limit).Find(&out).Error
	return out, wrap(err, "list unattached media")
}

// CachedRemoteMedia lists remote attachments whose files were fetched
// before before, at most limit, oldest first.
func (db *DB) CachedRemoteMedia(ctx context.Context, before time.Time, limit int) ([]MediaAttachment, error) {
	var out []MediaAttachment
	err := db.Gorm(ctx).Where("remote_url <> '' AND file_key <> '' AND fetched_at < ?", before.UTC()).
		Order("fetched_at").Limit(limit).Find(&out).Error
	return out, wrap(err, "list cached remote media")
}

// DeleteMedia removes attachment rows.
func (db *DB) DeleteMedia(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return wrap(db.Gorm(ctx).Where("id IN ?", ids).Delete(&MediaAttachment{}).Error, "delete media")
}

// DeleteUnattachedMedia removes an attachment row if it is still in no
// post, and reports whether it did.
func (db *DB) DeleteUnattachedMedia(ctx context.Context, id int64) (bool, error) {
	res := db.Gorm(ctx).Where("id = ? AND object_id IS NULL AND purpose = ''", id).Delete(&MediaAttachment{})
	return res.RowsAffected == 1, wrap(res.Error, "delete unattached media %d", id)
}

// SetActorImage makes key (a blob key, "" for none) the actor's avatar or
// header.
func (db *DB) SetActorImage(ctx context.Context, actorID int64, purpose, key string) error {
	col := "avatar_key"
	if purpose == MediaHeader {
		col = "header_key"
	}
	err := db.Gorm(ctx).Model(&Actor{}).Where("id = ?", actorID).Updates(map[string]any{col: key, "updated_at": time.Now().UTC()}).Error
	return wrap(err, "set %s of %d", purpose, actorID)
}
