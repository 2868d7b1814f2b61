package push_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/push"
	"github.com/commonplace/commonplace/federation/push/pushtest"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// A push service that is down (503) gets the push again later; once it
// answers, the push is sent once and leaves the queue. A push to a
// private address is refused by the transport's guard and its
// subscription dropped.
func TestPushRetriedAndGuarded(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t, storage.SQLite)
	keys, err := push.EnsureKeys(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := push.EnsureKeys(ctx, db); err != nil || again.PrivateKey != keys.PrivateKey {
		t.Fatalf("keys made twice: %v", err)
	}
	ana := &storage.Actor{URI: "http://example.test/u/ana", Type: storage.TypePerson, Username: "ana", Domain: "example.test", Local: true,
		InboxURI: "http://example.test/u/ana/inbox", KeyID: "http://example.test/u/ana#main-key", PublicKeyPEM: "pem"}
	bo := &storage.Actor{URI: "http://example.test/u/bo", Type: storage.TypePerson, Username: "bo", DisplayName: "Bo", Domain: "example.test", Local: true,
		InboxURI: "http://example.test/u/bo/inbox", KeyID: "http://example.test/u/bo#main-key", PublicKeyPEM: "pem"}
	for _, a := range []*storage.Actor{ana, bo} {
		if err := db.CreateAccount(ctx, a, &storage.Account{Email: a.Username + "@example.test", Approved: true}); err != nil {
			t.Fatal(err)
		}
	}
	acct, err := db.GetAccountByUsername(ctx, "ana")
	if err != nil {
		t.Fatal(err)
	}
	subscribe := func(tokenHash, endpoint, p256dh, auth string) {
		tok := &storage.OAuthToken{TokenHash: tokenHash, AccountID: &acct.ID, Scopes: "push", CreatedAt: time.Now()}
		if err := db.CreateOAuthToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if err := db.PutPushSubscription(ctx, &storage.PushSubscription{TokenID: tok.ID, ActorID: ana.ID, AccessToken: "tok-" + tokenHash,
			Endpoint: endpoint, KeyP256dh: p256dh, KeyAuth: auth, Alerts: map[string]bool{storage.NotifyFollow: true}, Policy: storage.PushPolicyAll}); err != nil {
			t.Fatal(err)
		}
	}
	ps := pushtest.New(t)
	ps.AnswerWith(http.StatusServiceUnavailable)
	subscribe("h1", ps.Endpoint(), ps.P256dh(), ps.Auth())
	n := &storage.Notification{RecipientActorID: ana.ID, Type: storage.NotifyFollow, FromActorID: bo.ID}
	if _, err := db.PutNotification(ctx, n); err != nil {
		t.Fatal(err)
	}
	if queued, err := db.EnqueuePushes(ctx, n); err != nil || queued != 1 {
		t.Fatalf("queued %d %v", queued, err)
	}

	client := transport.New(transport.Options{AllowPrivate: true, Timeout: 5 * time.Second})
	w := push.New(db, client, keys, push.Options{Subscriber: "webpush@example.test", Base: "http://example.test",
		RetryBase: 10 * time.Millisecond, Poll: 10 * time.Millisecond})
	stop := start(t, w)
	waitFor(t, "a second attempt after the 503", func() bool { return ps.Attempts() >= 2 })
	ps.AnswerWith(http.StatusCreated)
	waitFor(t, "the push delivered", func() bool { return len(ps.Pushes()) == 1 })
	var p push.Payload
	if err := json.Unmarshal(ps.Pushes()[0].Plain, &p); err != nil {
		t.Fatal(err)
	}
	if p.NotificationID != n.ID || p.NotificationType != "follow" || p.Title != "Bo is now following you" || p.AccessToken != "tok-h1" {
		t.Fatalf("payload %+v", p)
	}
	waitFor(t, "the queue empty", func() bool {
		left, err := db.ClaimPushes(ctx, time.Now().Add(time.Hour), time.Minute, 10)
		return err == nil && len(left) == 0
	})
	if got := len(ps.Pushes()); got != 1 {
		t.Fatalf("%d pushes delivered, want 1", got)
	}

	// A guarded client refuses a loopback endpoint: the subscription goes.
	guarded := push.New(db, transport.New(transport.Options{Timeout: 5 * time.Second}), keys, push.Options{Subscriber: "webpush@example.test", Poll: 10 * time.Millisecond})
	stop()
	subscribe("h2", "http://127.0.0.1:9/push", ps.P256dh(), ps.Auth())
	if err := db.DeletePushSubscription(ctx, mustSub(t, db, "h1")); err != nil {
		t.Fatal(err)
	}
	n2 := &storage.Notification{RecipientActorID: ana.ID, Type: storage.NotifyFollow, FromActorID: bo.ID, ObjectID: 1}
	if _, err := db.PutNotification(ctx, n2); err != nil {
		t.Fatal(err)
	}
	if queued, err := db.EnqueuePushes(ctx, n2); err != nil || queued != 1 {
		t.Fatalf("queued %d %v", queued, err)
	}
	start(t, guarded)
	waitFor(t, "the subscription to a private address dropped", func() bool {
		var n int64
		db.Gorm(ctx).Table("push_subscriptions").Count(&n)
		return n == 0
	})
}

// start runs w until the returned function (or the test's end) stops it.
func start(t *testing.T, w *push.Worker) func() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	var stopped bool
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}

func mustSub(t *testing.T, db *storage.DB, tokenHash string) int64 {
	t.Helper()
	tok, err := db.GetOAuthToken(context.Background(), tokenHash)
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.GetPushSubscription(context.Background(), tok.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s.ID
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}
