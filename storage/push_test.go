package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func TestWebPushQueue(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()

		// The first key made is the one every replica reads.
		first, err := db.EnsureInstanceKey(ctx, &storage.InstanceKey{Name: "vapid", PublicKey: "pub1", PrivateKey: "priv1"})
		if err != nil {
			t.Fatal(err)
		}
		second, err := db.EnsureInstanceKey(ctx, &storage.InstanceKey{Name: "vapid", PublicKey: "pub2", PrivateKey: "priv2"})
		if err != nil || second.PublicKey != "pub1" || first.PrivateKey != "priv1" {
			t.Fatalf("second start got %+v %v", second, err)
		}

		ana, bo, cy := localActor("ana", storage.TypePerson), localActor("bo", storage.TypePerson), localActor("cy", storage.TypePerson)
		for _, a := range []*storage.Actor{ana, bo, cy} {
			if err := db.CreateAccount(ctx, a, &storage.Account{Email: a.Username + "@example.test", Approved: true}); err != nil {
				t.Fatal(err)
			}
		}
		acct, err := db.GetAccountByUsername(ctx, "ana")
		if err != nil {
			t.Fatal(err)
		}
		token := func(hash string) *storage.OAuthToken {
			tok := &storage.OAuthToken{TokenHash: hash, AccountID: &acct.ID, Scopes: "push", CreatedAt: time.Now()}
			if err := db.CreateOAuthToken(ctx, tok); err != nil {
				t.Fatal(err)
			}
			return tok
		}
		phone, laptop := token("h1"), token("h2")
		subscribe := func(tok *storage.OAuthToken, alerts map[string]bool, policy string) *storage.PushSubscription {
			s := &storage.PushSubscription{TokenID: tok.ID, ActorID: ana.ID, AccessToken: "raw", Endpoint: "https://push.example/x",
				KeyP256dh: "k", KeyAuth: "a", Alerts: alerts, Policy: policy}
			if err := db.PutPushSubscription(ctx, s); err != nil {
				t.Fatal(err)
			}
			return s
		}
		subscribe(phone, map[string]bool{storage.NotifyFavourite: true}, storage.PushPolicyAll)
		// A second subscription for the same token replaces the first.
		onPhone := subscribe(phone, map[string]bool{storage.NotifyMention: true}, storage.PushPolicyAll)
		if got, err := db.GetPushSubscription(ctx, phone.ID); err != nil || got.ID != onPhone.ID || !got.Alerts[storage.NotifyMention] || got.Alerts[storage.NotifyFavourite] {
			t.Fatalf("subscription of the phone %+v %v", got, err)
		}
		subscribe(laptop, map[string]bool{storage.NotifyMention: true}, storage.PushPolicyFollowed)

		var post int64
		notify := func(from *storage.Actor, typ string) *storage.Notification {
			post++ // each about another post
			n := &storage.Notification{RecipientActorID: ana.ID, Type: typ, FromActorID: from.ID, ObjectID: post}
			if _, err := db.PutNotification(ctx, n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		enqueue := func(n *storage.Notification, want int) {
			t.Helper()
			if got, err := db.EnqueuePushes(ctx, n); err != nil || got != want {
				t.Fatalf("%s from %d queued %d pushes (%v), want %d", n.Type, n.FromActorID, got, err, want)
			}
		}
		enqueue(notify(bo, storage.NotifyMention), 1) // the laptop wants only people ana follows
		enqueue(notify(bo, storage.NotifyFavourite), 0)
		if err := db.PutMembership(ctx, &storage.Membership{CommunityActorID: bo.ID, MemberActorID: ana.ID, State: storage.StateAccepted}); err != nil {
			t.Fatal(err)
		}
		enqueue(notify(bo, storage.NotifyMention), 2)
		// A revoked token's subscription takes no more pushes.
		if err := db.Gorm(ctx).Model(&storage.OAuthToken{}).Where("id = ?", laptop.ID).Update("revoked_at", time.Now()).Error; err != nil {
			t.Fatal(err)
		}
		enqueue(notify(bo, storage.NotifyMention), 1)

		// Claimed once; a retry waits; a finished push is gone.
		now := time.Now()
		claimed, err := db.ClaimPushes(ctx, now, time.Minute, 10)
		if err != nil || len(claimed) != 4 || claimed[0].Attempts != 1 {
			t.Fatalf("claimed %+v %v", claimed, err)
		}
		if again, err := db.ClaimPushes(ctx, now, time.Minute, 10); err != nil || len(again) != 0 {
			t.Fatalf("claimed again %+v %v", again, err)
		}
		if err := db.RetryPush(ctx, claimed[0].ID, now.Add(time.Hour), "503"); err != nil {
			t.Fatal(err)
		}
		for _, d := range claimed[1:] {
			if err := db.FinishPush(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
		}
		if later, err := db.ClaimPushes(ctx, now.Add(2*time.Hour), time.Minute, 10); err != nil || len(later) != 1 || later[0].ID != claimed[0].ID || later[0].Attempts != 2 {
			t.Fatalf("after the retry delay: %+v %v", later, err)
		}

		// Deleting a subscription drops its queued pushes.
		if err := db.DeletePushSubscription(ctx, claimed[0].SubscriptionID); err != nil {
			t.Fatal(err)
		}
		if left, err := db.ClaimPushes(ctx, now.Add(4*time.Hour), time.Minute, 10); err != nil || len(left) != 0 {
			t.Fatalf("pushes of a deleted subscription: %+v %v", left, err)
		}
	})
}
