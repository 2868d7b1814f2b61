package delivery

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/commonplace/commonplace/storage"
)

// Defaults for batching the record of successful deliveries.
const (
	DefaultMarkBatch = 200
	DefaultMarkDelay = 50 * time.Millisecond
)

// marker records successful deliveries in batches. Marking each one on its
// own took two write statements per delivery, which on SQLite queue behind
// the single writer and on PostgreSQL are a commit each: a 1,000-host
// fan-out spent most of its time there. A batch is written when it holds
// MarkBatch rows, MarkDelay after its first row, and at shutdown.
//
// A row waiting here is still pending and leased, so no worker sends it
// again while the lease lasts; if the process dies before the batch is
// written, the lease runs out and the row is sent again. So a crash
// re-sends at most the unwritten batch, as it already re-sent the requests
// in flight.
type marker struct {
	db    *storage.DB
	log   *slog.Logger
	max   int
	delay time.Duration
	// done is called with the number of rows in each batch written.
	done func(n int64)

	// writing serialises writes, so that a final flush waits for a timed
	// one still running.
	writing sync.Mutex

	mu    sync.Mutex
	ids   []int64
	hosts map[string]bool
	timer *time.Timer
}

func newMarker(db *storage.DB, log *slog.Logger, max int, delay time.Duration, done func(int64)) *marker {
	return &marker{db: db, log: log, max: max, delay: delay, done: done, hosts: make(map[string]bool)}
}

// add queues delivery id, accepted by host. The caller's goroutine writes
// the batch when it is full, which slows deliveries down to the pace of
// the database rather than letting the batch grow.
func (m *marker) add(id int64, host string) {
	m.mu.Lock()
	m.ids = append(m.ids, id)
	m.hosts[host] = true
	full := len(m.ids) >= m.max
	if !full && m.timer == nil {
		m.timer = time.AfterFunc(m.delay, m.flush)
	}
	m.mu.Unlock()
	if full {
		m.flush()
	}
}

// hostFailed forgets a success of host waiting to be recorded: the failure
// that was just recorded is more recent, and writing the success after it
// would clear it.
func (m *marker) hostFailed(host string) {
	m.mu.Lock()
	delete(m.hosts, host)
	m.mu.Unlock()
}

// flush writes what is queued.
func (m *marker) flush() {
	m.writing.Lock()
	defer m.writing.Unlock()
	m.mu.Lock()
	ids := m.ids
	hosts := make([]string, 0, len(m.hosts))
	for h := range m.hosts {
		hosts = append(hosts, h)
	}
	m.ids, m.hosts = nil, make(map[string]bool)
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
	m.mu.Unlock()
	if len(ids) == 0 && len(hosts) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), markTimeout)
	defer cancel()
	marked, err := m.db.MarkDeliveredBatch(ctx, ids, hosts)
	if err != nil {
		// The rows stay pending and leased: they are sent again once the
		// lease runs out, as after a crash.
		m.log.Error("record delivered", "count", len(ids), "err", err)
		return
	}
	if n := int64(len(ids)) - marked; n > 0 {
		// Dropped (or deleted with their activity) while in flight.
		m.log.Debug("deliveries no longer pending", "count", n)
	}
	m.done(int64(len(ids)))
}
