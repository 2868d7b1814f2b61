// Package delivery sends queued activities to remote inboxes.
//
// The queue is the deliveries table (see storage.EnqueueDeliveries): rows
// survive restarts, and workers on every replica claim them with a lease,
// so a delivery is sent by one worker at a time and resumed by another if
// its worker dies. Each process bounds its concurrent requests overall and
// per remote host; failures are retried on an exponential schedule with
// jitter, and a host that keeps failing is backed off as a whole.
package delivery

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/storage"
)

// Defaults for Options.
const (
	// DefaultWorkers: a delivery mostly waits on the remote server, so
	// the workers, not the cores, bound a fan-out to distant servers (at
	// 50 ms an answer, 1,000 hosts took 4.1 s with 16 and 1.6 s with 64);
	// and since the next claim waits for a quarter of them to be free, 64
	// claim 16 rows at a time, a quarter of the claims that 16 workers
	// made (docs/benchmarks.md, round 8: fan-out).
	DefaultWorkers       = 64
	DefaultPerHost       = 4
	DefaultLease         = 2 * time.Minute
	DefaultPollInterval  = time.Second
	DefaultMaxAge        = 48 * time.Hour
	DefaultBaseBackoff   = 30 * time.Second
	DefaultMaxBackoff    = 6 * time.Hour
	DefaultShutdownGrace = 15 * time.Second

	// markTimeout bounds the database writes that end a delivery; they run
	// after shutdown has begun, so they cannot use the run context.
	markTimeout = 10 * time.Second
)

// Options configures a Worker. Zero values take the defaults.
type Options struct {
	// Workers bounds concurrent deliveries in this process.
	Workers int
	// PerHost bounds concurrent deliveries to one remote host in this
	// process, so a fan-out does not flood one server.
	PerHost int
	// Lease is how long a claimed delivery stays with this process. It
	// must outlast a request (the transport's timeout): when it runs out,
	// another worker may send the delivery again.
	Lease time.Duration
	// PollInterval is how often the queue is checked when Notify is not
	// called, e.g. for retries coming due and work enqueued by replicas.
	PollInterval time.Duration
	// MaxAge is how long a delivery is retried before it is given up.
	MaxAge time.Duration
	// BaseBackoff is the retry delay after a first failure, doubled for
	// every further attempt up to MaxBackoff, with full jitter.
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// ShutdownGrace bounds how long Run waits for requests in flight when
	// its context ends before it cancels them.
	ShutdownGrace time.Duration
	// MarkBatch and MarkDelay bound how many successful deliveries, and
	// for how long, wait to be recorded in one write (see marker). A
	// crash re-sends at most MarkBatch deliveries, once their lease ends.
	MarkBatch int
	MarkDelay time.Duration
	// Policy, when set, is asked before every POST: a delivery to a host
	// the federation policy now refuses is dropped, not sent.
	Policy HostPolicy
	Logger *slog.Logger
	// Now is the clock; tests replace it.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.PerHost <= 0 {
		o.PerHost = DefaultPerHost
	}
	def(&o.Lease, DefaultLease)
	def(&o.PollInterval, DefaultPollInterval)
	def(&o.MaxAge, DefaultMaxAge)
	def(&o.BaseBackoff, DefaultBaseBackoff)
	def(&o.MaxBackoff, DefaultMaxBackoff)
	def(&o.ShutdownGrace, DefaultShutdownGrace)
	def(&o.MarkDelay, DefaultMarkDelay)
	if o.MarkBatch <= 0 {
		o.MarkBatch = DefaultMarkBatch
	}
	if o.Logger == nil {
		o.Logger = slog.Default().With("component", "delivery")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Stats counts outcomes of delivery attempts since the Worker was built.
type Stats struct {
	Delivered int64 // accepted by the inbox, and recorded so
	Retried   int64 // failed, scheduled again
	Failed    int64 // given up: refused, unreachable for good, or too old
	Dropped   int64 // not sent: the federation policy refuses the host
}

// Worker claims due deliveries and sends them. Build it with New and start
// it with Run.
type Worker struct {
	db      *storage.DB
	client  *transport.Client
	opts    Options
	log     *slog.Logger
	wake    chan struct{}
	signers *signerCache
	bodies  *bodyCache
	marker  *marker

	mu      sync.Mutex
	active  int            // deliveries in flight
	perHost map[string]int // deliveries in flight by host
	// backlog is set when the last claim suggests more rows are due, so
	// that finishing a delivery claims the next at once.
	backlog bool

	delivered, retried, failed atomic.Int64
	dropped                    atomic.Int64
}

// New returns a Worker that takes deliveries from db and sends them with
// client.
func New(db *storage.DB, client *transport.Client, opts Options) *Worker {
	opts = opts.withDefaults()
	w := &Worker{
		db:      db,
		client:  client,
		opts:    opts,
		log:     opts.Logger,
		wake:    make(chan struct{}, 1),
		signers: newSignerCache(256),
		bodies:  newBodyCache(64),
		perHost: make(map[string]int),
	}
	w.marker = newMarker(db, opts.Logger, opts.MarkBatch, opts.MarkDelay, func(n int64) { w.delivered.Add(n) })
	return w
}

// Notify wakes the worker to claim at once, e.g. right after deliveries
// were enqueued, instead of at the next poll. It never blocks.
func (w *Worker) Notify() {
	w.mu.Lock()
	// If every slot is busy now, claim as soon as some are free.
	w.backlog = true
	w.mu.Unlock()
	w.signal()
}

func (w *Worker) signal() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Stats returns the outcome counters.
func (w *Worker) Stats() Stats {
	return Stats{Delivered: w.delivered.Load(), Retried: w.retried.Load(), Failed: w.failed.Load(), Dropped: w.dropped.Load()}
}

// Run delivers until ctx ends, then waits up to ShutdownGrace for requests
// in flight and cancels the rest; their rows are released for the next
// run. It returns nil after a shutdown.
func (w *Worker) Run(ctx context.Context) error {
	// Requests outlive ctx by up to ShutdownGrace, so a shutdown does not
	// cut short requests that are nearly done (and would be sent twice).
	flight, cancelFlight := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelFlight()
	var wg sync.WaitGroup
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		w.claim(ctx, flight, &wg)
		poll.Reset(w.opts.PollInterval)
		select {
		case <-ctx.Done():
			return w.shutdown(&wg, cancelFlight)
		case <-w.wake:
		case <-poll.C:
		}
	}
}

