package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgreSQL's LISTEN/NOTIFY carries live events between the replicas of
// one instance. A notification sent inside a transaction is delivered when
// the transaction commits and never if it rolls back, which is exactly
// when an event may be told.

// ErrNoNotify is returned by Notify and Listen on SQLite, where one
// process owns the database and events stay in its memory.
var ErrNoNotify = errors.New("notifications need PostgreSQL")

// MaxNotifyPayload is PostgreSQL's limit on a notification's payload
// (8000 bytes in a default build), less a margin.
const MaxNotifyPayload = 7900

// channelName is name qualified by the schema, so that databases that are
// schemas of one server (as in tests) do not hear each other.
func (db *DB) channelName(name string) string {
	ch := name
	if db.schema != "" && db.schema != "public" {
		ch += "_" + db.schema
	}
	if len(ch) > 63 { // PostgreSQL truncates identifiers to 63 bytes
		ch = ch[:63]
	}
	return ch
}

// Notify sends payload on channel. On a transaction's handle it is sent
// when the transaction commits.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	if db.dialect != Postgres {
		return ErrNoNotify
	}
	if len(payload) > MaxNotifyPayload {
		return fmt.Errorf("notify %s: payload of %d bytes is too large", channel, len(payload))
	}
	err := db.gorm.WithContext(ctx).Exec("SELECT pg_notify(?, ?)", db.channelName(channel), payload).Error
	return wrap(err, "notify %s", channel)
}

// Listener is told what a Listen sees. Every function runs on Listen's
// goroutine and must not block for long.
type Listener struct {
	// Connected is called each time listening (re)starts: notifications
	// sent while no connection listened are lost.
	Connected func()
	// Failed is called when the connection fails; Listen reconnects.
	Failed func(error)
	// Notified gets the payload of every notification on the channel,
	// sent by any process.
	Notified func(payload string)
}

// Listen listens on channel with a connection of its own until ctx is
// done, reconnecting with backoff after a failure.
func (db *DB) Listen(ctx context.Context, channel string, l Listener) error {
	if db.dialect != Postgres {
		return ErrNoNotify
	}
	ident := pgx.Identifier{db.channelName(channel)}.Sanitize()
	backoff := 100 * time.Millisecond
	for {
		listening, err := db.listenOnce(ctx, ident, l)
		if ctx.Err() != nil {
			return nil
		}
		if l.Failed != nil {
			l.Failed(err)
		}
		if listening {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// listenOnce listens until the connection fails; listening reports
// whether it got as far as listening.
func (db *DB) listenOnce(ctx context.Context, ident string, l Listener) (listening bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	conn, err := pgx.Connect(cctx, db.dsn)
	cancel()
	if err != nil {
		return false, fmt.Errorf("listen: connect: %w", err)
	}
	defer func() {
		c, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		conn.Close(c)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+ident); err != nil {
		return false, fmt.Errorf("listen %s: %w", ident, err)
	}
	if l.Connected != nil {
		l.Connected()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, fmt.Errorf("wait for notification: %w", err)
		}
		if l.Notified != nil {
			l.Notified(n.Payload)
		}
	}
}
