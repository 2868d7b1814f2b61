package storage

import (
	"context"
	"strings"
	"sync/atomic"

	"gorm.io/gorm"
)

// Writes tells whether any statement run under a context changed rows:
// the inbound queue keeps an activity's body only when processing it
// changed something (see FinishActivity). It counts every create, update
// and delete that affected rows, and every raw statement that is not a
// plain SELECT, so it errs on the side of "changed".
type Writes struct{ n atomic.Int64 }

// Changed reports whether anything was written.
func (w *Writes) Changed() bool { return w.n.Load() > 0 }

type writesKey struct{}

// TrackWrites returns a context under which this package's writes are
// counted in the returned Writes.
func TrackWrites(ctx context.Context) (context.Context, *Writes) {
	w := &Writes{}
	return context.WithValue(ctx, writesKey{}, w), w
}

// registerWriteTracking installs the callbacks that feed Writes.
func registerWriteTracking(g *gorm.DB) error {
	affected := func(tx *gorm.DB) {
		if w := writesOf(tx); w != nil && tx.Error == nil && tx.RowsAffected > 0 {
			w.n.Add(1)
		}
	}
	// A raw statement run through Scan or Rows (an UPDATE ... RETURNING,
	// an INSERT ... RETURNING) has no reliable RowsAffected: anything
	// but a SELECT counts as a write.
	statement := func(tx *gorm.DB) {
		if w := writesOf(tx); w != nil && tx.Error == nil && !isSelect(tx.Statement.SQL.String()) {
			w.n.Add(1)
		}
	}
	cb := g.Callback()
	for _, err := range []error{
		cb.Create().After("gorm:create").Register("commonplace:writes", affected),
		cb.Update().After("gorm:update").Register("commonplace:writes", affected),
		cb.Delete().After("gorm:delete").Register("commonplace:writes", affected),
		cb.Raw().After("gorm:raw").Register("commonplace:writes", affected),
		cb.Row().After("gorm:row").Register("commonplace:writes", statement),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func writesOf(tx *gorm.DB) *Writes {
	if tx.Statement == nil || tx.Statement.Context == nil {
		return nil
	}
	w, _ := tx.Statement.Context.Value(writesKey{}).(*Writes)
	return w
}

func isSelect(sql string) bool {
	sql = strings.TrimLeft(sql, " \t\r\n(")
	return len(sql) >= 6 && strings.EqualFold(sql[:6], "SELECT")
}
