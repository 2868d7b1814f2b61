package federation

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/commonplace/commonplace/storage"
)

// Batching of the record that inbound activities were processed.
const (
	finishBatch = 64
	finishDelay = 20 * time.Millisecond
)

// finisher records processed activities as done in batches: one UPDATE
// for up to finishBatch of them, written finishDelay after the first or
// at once when the batch is full, instead of a write transaction per
// activity (on SQLite, each waits its turn for the single writer).
//
// What an activity did is committed before it is added here; only the
// "done" mark waits. An activity waiting here is still pending and
// leased, so no worker or replica takes it again while the lease lasts.
// If the process dies before the batch is written, the lease runs out and
// the activity is processed again, as one that was in progress at the
// crash would be: processing is idempotent where it can be (a stored post
// is not stored twice, a membership is updated in place), and the batch
// widens that window by at most finishDelay.
type finisher struct {
	db  *storage.DB
	log *slog.Logger

	writing sync.Mutex // one write at a time, so that the final flush waits for a timed one

	mu        sync.Mutex
	ids       []int64
	unchanged []int64 // processed without changing anything: bodies dropped
	timer     *time.Timer
}

func (f *finisher) add(id int64) { f.record(id, true) }

// addUnchanged is add for an activity whose processing changed nothing:
// its body is dropped (storage.FinishUnchangedActivities).
func (f *finisher) addUnchanged(id int64) { f.record(id, false) }

func (f *finisher) record(id int64, changed bool) {
	f.mu.Lock()
	if changed {
		f.ids = append(f.ids, id)
	} else {
		f.unchanged = append(f.unchanged, id)
	}
	full := len(f.ids)+len(f.unchanged) >= finishBatch
	if !full && f.timer == nil {
		f.timer = time.AfterFunc(finishDelay, f.flush)
	}
	f.mu.Unlock()
	if full {
		f.flush()
	}
}

// flush writes what is waiting.
func (f *finisher) flush() {
	f.writing.Lock()
	defer f.writing.Unlock()
	f.mu.Lock()
	ids, unchanged := f.ids, f.unchanged
	f.ids, f.unchanged = nil, nil
	if f.timer != nil {
		f.timer.Stop()
		f.timer = nil
	}
	f.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Either failing, its activities are still pending: processed again
	// when the lease runs out.
	if len(ids) > 0 {
		if err := f.db.FinishActivities(ctx, ids); err != nil {
			f.log.Error("finish activities", "count", len(ids), "err", err)
		}
	}
	if len(unchanged) > 0 {
		if err := f.db.FinishUnchangedActivities(ctx, unchanged); err != nil {
			f.log.Error("finish activities", "count", len(unchanged), "err", err)
		}
	}
}