func (w *Worker) shutdown(wg *sync.WaitGroup, cancelFlight context.CancelFunc) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	grace := time.NewTimer(w.opts.ShutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
		w.log.Warn("cancelling deliveries in flight at shutdown")
		cancelFlight()
		<-done // the transport returns promptly once its context ends
	}
	// Every delivery has ended: record the successes still waiting.
	w.marker.flush()
	return nil
}

// claim starts as many due deliveries as there are free slots for.
func (w *Worker) claim(ctx, flight context.Context, wg *sync.WaitGroup) {
	// Rows handed back because their host filled up are retried at once;
	// the next claim excludes that host, so this ends.
	for w.claimBatch(ctx, flight, wg) {
	}
}

// claimBatch claims once and starts what it can. It reports whether rows
// were handed back for lack of room on their host.
func (w *Worker) claimBatch(ctx, flight context.Context, wg *sync.WaitGroup) bool {
	if ctx.Err() != nil {
		return false
	}
	free, full := w.capacity()
	if free == 0 {
		return false
	}
	ds, err := w.db.ClaimDeliveries(ctx, w.opts.Now(), w.opts.Lease, free, full)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("claim deliveries", "err", err)
		}
		return false
	}
	// A batch may hold more rows for one host than it has room for; those
	// go back at once for another replica, or for this one once there is
	// room (the next claim excludes the host).
	w.prepareHosts(ctx, ds)
	var release []int64
	for _, d := range ds {
		if !w.acquire(d.Host) {
			release = append(release, d.ID)
			continue
		}
		wg.Go(func() {
			defer w.finish(d.Host)
			w.deliver(flight, d)
		})
	}
	if len(release) > 0 {
		mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
		defer cancel()
		if err := w.db.ReleaseDeliveries(mctx, release...); err != nil {
			w.log.Error("release deliveries", "count", len(release), "err", err)
		}
	}
	w.mu.Lock()
	w.backlog = len(ds) == free || len(release) > 0 || len(full) > 0
	w.mu.Unlock()
	return len(release) > 0
}

