// Package instance assembles one Commonplace process: the federation
// service with its outbound client, the inbox and delivery workers, and the
// HTTP server. The serve command and the multi-instance tests build
// processes the same way through it, so the tests run what ships.
package instance

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/delivery"
	"github.com/commonplace/commonplace/federation/events"
	"github.com/commonplace/commonplace/federation/media"
	"github.com/commonplace/commonplace/federation/push"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/server"
	"github.com/commonplace/commonplace/server/mastoapi"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/blob"
	"github.com/commonplace/commonplace/web"
)

// Instance is one process's federation machinery over an open database.
type Instance struct {
	Config   config.Config
	DB       *storage.DB
	Service  *federation.Service
	Server   *server.Server
	Delivery *delivery.Worker
	// Push sends Web Push notifications from their queue.
	Push *push.Worker
	// Events carries live events between this process's service and its
	// streaming clients, and between replicas.
	Events *events.Bus
	log    *slog.Logger
}

// New builds an instance over db, which must be migrated. It creates the
// instance actor on first start.
func New(ctx context.Context, cfg config.Config, db *storage.DB, log *slog.Logger) (*Instance, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	svc := federation.NewService(db, cfg.BaseURL(), log)
	bus := events.New(db, log.With("component", "events"))
	svc.Events = bus
	svc.KeyFetchConcurrency = cfg.PerHostConcurrency
	svc.PollUpdateDelay = cfg.PollUpdateDelay
	svc.SetInboxRates(cfg.InboxRatePerActor, cfg.InboxRatePerHost)
	svc.Client = transport.New(transport.Options{
		AllowPrivate: cfg.AllowPrivateAddresses,
		UserAgent:    fmt.Sprintf("Commonplace/%s (+%s)", server.Version, cfg.BaseURL()),
		MaxBodyBytes: cfg.MaxBodyBytes,
		Timeout:      cfg.RequestTimeout,
		Refuse:       svc.RefuseURL,
	})
	blobs, err := OpenBlobs(ctx, cfg)
	if err != nil {
		return nil, err
	}
	svc.Blobs, svc.MediaPublicBase = blobs, cfg.MediaPublicURL
	svc.MediaLimits = federation.MediaLimits{
		MaxImageBytes: cfg.MediaMaxImageBytes, MaxFileBytes: cfg.MediaMaxFileBytes, QuotaBytes: cfg.MediaQuotaBytes,
		FetchTimeout: max(cfg.RequestTimeout, time.Minute), RemoteAge: cfg.MediaRemoteMaxAge, NoRemoteCache: !cfg.MediaRemoteCache,
		Image: media.Limits{MaxPixels: int(cfg.MediaMaxPixels), OutputPixels: media.DefaultLimits.OutputPixels, ThumbPixels: media.DefaultLimits.ThumbPixels},
	}
	if _, err := svc.EnsureInstanceActor(ctx); err != nil {
		return nil, fmt.Errorf("instance actor: %w", err)
	}
	worker := delivery.New(db, svc.Client, delivery.Options{
		Workers:     cfg.DeliveryWorkers,
		PerHost:     cfg.PerHostConcurrency,
		Lease:       cfg.QueueLease,
		BaseBackoff: cfg.RetryBase,
		Policy:      svc.Policy,
		Logger:      log.With("component", "delivery"),
	})
	svc.Wake = worker.Notify
	keys, err := push.EnsureKeys(ctx, db)
	if err != nil {
		return nil, fmt.Errorf("Web Push keys: %w", err)
	}
	subscriber := cfg.BaseURL()
	if !strings.HasPrefix(subscriber, "https:") {
		subscriber = "webpush@" + cfg.Domain // the VAPID contact is an https URL or an address
	}
	pusher := push.New(db, svc.Client, keys, push.Options{
		Subscriber: subscriber, Base: cfg.BaseURL(), RetryBase: cfg.RetryBase, Lease: cfg.QueueLease,
		Logger: log.With("component", "push"),
	})
	svc.PushWake = pusher.Notify
	pages, err := web.New(web.Options{Config: cfg, Service: svc, Logger: log})
	if err != nil {
		return nil, fmt.Errorf("build web pages: %w", err)
	}
	srv, err := server.New(server.Options{Config: cfg, Service: svc, Logger: log, Pages: pages})
	if err != nil {
		return nil, fmt.Errorf("build server: %w", err)
	}
	if err := mastoapi.Mount(srv, svc, cfg, log); err != nil {
		return nil, fmt.Errorf("mount client API: %w", err)
	}
	hideHosts := func(ctx context.Context) bool {
		m, err := svc.Policy.Mode(ctx)
		return err != nil || m == storage.ModeAllowlist
	}
	if err := srv.Metrics().Register(newOpsCollector(db, worker, hideHosts)); err != nil {
		return nil, fmt.Errorf("register metrics: %w", err)
	}
	return &Instance{Config: cfg, DB: db, Service: svc, Server: srv, Delivery: worker, Push: pusher, Events: bus, log: log}, nil
}

