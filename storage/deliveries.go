package storage

import (
	"context"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/commonplace/commonplace/federation/hostname"
)

// The outbound delivery queue: one row per (activity, inbox), claimed by
// workers on any replica with a lease, so that a crashed worker's rows come
// back once the lease runs out.

const (
	// enqueueBatch bounds the rows per INSERT: large fan-outs take few round
	// trips while staying far below both engines' bound-parameter limits.
	enqueueBatch = 500
	// maxErrorText bounds stored error texts; remote servers can answer
	// anything, and a row is not a log.
	maxErrorText = 500

	// A host is backed off as a whole once this many deliveries to it have
	// failed in a row, for 2^(n-hostBackoffAfter) minutes up to
	// maxHostBackoff.
	hostBackoffAfter = 5
	maxHostBackoff   = 6 * time.Hour
)

// EnqueueDeliveries queues activityID for each distinct inbox, to be signed
// by signerActorID, due at once. Empty and unparseable inboxes are skipped
// (they can never be delivered), as are inboxes the activity is already
// queued for. It returns the number of rows added.
//
// Call it on the tx of the change that caused the delivery, so that both are
// committed or neither is.
func (db *DB) EnqueueDeliveries(ctx context.Context, activityID, signerActorID int64, inboxes []string) (int, error) {
	now := time.Now().UTC()
	seen := make(map[string]bool, len(inboxes))
	rows := make([]Delivery, 0, len(inboxes))
	for _, inbox := range inboxes {
		inbox = strings.TrimSpace(inbox)
		if inbox == "" || seen[inbox] {
			continue
		}
		seen[inbox] = true
		host := DeliveryHost(inbox)
		if host == "" {
			continue
		}
		rows = append(rows, Delivery{
			ActivityID: activityID, SignerActorID: signerActorID, InboxURI: inbox, Host: host,
			State: DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now,
		})
	}
	if len(rows) == 0 {
		return 0, nil
	}
	var added int64
	// A savepoint when called on a tx, a transaction otherwise: a fan-out is
	// queued whole or not at all.
	err := db.Tx(ctx, func(tx *DB) error {
		added = 0
		for batch := range slices.Chunk(rows, enqueueBatch) {
			n, err := tx.insertDeliveries(ctx, batch)
			if err != nil {
				return err
			}
			added += n
		}
		return nil
	})
	return int(added), wrap(err, "enqueue %d deliveries of activity %d", len(rows), activityID)
}

func (db *DB) insertDeliveries(ctx context.Context, rows []Delivery) (int64, error) {
	var sb strings.Builder
	sb.WriteString(`INSERT INTO deliveries
		(activity_id, signer_actor_id, inbox_uri, host, state, attempts, next_attempt_at, last_status, last_error, created_at, updated_at)
		VALUES `)
	args := make([]any, 0, len(rows)*8)
	for i, d := range rows {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?, ?, ?, ?, ?, 0, ?, 0, '', ?, ?)")
		args = append(args, d.ActivityID, d.SignerActorID, d.InboxURI, d.Host, d.State, d.NextAttemptAt, d.CreatedAt, d.UpdatedAt)
	}
	sb.WriteString(" ON CONFLICT (activity_id, inbox_uri) DO NOTHING")
	res := db.Gorm(ctx).Exec(sb.String(), args...)
	return res.RowsAffected, res.Error
}

// DeliveryHost is the key deliveries are grouped by for per-host limits
// and backoff, and the host the federation policy judges: the canonical
// host[:port] of inbox (package hostname), without the scheme's default
// port. It is "" if inbox is not an absolute http(s) URL with a valid host.
func DeliveryHost(inbox string) string { return hostname.OfURL(inbox) }

