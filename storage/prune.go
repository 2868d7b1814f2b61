package storage

import (
	"context"
	"time"
)

// PruneResult counts what Prune removed.
type PruneResult struct {
	Activities, Deliveries int64
}

// Prune deletes finished queue rows last touched before before: inbound
// activities that were processed or refused, and deliveries that were
// sent, failed or dropped. Activities we sent are kept: outboxes serve
// them and undoing a boost needs them. A processed activity's id is only
// needed to refuse a repeat while its signature could still be valid,
// which is hours, not days. At most limit rows of each kind go per call,
// so a large backlog is cleared in bounded steps.
func (db *DB) Prune(ctx context.Context, before time.Time, limit int) (PruneResult, error) {
	var r PruneResult
	before = before.UTC()
	acts := db.Gorm(ctx).Model(&Activity{}).Select("id").
		Where("NOT local AND state IN ? AND updated_at < ?", []string{ActivityDone, ActivityFailed}, before).Limit(limit)
	res := db.Gorm(ctx).Where("id IN (?)", acts).Delete(&Activity{})
	if res.Error != nil {
		return r, wrap(res.Error, "prune activities")
	}
	r.Activities = res.RowsAffected
	dels := db.Gorm(ctx).Model(&Delivery{}).Select("id").
		Where("state IN ? AND updated_at < ?", []string{DeliveryDone, DeliveryFailed, DeliveryDropped}, before).Limit(limit)
	res = db.Gorm(ctx).Where("id IN (?)", dels).Delete(&Delivery{})
	if res.Error != nil {
		return r, wrap(res.Error, "prune deliveries")
	}
	r.Deliveries = res.RowsAffected
	return r, nil
}
