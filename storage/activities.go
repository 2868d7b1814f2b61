package storage

import (
	"cmp"
	"context"
	"slices"
	"time"

	"gorm.io/gorm"
)

// PutInboundActivity persists an accepted inbound activity as pending work.
// It reports false, without error, when an activity with the same id was
// already accepted: the same activity delivered twice is processed once.
func (db *DB) PutInboundActivity(ctx context.Context, a *Activity) (bool, error) {
	now := time.Now().UTC()
	a.Local = false
	a.State = ActivityPending
	a.RunAfter = &now
	a.CreatedAt, a.UpdatedAt = now, now
	// Every POST to an inbox ends here, so the statement is written out
	// rather than built by GORM's Create (reflection, callbacks), and it
	// is one statement that commits on its own: one round trip, not
	// three (BEGIN, INSERT, COMMIT), and still committed before the
	// caller answers. The columns left out take their defaults
	// (local false, no attempts, no error, not locked). On SQLite it does
	// not wait for this process's writer turn (Tx): it then takes
	// SQLite's lock between the processing's transactions instead of
	// queueing behind all of them, which halved acceptance when tried.
	var ids []int64
	err := db.Gorm(ctx).Raw(`INSERT INTO activities (uri, type, actor_uri, object_uri, raw, state, run_after, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (uri) DO NOTHING RETURNING id`,
		a.URI, a.Type, a.ActorURI, a.ObjectURI, a.Raw, a.State, now, now, now).Scan(&ids).Error
	if err != nil {
		return false, wrap(err, "put inbound activity %q", a.URI)
	}
	if len(ids) == 0 {
		return false, nil
	}
	a.ID = ids[0]
	return true, nil
}

// PutLocalActivity records an activity this instance sends. It is not
// processed by the inbound queue.
func (db *DB) PutLocalActivity(ctx context.Context, a *Activity) error {
	a.Local = true
	a.State = ActivityDone
	return wrap(db.Gorm(ctx).Create(a).Error, "put local activity %q", a.URI)
}

// GetActivityByURI returns the stored activity with id uri.
func (db *DB) GetActivityByURI(ctx context.Context, uri string) (*Activity, error) {
	var a Activity
	err := db.Gorm(ctx).Where("uri = ?", uri).Take(&a).Error
	return &a, wrap(err, "get activity %q", uri)
}

// GetActivityByID returns the stored activity with primary key id.
func (db *DB) GetActivityByID(ctx context.Context, id int64) (*Activity, error) {
	var a Activity
	err := db.Gorm(ctx).Take(&a, id).Error
	return &a, wrap(err, "get activity %d", id)
}