// ClaimDeliveries takes up to limit deliveries that are due at now, whose
// lease (if any) has run out and whose host is not backed off, and leases
// them until now+lease. No other caller, in this process or another, gets
// the same rows until the lease runs out or the row is marked. Hosts in
// exclude (those this process has no capacity for) are left for others.
func (db *DB) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit int, exclude []string) ([]Delivery, error) {
	if limit <= 0 {
		return nil, nil
	}
	now = now.UTC()
	until := now.Add(lease)
	where := `state = ? AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until < ?)
		AND NOT EXISTS (SELECT 1 FROM hosts WHERE hosts.domain = deliveries.host AND hosts.backoff_until > ?)`
	args := []any{DeliveryPending, now, now, now}
	if len(exclude) > 0 {
		where += " AND host NOT IN ?"
		args = append(args, exclude)
	}
	var out []Delivery
	var err error
	if db.dialect == Postgres {
		// SKIP LOCKED lets replicas claim side by side: each takes rows the
		// others have not locked instead of queueing behind them. The CTE
		// is evaluated once, so the rows locked are the rows updated.
		q := `WITH due AS (SELECT id FROM deliveries WHERE ` + where + `
				ORDER BY next_attempt_at, id LIMIT ? FOR UPDATE SKIP LOCKED)
			UPDATE deliveries SET locked_until = ?, updated_at = ? FROM due
			WHERE deliveries.id = due.id RETURNING deliveries.*`
		err = db.Gorm(ctx).Raw(q, append(args, limit, until, now)...).Scan(&out).Error
	} else {
		// SQLite ignores row locks, but Tx begins an immediate transaction:
		// it holds the only write lock from the select to the update.
		err = db.Tx(ctx, func(tx *DB) error {
			var ids []int64
			g := tx.Gorm(ctx)
			if err := g.Raw(`SELECT id FROM deliveries WHERE `+where+` ORDER BY next_attempt_at, id LIMIT ?`,
				append(args, limit)...).Scan(&ids).Error; err != nil {
				return err
			}
			if len(ids) == 0 {
				return nil
			}
			if err := g.Exec(`UPDATE deliveries SET locked_until = ?, updated_at = ? WHERE id IN ?`, until, now, ids).Error; err != nil {
				return err
			}
			return g.Where("id IN ?", ids).Find(&out).Error
		})
	}
	if err != nil {
		return nil, wrap(err, "claim deliveries")
	}
	slices.SortFunc(out, func(a, b Delivery) int {
		if c := a.NextAttemptAt.Compare(b.NextAttemptAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// ReleaseDeliveries gives up the lease on pending deliveries without
// counting an attempt, for rows claimed but not sent (a host at capacity,
// a shutdown), so that they are claimable again at once.
func (db *DB) ReleaseDeliveries(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := db.Gorm(ctx).Exec(`UPDATE deliveries SET locked_until = NULL, updated_at = ? WHERE id IN ? AND state = ?`,
		time.Now().UTC(), ids, DeliveryPending).Error
	return wrap(err, "release %d deliveries", len(ids))
}

// MarkDelivered records that the inbox accepted delivery id with status.
// Like the other Mark methods it only changes a pending row, so a late
// answer cannot revive a dropped one; ErrNotFound if it is not pending.
func (db *DB) MarkDelivered(ctx context.Context, id int64, status int) error {
	now := time.Now().UTC()
	return wrap(db.markDelivery(ctx, id, map[string]any{
		"state": DeliveryDone, "delivered_at": now, "last_status": status, "last_error": "",
	}), "mark delivery %d delivered", id)
}

// MarkDeliveredBatch records that the inboxes accepted deliveries ids, and
// that hosts answered, in one transaction of two statements: a fan-out
// records its outcomes in a few dozen writes rather than two per
// delivery. Rows no longer pending are skipped, as in MarkDelivered. It
// returns the number of rows marked.
func (db *DB) MarkDeliveredBatch(ctx context.Context, ids []int64, hosts []string) (int64, error) {
	if len(ids) == 0 && len(hosts) == 0 {
		return 0, nil
	}
	var marked int64
	err := db.Tx(ctx, func(tx *DB) error {
		marked = 0
		now := time.Now().UTC()
		for chunk := range slices.Chunk(ids, enqueueBatch) {
			res := tx.Gorm(ctx).Exec(`UPDATE deliveries SET state = ?, delivered_at = ?, last_status = 0, last_error = '',
				attempts = attempts + 1, locked_until = NULL, updated_at = ? WHERE id IN ? AND state = ?`,
				DeliveryDone, now, now, chunk, DeliveryPending)
			if res.Error != nil {
				return res.Error
			}
			marked += res.RowsAffected
		}
		return tx.recordHostsSuccess(ctx, hosts, now)
	})
	return marked, wrap(err, "mark %d deliveries delivered", len(ids))
}

// MarkRetry records a failed attempt of delivery id and makes it due again
// at next.
func (db *DB) MarkRetry(ctx context.Context, id int64, status int, errText string, next time.Time) error {
	return wrap(db.markDelivery(ctx, id, map[string]any{
		"next_attempt_at": next.UTC(), "last_status": status, "last_error": truncateError(errText),
	}), "mark delivery %d for retry", id)
}

// MarkFailed records that delivery id failed for good.
func (db *DB) MarkFailed(ctx context.Context, id int64, status int, errText string) error {
	return wrap(db.markDelivery(ctx, id, map[string]any{
		"state": DeliveryFailed, "last_status": status, "last_error": truncateError(errText),
	}), "mark delivery %d failed", id)
}

var exprAttemptsPlusOne = gorm.Expr("attempts + 1")

// markDelivery ends an attempt: it counts it, drops the lease and sets
// fields.
func (db *DB) markDelivery(ctx context.Context, id int64, fields map[string]any) error {
	fields["attempts"] = exprAttemptsPlusOne
	fields["locked_until"] = nil
	fields["updated_at"] = time.Now().UTC()
	res := db.Gorm(ctx).Model(&Delivery{}).Where("id = ? AND state = ?", id, DeliveryPending).Updates(fields)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return res.Error
}

// DropDeliveriesToHost gives up every pending delivery to host, e.g. when
// the instance stops federating with it. It returns how many were dropped.
func (db *DB) DropDeliveriesToHost(ctx context.Context, host string) (int64, error) {
	host = strings.ToLower(host)
	res := db.Gorm(ctx).Model(&Delivery{}).Where("host = ? AND state = ?", host, DeliveryPending).
		Updates(map[string]any{"state": DeliveryDropped, "locked_until": nil, "updated_at": time.Now().UTC()})
	return res.RowsAffected, wrap(res.Error, "drop deliveries to %q", host)
}

// RecordHostSuccess clears host's failure count and backoff.
func (db *DB) RecordHostSuccess(ctx context.Context, host string) error {
	return wrap(db.recordHostsSuccess(ctx, []string{host}, time.Now().UTC()),
		"record success of host %q", host)
}

// recordHostsSuccess clears the failure counts and backoffs of hosts.
func (db *DB) recordHostsSuccess(ctx context.Context, hosts []string, now time.Time) error {
	hosts = slices.Clone(hosts)
	for i, h := range hosts {
		hosts[i] = strings.ToLower(h)
	}
	// Sorted and distinct: replicas upserting overlapping sets lock the
	// rows in one order (no deadlock), and one statement may not touch a
	// row twice.
	slices.Sort(hosts)
	hosts = slices.Compact(hosts)
	for chunk := range slices.Chunk(hosts, enqueueBatch) {
		var sb strings.Builder
		sb.WriteString(`INSERT INTO hosts (domain, consecutive_failures, last_success_at, updated_at) VALUES `)
		args := make([]any, 0, len(chunk)*3+1)
		for i, h := range chunk {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?, 0, ?, ?)")
			args = append(args, h, now, now)
		}
		// Every delivery succeeds through here; the WHERE skips rewriting a
		// healthy host's row more than once a minute.
		sb.WriteString(` ON CONFLICT (domain) DO UPDATE SET consecutive_failures = 0, backoff_until = NULL, failing_since = NULL,
			last_success_at = excluded.last_success_at, updated_at = excluded.updated_at
		WHERE hosts.consecutive_failures <> 0 OR hosts.backoff_until IS NOT NULL
			OR hosts.last_success_at IS NULL OR hosts.last_success_at < ?`)
		args = append(args, now.Add(-time.Minute))
		if err := db.Gorm(ctx).Exec(sb.String(), args...).Error; err != nil {
			return err
		}
	}
	return nil
}

// RecordHostFailure counts a failed delivery to host at now and returns the
// count of consecutive failures. From hostBackoffAfter failures on, the
// host is backed off: ClaimDeliveries skips it until the backoff ends.
//
// Failures while the host is backed off are not counted: they come from
// requests already in flight when it began, and counting them would turn
// one burst of a large fan-out into the longest backoff.
func (db *DB) RecordHostFailure(ctx context.Context, host string, now time.Time) (int, error) {
	host = strings.ToLower(host)
	now = now.UTC()
	var n int
	err := db.Tx(ctx, func(tx *DB) error {
		var row struct {
			ConsecutiveFailures int
			BackedOff           int
		}
		err := tx.Gorm(ctx).Raw(`INSERT INTO hosts (domain, consecutive_failures, last_failure_at, failing_since, updated_at)
			VALUES (?, 1, ?, ?, ?)
			ON CONFLICT (domain) DO UPDATE SET
				consecutive_failures = CASE WHEN hosts.backoff_until > ? THEN hosts.consecutive_failures
					ELSE hosts.consecutive_failures + 1 END,
				failing_since = CASE WHEN hosts.consecutive_failures > 0 THEN coalesce(hosts.failing_since, excluded.failing_since)
					ELSE excluded.failing_since END,
				last_failure_at = excluded.last_failure_at, updated_at = excluded.updated_at
			RETURNING consecutive_failures, CASE WHEN backoff_until > ? THEN 1 ELSE 0 END AS backed_off`,
			host, now, now, now, now, now).Scan(&row).Error
		if err != nil {
			return err
		}
		n = row.ConsecutiveFailures
		if n < hostBackoffAfter || row.BackedOff == 1 {
			return nil
		}
		return tx.Gorm(ctx).Exec(`UPDATE hosts SET backoff_until = ? WHERE domain = ?`,
			now.Add(HostBackoff(n)), host).Error
	})
	return n, wrap(err, "record failure of host %q", host)
}

// HostBackoff is how long a host with n consecutive failures is left alone.
func HostBackoff(n int) time.Duration {
	if n < hostBackoffAfter {
		return 0
	}
	if e := n - hostBackoffAfter; e < 16 { // 2^16 minutes is far past the cap
		return min(time.Minute<<e, maxHostBackoff)
	}
	return maxHostBackoff
}

// GetHost returns the delivery health of host.
func (db *DB) GetHost(ctx context.Context, host string) (*Host, error) {
	var h Host
	err := db.Gorm(ctx).Where("domain = ?", strings.ToLower(host)).Take(&h).Error
	return &h, wrap(err, "get host %q", host)
}

// GetDelivery returns delivery id.
func (db *DB) GetDelivery(ctx context.Context, id int64) (*Delivery, error) {
	var d Delivery
	err := db.Gorm(ctx).Take(&d, id).Error
	return &d, wrap(err, "get delivery %d", id)
}

// DeliveryCounts counts activityID's deliveries by state.
func (db *DB) DeliveryCounts(ctx context.Context, activityID int64) (map[string]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	err := db.Gorm(ctx).Model(&Delivery{}).Select("state, count(*) AS n").
		Where("activity_id = ?", activityID).Group("state").Scan(&rows).Error
	if err != nil {
		return nil, wrap(err, "count deliveries of activity %d", activityID)
	}
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}

// PendingDeliveries counts deliveries not yet done, failed or dropped.
func (db *DB) PendingDeliveries(ctx context.Context) (int64, error) {
	var n int64
	err := db.Gorm(ctx).Model(&Delivery{}).Where("state = ?", DeliveryPending).Count(&n).Error
	return n, wrap(err, "count pending deliveries")
}

// truncateError makes s storable: valid UTF-8 without NUL (PostgreSQL
// rejects both) and at most maxErrorText bytes, cut on a rune boundary.
func truncateError(s string) string {
	s = strings.ToValidUTF8(strings.ReplaceAll(s, "\x00", ""), "\uFFFD")
	if len(s) <= maxErrorText {
		return s
	}
	cut := maxErrorText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}