// OpenBlobs opens the media store the configuration names: an
// S3-compatible bucket, or the media directory.
func OpenBlobs(ctx context.Context, cfg config.Config) (blob.Store, error) {
	if cfg.MediaS3Endpoint == "" {
		return blob.NewLocal(cfg.MediaPath())
	}
	return blob.NewS3(ctx, blob.S3Options{
		Endpoint: cfg.MediaS3Endpoint, TLS: cfg.MediaS3TLS, Region: cfg.MediaS3Region, Bucket: cfg.MediaS3Bucket,
		AccessKey: cfg.MediaS3AccessKey, SecretKey: cfg.MediaS3SecretKey, Prefix: cfg.MediaS3Prefix,
	})
}

// Run runs the inbox and delivery workers (and the pruner, the poll closer and
// the prober of peers' software) until ctx is done and returns when all have stopped. Every replica runs them; the database keeps them
// from doing the same work twice.
func (i *Instance) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Add(3)
	go func() {
		defer wg.Done()
		errs[2] = i.Events.Run(ctx)
	}()
	go func() {
		defer wg.Done()
		errs[0] = i.Service.RunInbox(ctx, federation.InboxOptions{
			Workers: i.Config.InboxWorkers, Lease: i.Config.QueueLease, RetryBase: i.Config.RetryBase,
		})
	}()
	go func() {
		defer wg.Done()
		errs[1] = i.Delivery.Run(ctx)
	}()
	wg.Add(3)
	go func() {
		defer wg.Done()
		i.prune(ctx)
	}()
	go func() {
		defer wg.Done()
		i.Service.RunPolls(ctx, federation.PollOptions{})
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := i.Push.Run(ctx); err != nil && ctx.Err() == nil {
			i.log.Error("push worker", "err", err)
		}
	}()
	go func() {
		defer wg.Done()
		i.Service.RunPeerProbes(ctx)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		i.Service.IndexMissing(ctx) // posts stored before the search index
	}()
	wg.Wait()
	for _, err := range errs {
		if err != nil && ctx.Err() == nil {
			return err
		}
	}
	return nil
}

// Finished queue rows are kept for a week, for operators to look into,
// then removed in batches every hour so that the tables stay small.
const (
	keepFinished = 7 * 24 * time.Hour
	pruneEvery   = time.Hour
	pruneBatch   = 10000
)

// prune removes old finished queue rows until ctx is done. Replicas may
// prune at the same time; the deletes do not conflict.
func (i *Instance) prune(ctx context.Context) {
	t := time.NewTimer(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for ctx.Err() == nil {
			r, err := i.DB.Prune(ctx, time.Now().Add(-keepFinished), pruneBatch)
			if err != nil {
				i.log.Warn("prune finished queue rows", "err", err)
				break
			}
			if r.Activities+r.Deliveries > 0 {
				i.log.Info("pruned finished queue rows", "activities", r.Activities, "deliveries", r.Deliveries)
			}
			sessions, err := i.DB.DeleteExpiredSessions(ctx, time.Now(), pruneBatch)
			if err != nil {
				i.log.Warn("prune expired sessions", "err", err)
			}
			if _, err := i.DB.DeleteExpiredOIDCLogins(ctx, time.Now(), pruneBatch); err != nil {
				i.log.Warn("prune expired sign-ins through the identity provider", "err", err)
			}
			if n, err := i.Service.PruneUnattachedMedia(ctx, time.Now().Add(-federation.UnattachedMediaAge), pruneBatch); err != nil {
				i.log.Warn("prune unattached uploads", "err", err)
			} else if n > 0 {
				i.log.Info("pruned unattached uploads", "media", n)
			}
			if n, err := i.Service.PruneRemoteMedia(ctx, time.Now().Add(-i.Config.MediaRemoteMaxAge), pruneBatch); err != nil {
				i.log.Warn("prune cached remote media", "err", err)
			} else if n > 0 {
				i.log.Info("pruned cached remote media", "media", n)
			}
			if r.Activities < pruneBatch && r.Deliveries < pruneBatch && sessions < pruneBatch {
				break
			}
		}
		t.Reset(pruneEvery)
	}
}
