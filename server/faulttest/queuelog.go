package faulttest

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/commonplace/commonplace/storage"
)

// The queue log tells which replica did what to the inbound queue. Each
// replica connects with an application_name of its own (ReplicaDSN); a
// trigger on the activities table records, with that name, every mark of
// an inbound activity as done and, if asked, every claim. It lives in the
// run's own schema, so runs sharing a server do not see each other's, and
// it is for tests and the harness only: the server knows nothing of it.

// ReplicaDSN is dsn (a postgres:// URL) with the connection's
// application_name set to name.
func ReplicaDSN(dsn, name string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("replica DSN: %w", err)
	}
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// InstallQueueLog creates the queue log in db's schema (PostgreSQL). With
// claims, claims are logged as well as done marks (one row per activity
// claimed: more writes, which the harness avoids).
func InstallQueueLog(ctx context.Context, db *storage.DB, claims bool) error {
	if db.Dialect() != storage.Postgres {
		return fmt.Errorf("the queue log needs PostgreSQL")
	}
	logClaims := "false"
	if claims {
		logClaims = "true"
	}
	// A statement-level trigger with a transition table: one INSERT per
	// UPDATE (a claim or a batch of done marks), not one per row, and no
	// row that two writers update, so that it adds no contention.
	stmts := []string{
		`CREATE TABLE queue_log (
			activity_id BIGINT NOT NULL, replica TEXT NOT NULL, done BOOLEAN NOT NULL,
			locked_until TIMESTAMPTZ, at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
			tx BIGINT NOT NULL DEFAULT txid_current())`,
		`CREATE FUNCTION queue_log_record() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO queue_log (activity_id, replica, done, locked_until)
			SELECT n.id, current_setting('application_name'), n.state = 'done', n.locked_until
			FROM queue_log_new n
			WHERE NOT n.local AND (n.state = 'done' OR (` + logClaims + ` AND n.state = 'pending' AND n.locked_until IS NOT NULL));
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER queue_log AFTER UPDATE ON activities REFERENCING NEW TABLE AS queue_log_new
			FOR EACH STATEMENT EXECUTE FUNCTION queue_log_record()`,
	}
	for _, s := range stmts {
		if err := db.Gorm(ctx).Exec(s).Error; err != nil {
			return fmt.Errorf("install the queue log: %w", err)
		}
	}
	return nil
}

// QueueEvent is one logged claim or done mark.
type QueueEvent struct {
	ActivityID  int64
	Replica     string
	Done        bool       // a done mark; otherwise a claim
	LockedUntil *time.Time // a claim's lease
	At          time.Time  // the database's clock when it was written
}

// ReadQueueLog returns the logged events in the order they were written.
func ReadQueueLog(ctx context.Context, db *storage.DB) ([]QueueEvent, error) {
	var out []QueueEvent
	err := db.Gorm(ctx).Raw(`SELECT activity_id, replica, done, locked_until, at FROM queue_log ORDER BY at, activity_id`).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("read the queue log: %w", err)
	}
	return out, nil
}

// MarkStatements counts the transactions that wrote done marks, by
// replica: with DoneMarks, how many activities each "done" write marked.
func MarkStatements(ctx context.Context, db *storage.DB) (map[string]int64, error) {
	var rows []struct {
		Replica string
		N       int64
	}
	if err := db.Gorm(ctx).Raw(`SELECT replica, COUNT(DISTINCT tx) AS n FROM queue_log WHERE done GROUP BY replica`).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("read the queue log: %w", err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Replica] = r.N
	}
	return out, nil
}

// DoneMarks counts the done marks each replica wrote, and the activities
// marked done more than once (by one replica or several).
func DoneMarks(ctx context.Context, db *storage.DB) (byReplica map[string]int64, twice int64, err error) {
	var rows []struct {
		Replica string
		N       int64
	}
	g := db.Gorm(ctx)
	if err := g.Raw(`SELECT replica, COUNT(*) AS n FROM queue_log WHERE done GROUP BY replica`).Scan(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("read the queue log: %w", err)
	}
	byReplica = map[string]int64{}
	for _, r := range rows {
		byReplica[r.Replica] = r.N
	}
	err = g.Raw(`SELECT COUNT(*) FROM (SELECT activity_id FROM queue_log WHERE done GROUP BY activity_id HAVING COUNT(*) > 1) d`).Scan(&twice).Error
	if err != nil {
		return nil, 0, fmt.Errorf("read the queue log: %w", err)
	}
	return byReplica, twice, nil
}
