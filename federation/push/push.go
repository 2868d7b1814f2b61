// Package push delivers notifications to apps by Web Push, as Mastodon
// does: the VAPID key pair the instance makes on its first start (RFC
// 8292), each notification a JSON payload in Mastodon's shape encrypted
// to the app's subscription (RFC 8291, aes128gcm) by webpush-go, sent from
// a queue in the database (storage.ClaimPushes) with retries; a push
// service that answers 404 or 410 has dropped the subscription, and so do
// we.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/SherClockHolmes/webpush-go"

	"github.com/commonplace/commonplace/federation/sanitize"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/storage"
)

// KeyName names the VAPID key pair among the instance's keys.
const KeyName = "vapid"

// EnsureKeys returns the instance's VAPID key pair, made on the first
// start (base64url: the public key as apps pass it to the browser's
// PushManager, the private key as webpush-go reads it).
func EnsureKeys(ctx context.Context, db *storage.DB) (*storage.InstanceKey, error) {
	if k, err := db.GetInstanceKey(ctx, KeyName); err == nil {
		return k, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	priv, pub, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		return nil, fmt.Errorf("generate VAPID keys: %w", err)
	}
	return db.EnsureInstanceKey(ctx, &storage.InstanceKey{Name: KeyName, PublicKey: pub, PrivateKey: priv})
}

// Options tune a Worker. Zero values take the defaults.
type Options struct {
	Workers     int           // concurrent pushes (default 4)
	Poll        time.Duration // how often to look for work without a wake-up (default 5s)
	Lease       time.Duration // how long a claimed push is ours (default 1m)
	RetryBase   time.Duration // first retry delay, doubled per attempt (default 30s)
	MaxAttempts int           // then the push is given up (default 8)
	// Subscriber is the VAPID contact: an https URL or an e-mail address.
	Subscriber string
	// Base is the instance's URL (for the sender's picture).
	Base   string
	Logger *slog.Logger
}

// Mastodon keeps a push 48 hours at the push service.
const pushTTL = 48 * 60 * 60

// maxResponseBytes bounds what is read of a push service's answer.
const maxResponseBytes = 64 << 10

// Worker sends queued pushes.
type Worker struct {
	db     *storage.DB
	client webpush.HTTPClient
	keys   *storage.InstanceKey
	opts   Options
	wake   chan struct{}
}

// New returns a worker that sends through client (the guarded transport).
func New(db *storage.DB, client webpush.HTTPClient, keys *storage.InstanceKey, o Options) *Worker {
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 30 * time.Second
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{db: db, client: client, keys: keys, opts: o, wake: make(chan struct{}, 1)}
}

// Notify wakes the worker after pushes were queued. It never blocks.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends pushes until ctx is done, then waits for those in flight.
func (w *Worker) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-w.wake:
		}
		for ctx.Err() == nil {
			batch, err := w.db.ClaimPushes(ctx, time.Now(), w.opts.Lease, w.opts.Workers)
			if err != nil {
				if ctx.Err() == nil {
					w.opts.Logger.Error("claim pushes", "err", err)
				}
				break
			}
			for _, d := range batch {
				wg.Add(1)
				go func() {
					defer wg.Done()
					w.sendOne(context.WithoutCancel(ctx), d)
				}()
			}
			wg.Wait()
			if len(batch) < w.opts.Workers {
				break
			}
		}
		t.Reset(w.opts.Poll)
	}
}

