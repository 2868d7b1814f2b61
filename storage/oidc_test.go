package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// A sign-in's state is taken once, only with the browser that started it
// and before it expires, also when two requests race for it; an identity
// is tied to one account.
func TestOIDCLoginsAndIdentities(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		now := time.Now()
		l := &storage.OIDCLogin{StateHash: "state", BrowserHash: "browser", Nonce: "n", Verifier: "v",
			CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
		if err := db.CreateOIDCLogin(ctx, l); err != nil {
			t.Fatal(err)
		}
		if _, err := db.UseOIDCLogin(ctx, "state", "another browser", now); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("another browser: %v", err)
		}
		if _, err := db.UseOIDCLogin(ctx, "state", "browser", now.Add(11*time.Minute)); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("expired: %v", err)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		won := 0
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := db.UseOIDCLogin(ctx, "state", "browser", now)
				if err == nil && got.Nonce == "n" && got.Verifier == "v" {
					mu.Lock()
					won++
					mu.Unlock()
				} else if err != nil && !errors.Is(err, storage.ErrNotFound) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Fatalf("%d requests took the state", won)
		}
		if err := db.HoldOIDCLogin(ctx, l.ID, "choice", `{"x":1}`, now.Add(15*time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, err := db.GetOIDCChoice(ctx, "choice", "browser", now); err != nil || got.Claims != `{"x":1}` {
			t.Fatalf("held: %+v %v", got, err)
		}
		if _, err := db.GetOIDCChoice(ctx, "choice", "another browser", now); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("held, another browser: %v", err)
		}
		if n, err := db.DeleteExpiredOIDCLogins(ctx, now.Add(time.Hour), 10); err != nil || n != 1 {
			t.Fatalf("expired sign-ins removed: %d %v", n, err)
		}

		a, b := localActor("ida", storage.TypePerson), localActor("ivo", storage.TypePerson)
		acctA, acctB := &storage.Account{Email: "ida@example.org", Approved: true}, &storage.Account{Email: "ivo@example.org", Approved: true}
		if err := db.CreateAccount(ctx, a, acctA); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateAccount(ctx, b, acctB); err != nil {
			t.Fatal(err)
		}
		id := &storage.OIDCIdentity{AccountID: acctA.ID, Issuer: "https://id.example", Subject: "s1", CreatedAt: now, LastSignInAt: now}
		if err := db.CreateOIDCIdentity(ctx, id); err != nil {
			t.Fatal(err)
		}
		again := &storage.OIDCIdentity{AccountID: acctB.ID, Issuer: "https://id.example", Subject: "s1", CreatedAt: now, LastSignInAt: now}
		if err := db.CreateOIDCIdentity(ctx, again); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("the same identity twice: %v", err)
		}
		got, err := db.GetOIDCIdentity(ctx, "https://id.example", "s1")
		if err != nil || got.Account.ID != acctA.ID || got.Account.Actor.Username != "ida" {
			t.Fatalf("identity %+v %v", got, err)
		}
		if _, err := db.GetOIDCIdentity(ctx, "https://other.example", "s1"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("same subject at another issuer: %v", err)
		}
	})
}