// capacity returns the free delivery slots and the hosts that have none.
func (w *Worker) capacity() (free int, full []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for h, n := range w.perHost {
		if n >= w.opts.PerHost {
			full = append(full, h)
		}
	}
	return w.opts.Workers - w.active, full
}

func (w *Worker) acquire(host string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.perHost[host] >= w.opts.PerHost || w.active >= w.opts.Workers {
		return false
	}
	w.perHost[host]++
	w.active++
	return true
}

func (w *Worker) finish(host string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.active--
	if w.perHost[host]--; w.perHost[host] <= 0 {
		delete(w.perHost, host)
	}
	// Claim the next rows only once a quarter of the slots are free: one
	// claim per finished delivery would double the queries of a fan-out.
	if w.backlog && w.opts.Workers-w.active >= max(1, w.opts.Workers/4) {
		w.signal()
	}
}

// deliver sends one delivery and records the outcome.
func (w *Worker) deliver(ctx context.Context, d storage.Delivery) {
	log := w.log.With("delivery", d.ID, "host", d.Host, "attempt", d.Attempts+1)
	if w.refused(ctx, log, d) {
		return
	}
	body, signer, err := w.prepare(ctx, d)
	if err == nil {
		err = w.client.Post(ctx, d.InboxURI, body, signer)
	}
	mctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), markTimeout)
	defer cancel()
	if err != nil && ctx.Err() != nil {
		// Cut short by shutdown: not the remote's fault, so no attempt is
		// counted and the row is free for the next run at once.
		if rerr := w.db.ReleaseDeliveries(mctx, d.ID); rerr != nil {
			log.Error("release delivery", "err", rerr)
		}
		return
	}
	w.record(mctx, log, d, err)
}

func (w *Worker) record(ctx context.Context, log *slog.Logger, d storage.Delivery, sendErr error) {
	if sendErr == nil {
		log.Debug("delivered", "inbox", d.InboxURI)
		// Recorded in a batch, as MarkDelivered with status 0 ("some
		// 2xx": transport.Post reports no status on success) and
		// RecordHostSuccess would.
		w.marker.add(d.ID, d.Host)
		return
	}
	o := classify(sendErr)
	log = log.With("status", o.status, "inbox", d.InboxURI)
	now := w.opts.Now()
	switch {
	case !o.retry:
		w.failed.Add(1)
		if o.status == 410 {
			log.Info("delivery refused: recipient is gone")
		} else {
			log.Info("delivery failed for good", "err", sendErr)
		}
		w.mark(log, w.db.MarkFailed(ctx, d.ID, o.status, sendErr.Error()))
	case now.Sub(d.CreatedAt) >= w.opts.MaxAge:
		w.failed.Add(1)
		log.Warn("delivery expired", "age", now.Sub(d.CreatedAt).Round(time.Second), "err", sendErr)
		w.mark(log, w.db.MarkFailed(ctx, d.ID, o.status, "expired: "+sendErr.Error()))
	default:
		w.retried.Add(1)
		delay := retryDelay(d.Attempts, o.retryAfter, w.opts.BaseBackoff, w.opts.MaxBackoff)
		log.Info("delivery failed, will retry", "in", delay.Round(time.Millisecond), "err", sendErr)
		w.mark(log, w.db.MarkRetry(ctx, d.ID, o.status, sendErr.Error(), now.Add(delay)))
	}
	if o.hostFault {
		w.marker.hostFailed(d.Host)
		n, err := w.db.RecordHostFailure(ctx, d.Host, now)
		if err != nil {
			log.Error("record host failure", "err", err)
		} else if b := storage.HostBackoff(n); b > 0 {
			log.Warn("host keeps failing, backed off", "failures", n, "backoff", b)
		}
	}
}

func (w *Worker) mark(log *slog.Logger, err error) {
	switch {
	case err == nil:
	case errors.Is(err, storage.ErrNotFound):
		// Dropped (or deleted with its activity) while in flight.
		log.Debug("delivery no longer pending", "err", err)
	default:
		log.Error("record delivery outcome", "err", err)
	}
}
