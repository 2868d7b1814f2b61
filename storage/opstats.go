package storage

import (
	"context"
	"strings"
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

// HostHealth is the delivery health of one remote host, for the admins.
type HostHealth struct {
	Domain string
	// Queued counts pending deliveries; Oldest is when the oldest was queued.
	Queued int64
	Oldest time.Time
	// Failures counts failed deliveries in a row, since FailingSince.
	Failures     int
	FailingSince *time.Time
	LastFailure  *time.Time
	LastSuccess  *time.Time
	BackoffUntil *time.Time
	// LastError is the error of the most recent failed attempt.
	LastError string
}

// DeliveryHealth lists up to limit hosts that are failing or have
// deliveries waiting: failing hosts first (most failures first), then by
// deliveries waiting.
func (db *DB) DeliveryHealth(ctx context.Context, limit int) ([]HostHealth, error) {
	var queued []struct {
		Host string
		N    int64
	}
	err := db.Gorm(ctx).Model(&Delivery{}).Select("host, count(*) AS n").
		Where("state = ?", DeliveryPending).Group("host").Order("n DESC, host").Limit(limit).Scan(&queued).Error
	if err != nil {
		return nil, wrap(err, "deliveries waiting by host")
	}
	failing, err := db.FailingHosts(ctx, limit)
	if err != nil {
		return nil, err
	}
	byHost := map[string]*HostHealth{}
	var order []string
	add := func(domain string) *HostHealth {
		if h, ok := byHost[domain]; ok {
			return h
		}
		h := &HostHealth{Domain: domain}
		byHost[domain] = h
		order = append(order, domain)
		return h
	}
	for _, f := range failing {
		h := add(f.Domain)
		h.Failures, h.FailingSince, h.LastFailure, h.LastSuccess, h.BackoffUntil =
			f.ConsecutiveFailures, f.FailingSince, f.LastFailureAt, f.LastSuccessAt, f.BackoffUntil
	}
	var rest []string
	for _, q := range queued {
		if _, ok := byHost[q.Host]; !ok {
			rest = append(rest, q.Host)
		}
		add(q.Host).Queued = q.N
	}
	if len(rest) > 0 {
		var hosts []Host
		if err := db.Gorm(ctx).Where("domain IN ?", rest).Find(&hosts).Error; err != nil {
			return nil, wrap(err, "health of hosts")
		}
		for _, r := range hosts {
			h := byHost[r.Domain]
			h.LastFailure, h.LastSuccess, h.BackoffUntil = r.LastFailureAt, r.LastSuccessAt, r.BackoffUntil
		}
	}
	if len(order) > limit {
		order = order[:limit]
	}
	out := make([]HostHealth, 0, len(order))
	for _, d := range order {
		h := byHost[d]
		// One indexed read per host shown: the newest error and the
		// oldest waiting delivery.
		var last struct{ LastError string }
		err := db.Gorm(ctx).Model(&Delivery{}).Select("last_error").
			Where("host = ? AND state IN ? AND last_error <> ''", d, []string{DeliveryPending, DeliveryFailed}).
			Order("updated_at DESC").Limit(1).Scan(&last).Error
		if err != nil {
			return nil, wrap(err, "last error of %q", d)
		}
		h.LastError = last.LastError
		if h.Queued > 0 {
			q, err := db.queueDepth(ctx, `SELECT count(*), 0, min(created_at) FROM deliveries WHERE host = ? AND state = ?`, d, DeliveryPending)
			if err != nil {
				return nil, wrap(err, "oldest delivery to %q", d)
			}
			h.Oldest = q.Oldest
		}
		out = append(out, *h)
	}
	return out, nil
}

// RetryHost makes every pending delivery to host due now and lifts the
// host's backoff, for an admin who knows it is back. It returns how many
// deliveries were made due.
func (db *DB) RetryHost(ctx context.Context, host string, now time.Time) (int64, error) {
	host = strings.ToLower(host)
	now = now.UTC()
	var n int64
	err := db.Tx(ctx, func(tx *DB) error {
		res := tx.Gorm(ctx).Model(&Delivery{}).Where("host = ? AND state = ? AND next_attempt_at > ?", host, DeliveryPending, now).
			Updates(map[string]any{"next_attempt_at": now, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		return tx.Gorm(ctx).Exec(`UPDATE hosts SET backoff_until = NULL, updated_at = ? WHERE domain = ?`, now, host).Error
	})
	return n, wrap(err, "retry deliveries to %q", host)
}

// RecentAudit returns the newest audit records, newest first, before an id
// (0: from the newest).
func (db *DB) RecentAudit(ctx context.Context, beforeID int64, limit int) ([]PolicyAudit, error) {
	var out []PolicyAudit
	q := db.Gorm(ctx)
	if beforeID > 0 {
		q = q.Where("id < ?", beforeID)
	}
	err := q.Order("id DESC").Limit(limit).Find(&out).Error
	return out, wrap(err, "list recent audit records")
}
