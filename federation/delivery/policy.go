package delivery

import (
	"context"
	"errors"
	"log/slog"

	"github.com/commonplace/commonplace/storage"
)

// HostPolicy is the part of the federation policy the worker needs:
// whether a host may still be delivered to.
type HostPolicy interface {
	AllowHost(ctx context.Context, host string) (bool, error)
}

// hostsPreparer is a HostPolicy that can decide for many hosts in one go
// and cache the decisions, so that the AllowHost calls for a claimed
// batch of deliveries that follow are answered from its cache.
type hostsPreparer interface {
	PrepareHosts(ctx context.Context, hosts []string) error
}

// prepareHosts decides for the hosts of a claimed batch at once. A
// failure is only logged: each delivery's own check handles it.
func (w *Worker) prepareHosts(ctx context.Context, ds []storage.Delivery) {
	p, ok := w.opts.Policy.(hostsPreparer)
	if !ok || len(ds) < 2 {
		return
	}
	hosts := make([]string, len(ds))
	for i, d := range ds {
		hosts[i] = d.Host
	}
	if err := p.PrepareHosts(ctx, hosts); err != nil && ctx.Err() == nil {
		w.log.Warn("check federation policy for a batch", "err", err)
	}
}

// refused re-checks the federation policy at send time and drops the
// delivery if its host is refused: the policy may have changed since the
// row was queued, on this replica or another. It reports whether the
// delivery was dealt with (dropped, or released after a policy error).
func (w *Worker) refused(ctx context.Context, log *slog.Logger, d storage.Delivery) bool {
	if w.opts.Policy == nil {
		return false
	}
	ok, err := w.opts.Policy.AllowHost(ctx, d.Host)
	if ok && err == nil {
		return false
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	if err != nil {
		log.Error("check federation policy", "err", err)
		if rerr := w.db.ReleaseDeliveries(mctx, d.ID); rerr != nil {
			log.Error("release delivery", "err", rerr)
		}
		return true
	}
	w.dropped.Add(1)
	log.Info("delivery dropped: the federation policy refuses the host")
	if err := w.db.DropDelivery(mctx, d.ID, "refused by federation policy"); err != nil && !errors.Is(err, storage.ErrNotFound) {
		log.Error("drop delivery", "err", err)
	}
	return true
}
