package storage

import (
	"context"
)

// ReplaceObjectTags sets the hashtags of a post to tags, as after an edit:
// tags it no longer has are removed from the tag timelines.
func (db *DB) ReplaceObjectTags(ctx context.Context, objectID int64, tags []string) error {
	err := db.Tx(ctx, func(tx *DB) error {
		if err := tx.Gorm(ctx).Where("object_id = ?", objectID).Delete(&ObjectTag{}).Error; err != nil {
			return err
		}
		return tx.PutObjectTags(ctx, objectID, tags)
	})
	return wrap(err, "replace tags of object %d", objectID)
}