// ClaimInboundActivities takes up to limit pending inbound activities whose
// time has come and leases them until now+lease, so that no other worker
// or replica takes them meanwhile. A crashed worker's lease runs out and
// the activity is taken again: nothing accepted is lost.
func (db *DB) ClaimInboundActivities(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Activity, error) {
	if limit <= 0 {
		return nil, nil
	}
	now = now.UTC()
	until := now.Add(lease)
	const where = `state = ? AND run_after <= ? AND (locked_until IS NULL OR locked_until < ?)`
	args := []any{ActivityPending, now, now}
	var out []Activity
	if db.dialect == Postgres {
		// The CTE runs once, so the rows locked are the rows updated, and
		// SKIP LOCKED lets replicas claim side by side.
		q := `WITH due AS (SELECT id FROM activities WHERE ` + where + ` ORDER BY run_after, id LIMIT ? FOR UPDATE SKIP LOCKED)
			UPDATE activities SET locked_until = ?, updated_at = ? FROM due
			WHERE activities.id = due.id RETURNING activities.*`
		err := db.Gorm(ctx).Raw(q, append(args, limit, until, now)...).Scan(&out).Error
		slices.SortFunc(out, func(a, b Activity) int { return cmp.Compare(a.ID, b.ID) })
		return out, wrap(err, "claim inbound activities")
	}
	// SQLite has no row locks; its immediate transaction makes this
	// select-then-update the only writer.
	err := db.Tx(ctx, func(tx *DB) error {
		g := tx.Gorm(ctx)
		var ids []int64
		if err := g.Raw(`SELECT id FROM activities WHERE `+where+` ORDER BY run_after, id LIMIT ?`, append(args, limit)...).Scan(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		if err := g.Exec(`UPDATE activities SET locked_until = ?, updated_at = ? WHERE id IN ?`, until, now, ids).Error; err != nil {
			return err
		}
		return g.Where("id IN ?", ids).Order("id").Find(&out).Error
	})
	return out, wrap(err, "claim inbound activities")
}

// FinishActivity marks an inbound activity processed.
func (db *DB) FinishActivity(ctx context.Context, id int64) error {
	return wrap(db.finishActivities(ctx, []int64{id}, false), "finish activity %d", id)
}

// FinishActivities marks inbound activities processed, in one statement.
func (db *DB) FinishActivities(ctx context.Context, ids []int64) error {
	return wrap(db.finishActivities(ctx, ids, false), "finish %d activities", len(ids))
}

// FinishUnchangedActivities marks inbound activities processed and drops
// their bodies: processing them changed nothing, so only their ids (to
// refuse a repeat), types, actors and objects (an Undo may name one by
// id) are kept. A sender whose activities change nothing cannot fill our
// disk.
func (db *DB) FinishUnchangedActivities(ctx context.Context, ids []int64) error {
	return wrap(db.finishActivities(ctx, ids, true), "finish %d activities", len(ids))
}

func (db *DB) finishActivities(ctx context.Context, ids []int64, dropBody bool) error {
	for chunk := range slices.Chunk(ids, enqueueBatch) {
		set := map[string]any{"state": ActivityDone, "locked_until": nil, "last_error": "", "updated_at": time.Now().UTC()}
		if dropBody {
			set["raw"] = ""
		}
		if err := db.Gorm(ctx).Model(&Activity{}).Where("id IN ?", chunk).Updates(set).Error; err != nil {
			return err
		}
	}
	return nil
}

// RetryActivity records a failed processing attempt and schedules another
// at next; FailActivity gives up on it.
func (db *DB) RetryActivity(ctx context.Context, id int64, errText string, next time.Time) error {
	err := db.Gorm(ctx).Model(&Activity{}).Where("id = ?", id).Updates(map[string]any{
		"attempts": gorm.Expr("attempts + 1"), "run_after": next.UTC(), "locked_until": nil,
		"last_error": truncateError(errText), "updated_at": time.Now().UTC(),
	}).Error
	return wrap(err, "retry activity %d", id)
}

// FailActivity marks an inbound activity as failed for good.
func (db *DB) FailActivity(ctx context.Context, id int64, errText string) error {
	return db.failActivity(ctx, id, errText, false)
}

// FailUnchangedActivity is FailActivity for an activity whose processing
// changed nothing: its body is dropped, as FinishUnchangedActivities does.
func (db *DB) FailUnchangedActivity(ctx context.Context, id int64, errText string) error {
	return db.failActivity(ctx, id, errText, true)
}

func (db *DB) failActivity(ctx context.Context, id int64, errText string, dropBody bool) error {
	set := map[string]any{
		"state": ActivityFailed, "attempts": gorm.Expr("attempts + 1"), "locked_until": nil,
		"last_error": truncateError(errText), "updated_at": time.Now().UTC(),
	}
	if dropBody {
		set["raw"] = ""
	}
	err := db.Gorm(ctx).Model(&Activity{}).Where("id = ?", id).Updates(set).Error
	return wrap(err, "fail activity %d", id)
}

// CountActivities counts activities in a state (all when state is empty).
func (db *DB) CountActivities(ctx context.Context, state string) (int64, error) {
	var n int64
	q := db.Gorm(ctx).Model(&Activity{})
	if state != "" {
		q = q.Where("state = ?", state)
	}
	err := q.Count(&n).Error
	return n, wrap(err, "count activities")
}

// FindLocalActivity returns the latest activity of type typ that the local
// actor actorURI sent about objectURI: the Create that published a post,
// or the Announce (boost) of it that a community sent, to serve or undo.
func (db *DB) FindLocalActivity(ctx context.Context, typ, actorURI, objectURI string) (*Activity, error) {
	var a Activity
	err := db.Gorm(ctx).Where("local AND type = ? AND actor_uri = ? AND object_uri = ?", typ, actorURI, objectURI).
		Order("id DESC").Take(&a).Error
	return &a, wrap(err, "find %s of %q", typ, objectURI)
}
