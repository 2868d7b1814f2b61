package storage

import (
	"context"
	"time"
)

// Figures for operators: the depth and age of the two queues, failing
// hosts and signed-in sessions. Each is one aggregate query over indexed
// columns, cheap enough to run on every metrics scrape.

// QueueDepth is the pending work of one queue.
type QueueDepth struct {
	Pending int64
	// Oldest is when the oldest pending row was queued; zero when none is.
	Oldest time.Time
	// Due counts pending rows whose time has come (not waiting for a
	// retry or a backed-off host).
	Due int64
}

// QueueStats is the pending work of both queues.
type QueueStats struct {
	Inbound  QueueDepth // received activities waiting to be processed
	Delivery QueueDepth // activities waiting to be sent to an inbox
}

// QueueStats reads the depth and age of the inbound and delivery queues at now.
func (db *DB) QueueStats(ctx context.Context, now time.Time) (QueueStats, error) {
	var out QueueStats
	var err error
	out.Inbound, err = db.queueDepth(ctx, `SELECT count(*),
			coalesce(sum(CASE WHEN run_after IS NULL OR run_after <= ? THEN 1 ELSE 0 END), 0), min(created_at)
		FROM activities WHERE state = ?`, now.UTC(), ActivityPending)
	if err != nil {
		return out, wrap(err, "inbound queue stats")
	}
	out.Delivery, err = db.queueDepth(ctx, `SELECT count(*),
			coalesce(sum(CASE WHEN next_attempt_at <= ? THEN 1 ELSE 0 END), 0), min(created_at)
		FROM deliveries WHERE state = ?`, now.UTC(), DeliveryPending)
	return out, wrap(err, "delivery queue stats")
}

func (db *DB) queueDepth(ctx context.Context, query string, args ...any) (QueueDepth, error) {
	var (
		q      QueueDepth
		oldest any
	)
	if err := db.Gorm(ctx).Raw(query, args...).Row().Scan(&q.Pending, &q.Due, &oldest); err != nil {
		return q, err
	}
	// SQLite gives MIN over a time column as text: an aggregate has no
	// declared type for the driver to decode by.
	switch v := oldest.(type) {
	case time.Time:
		q.Oldest = v.UTC()
	case string:
		q.Oldest = parseTimeText(v)
	case []byte:
		q.Oldest = parseTimeText(string(v))
	}
	return q, nil
}

func parseTimeText(s string) time.Time {
	for _, layout := range []string{sqliteTimeFormat, time.DateTime, time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// FailingHosts returns up to limit hosts whose last deliveries failed, the
// most failures first.
func (db *DB) FailingHosts(ctx context.Context, limit int) ([]Host, error) {
	var hosts []Host
	err := db.Gorm(ctx).Where("consecutive_failures > 0").
		Order("consecutive_failures DESC, domain").Limit(limit).Find(&hosts).Error
	return hosts, wrap(err, "failing hosts")
}

// ActiveSessions counts web sessions that have not expired at now.
func (db *DB) ActiveSessions(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := db.Gorm(ctx).Model(&Session{}).Where("expires_at > ?", now.UTC()).Count(&n).Error
	return n, wrap(err, "count active sessions")
}