// sendOne sends one push and records the outcome.
func (w *Worker) sendOne(ctx context.Context, d storage.PushDelivery) {
	log := w.opts.Logger.With("push", d.ID, "subscription", d.SubscriptionID, "notification", d.NotificationID, "attempt", d.Attempts)
	finish := func() {
		if err := w.db.FinishPush(ctx, d.ID); err != nil {
			log.Error("finish push", "err", err)
		}
	}
	sub, live, err := w.db.GetPushSubscriptionByID(ctx, d.SubscriptionID)
	if errors.Is(err, storage.ErrNotFound) {
		finish()
		return
	} else if err != nil {
		w.retry(ctx, d, err, log)
		return
	}
	if !live {
		// The token was revoked: its subscription goes with it.
		w.drop(ctx, sub, log)
		return
	}
	n, err := w.db.GetNotification(ctx, sub.ActorID, d.NotificationID)
	if errors.Is(err, storage.ErrNotFound) {
		finish() // dismissed meanwhile
		return
	} else if err != nil {
		w.retry(ctx, d, err, log)
		return
	}
	payload, err := w.payload(ctx, sub, n)
	if err != nil {
		w.retry(ctx, d, err, log)
		return
	}
	resp, err := webpush.SendNotificationWithContext(ctx, payload, &webpush.Subscription{
		Endpoint: sub.Endpoint, Keys: webpush.Keys{Auth: sub.KeyAuth, P256dh: sub.KeyP256dh},
	}, &webpush.Options{
		HTTPClient: w.client, Subscriber: w.opts.Subscriber, TTL: pushTTL, Urgency: webpush.UrgencyNormal,
		VAPIDPublicKey: w.keys.PublicKey, VAPIDPrivateKey: w.keys.PrivateKey,
	})
	if err != nil {
		if errors.Is(err, transport.ErrForbiddenAddress) || errors.Is(err, transport.ErrBadURL) {
			log.Info("push endpoint refused", "err", err)
			w.drop(ctx, sub, log)
			return
		}
		w.retry(ctx, d, err, log)
		return
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxResponseBytes))
	resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		log.Debug("pushed")
		finish()
	case code == http.StatusNotFound || code == http.StatusGone:
		log.Info("push subscription gone", "status", code)
		w.drop(ctx, sub, log)
	case code == http.StatusTooManyRequests || code == http.StatusRequestTimeout || code >= 500:
		w.retry(ctx, d, fmt.Errorf("push service answered %d", code), log)
	default:
		log.Info("push refused", "status", code)
		finish()
	}
}

// drop removes a subscription, and with it its queued pushes.
func (w *Worker) drop(ctx context.Context, sub *storage.PushSubscription, log *slog.Logger) {
	if err := w.db.DeletePushSubscription(ctx, sub.ID); err != nil {
		log.Error("remove push subscription", "err", err)
	}
}

// retry schedules another attempt, or gives up after MaxAttempts.
func (w *Worker) retry(ctx context.Context, d storage.PushDelivery, cause error, log *slog.Logger) {
	if d.Attempts >= w.opts.MaxAttempts {
		log.Info("push given up", "err", cause)
		if err := w.db.FinishPush(ctx, d.ID); err != nil {
			log.Error("finish push", "err", err)
		}
		return
	}
	delay := time.Duration(float64(w.opts.RetryBase<<(d.Attempts-1)) * (0.5 + rand.Float64()))
	log.Warn("push will be retried", "err", cause, "in", delay)
	if err := w.db.RetryPush(ctx, d.ID, time.Now().Add(delay), cause.Error()); err != nil {
		log.Error("retry push", "err", err)
	}
}

// Payload is Mastodon's push payload (Web::NotificationSerializer).
type Payload struct {
	AccessToken      string `json:"access_token"`
	PreferredLocale  string `json:"preferred_locale"`
	NotificationID   int64  `json:"notification_id"`
	NotificationType string `json:"notification_type"`
	Icon             string `json:"icon"`
	Title            string `json:"title"`
	Body             string `json:"body"`
}

// titles are Mastodon's English notification subjects.
var titles = map[string]string{
	storage.NotifyMention:       "%s mentioned you",
	storage.NotifyFollow:        "%s is now following you",
	storage.NotifyFollowRequest: "Pending follower: %s",
	storage.NotifyFavourite:     "%s favorited your post",
	storage.NotifyReblog:        "%s boosted your post",
	storage.NotifyPoll:          "A poll by %s has ended",
}

// maxBody is the length Mastodon truncates a push's text to.
const maxBody = 140

func (w *Worker) payload(ctx context.Context, sub *storage.PushSubscription, n *storage.Notification) ([]byte, error) {
	from := n.FromActor
	if from == nil {
		return nil, fmt.Errorf("notification %d has no sender", n.ID)
	}
	name := from.DisplayName
	if name == "" {
		name = from.Username
	}
	title, ok := titles[n.Type]
	if !ok {
		title = "%s"
	}
	text := from.Summary
	if n.ObjectID > 0 {
		o, err := w.db.GetObjectByID(ctx, n.ObjectID)
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
		if err == nil {
			text = o.Content
			if o.Summary != "" {
				text = o.Summary
			}
		}
	}
	locale := "en"
	if acct, err := w.db.GetAccountByActorID(ctx, sub.ActorID); err == nil && acct.DefaultLanguage != "" {
		locale = acct.DefaultLanguage
	}
	return json.Marshal(Payload{
		AccessToken: sub.AccessToken, PreferredLocale: locale, NotificationID: n.ID, NotificationType: n.Type,
		Icon:  strings.TrimSuffix(w.opts.Base, "/") + "/avatars/original/missing.png",
		Title: fmt.Sprintf(title, name), Body: truncate(sanitize.PlainText(text, 0), maxBody),
	})
}

// truncate shortens s to n characters with an ellipsis, as Rails does.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-3])) + "..."
}
