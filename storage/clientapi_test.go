package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// clientAPIFixture is a member, a community the member follows, another
// community and an account with a login.
type clientAPIFixture struct {
	member, group, other *storage.Actor
	acct                 *storage.Account
}

func newClientAPIFixture(t *testing.T, db *storage.DB) clientAPIFixture {
	t.Helper()
	ctx := context.Background()
	var f clientAPIFixture
	f.member = localActor("mia", storage.TypePerson)
	f.acct = &storage.Account{Email: "mia@example.test"}
	if err := db.CreateAccount(ctx, f.member, f.acct); err != nil {
		t.Fatal(err)
	}
	f.group = localActor("practice", storage.TypeGroup)
	if err := db.CreateCommunity(ctx, f.group, &storage.Community{Title: "Practice"}, nil); err != nil {
		t.Fatal(err)
	}
	f.other = localActor("elsewhere", storage.TypeGroup)
	if err := db.CreateCommunity(ctx, f.other, &storage.Community{Title: "Elsewhere"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := db.PutMembership(ctx, &storage.Membership{CommunityActorID: f.group.ID, MemberActorID: f.member.ID, State: storage.StateAccepted}); err != nil {
		t.Fatal(err)
	}
	return f
}

func post(t *testing.T, db *storage.DB, uri string, author, group *storage.Actor, parent *storage.Object) *storage.Object {
	t.Helper()
	o := &storage.Object{URI: uri, Type: "Note", AuthorActorID: author.ID, Content: "<p>" + uri + "</p>", PublishedAt: time.Now().UTC()}
	if group != nil {
		o.CommunityActorID = &group.ID
	}
	if parent != nil {
		o.InReplyToURI, o.InReplyToID = parent.URI, &parent.ID
	}
	if err := db.CreateObject(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOAuthCodesAreSingleUse(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		app := &storage.OAuthApp{ClientID: "cid", ClientSecretHash: "h", Name: "App", RedirectURIs: "https://a/cb", Scopes: "read"}
		if err := db.CreateOAuthApp(ctx, app); err != nil {
			t.Fatal(err)
		}
		if err := db.CreateOAuthApp(ctx, &storage.OAuthApp{ClientID: "cid", ClientSecretHash: "h", Name: "B", RedirectURIs: "x", Scopes: "read"}); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("duplicate client id: %v", err)
		}
		now := time.Now()
		for _, c := range []*storage.OAuthCode{
			{CodeHash: "live", ExpiresAt: now.Add(time.Minute)},
			{CodeHash: "old", ExpiresAt: now.Add(-time.Second)},
		} {
			c.AppID, c.AccountID, c.RedirectURI, c.Scopes = app.ID, f.acct.ID, "https://a/cb", "read"
			if err := db.CreateOAuthCode(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		accept := func(*storage.OAuthCode) error { return nil }
		exchange := func(code, tokenHash string, check func(*storage.OAuthCode) error) (*storage.OAuthCode, error) {
			return db.ExchangeOAuthCode(ctx, code, now, check, &storage.OAuthToken{TokenHash: tokenHash, AppID: &app.ID, AccountID: &f.acct.ID, Scopes: "read"})
		}
		if _, err := exchange("old", "t-old", accept); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("expired code: %v", err)
		}
		// Of concurrent exchanges exactly one wins, and the others, being
		// second exchanges, revoke its token.
		var wg sync.WaitGroup
		wins := make(chan int64, 8)
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if c, err := exchange("live", fmt.Sprintf("t-live-%d", i), accept); err == nil {
					wins <- c.AccountID
				} else if !errors.Is(err, storage.ErrNotFound) {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		close(wins)
		if n := len(wins); n != 1 {
			t.Fatalf("%d exchanges of one code succeeded", n)
		}
		if got := <-wins; got != f.acct.ID {
			t.Errorf("code's account = %d", got)
		}
		var live int64
		db.Gorm(ctx).Model(&storage.OAuthToken{}).Where("token_hash LIKE 't-live-%' AND revoked_at IS NULL").Count(&live)
		if live != 0 {
			t.Errorf("%d tokens of a code exchanged 8 times still live", live)
		}
		// One after the other: the second exchange revokes the first's token.
		for _, h := range []string{"again", "refused"} {
			if err := db.CreateOAuthCode(ctx, &storage.OAuthCode{CodeHash: h, AppID: app.ID, AccountID: f.acct.ID, RedirectURI: "https://a/cb", Scopes: "read", ExpiresAt: now.Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := exchange("again", "t-first", accept); err != nil {
			t.Fatal(err)
		}
		if _, err := db.GetOAuthToken(ctx, "t-first"); err != nil {
			t.Fatalf("first token: %v", err)
		}
		if _, err := exchange("again", "t-second", accept); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("second exchange: %v", err)
		}
		for _, h := range []string{"t-first", "t-second"} {
			if _, err := db.GetOAuthToken(ctx, h); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("token %s after a second exchange: %v", h, err)
			}
		}
		// A code the caller refuses is spent all the same, with no token.
		no := errors.New("wrong verifier")
		if _, err := exchange("refused", "t-refused", func(*storage.OAuthCode) error { return no }); err != no {
			t.Errorf("refused exchange: %v", err)
		}
		if _, err := exchange("refused", "t-refused-2", accept); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("refused code used again: %v", err)
		}
		if _, err := db.GetOAuthToken(ctx, "t-refused"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("token of a refused exchange: %v", err)
		}

		tok := &storage.OAuthToken{TokenHash: "th", AppID: &app.ID, AccountID: &f.acct.ID, Scopes: "read"}
		if err := db.CreateOAuthToken(ctx, tok); err != nil {
			t.Fatal(err)
		}
		got, err := db.GetOAuthToken(ctx, "th")
		if err != nil || got.Account == nil || got.Account.Actor == nil || got.Account.Actor.Username != "mia" || got.App.Name != "App" {
			t.Fatalf("token with account and app: %+v %v", got, err)
		}
		if ok, err := db.RevokeOAuthToken(ctx, app.ID+1, "th", now); ok || err != nil {
			t.Errorf("another app revoked the token: %v %v", ok, err)
		}
		if ok, err := db.RevokeOAuthToken(ctx, app.ID, "th", now); !ok || err != nil {
			t.Errorf("revoke: %v %v", ok, err)
		}
		if _, err := db.GetOAuthToken(ctx, "th"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("revoked token still found: %v", err)
		}
	})
}

func TestIdempotencyKeys(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		prev, fresh, err := db.ReserveIdempotencyKey(ctx, f.member.ID, "k", time.Hour)
		if err != nil || !fresh || prev != nil {
			t.Fatalf("first reserve: %v %v %v", prev, fresh, err)
		}
		prev, fresh, err = db.ReserveIdempotencyKey(ctx, f.member.ID, "k", time.Hour)
		if err != nil || fresh || prev.ObjectID != nil {
			t.Fatalf("reserve while in flight: %+v %v %v", prev, fresh, err)
		}
		o := post(t, db, "http://example.test/o/1", f.member, f.group, nil)
		if err := db.FinishIdempotencyKey(ctx, f.member.ID, "k", o.ID); err != nil {
			t.Fatal(err)
		}
		prev, fresh, err = db.ReserveIdempotencyKey(ctx, f.member.ID, "k", time.Hour)
		if err != nil || fresh || prev.ObjectID == nil || *prev.ObjectID != o.ID {
			t.Fatalf("reserve after finish: %+v %v %v", prev, fresh, err)
		}
		// Released on failure, and expired after the ttl: claimable again.
		if _, fresh, _ := db.ReserveIdempotencyKey(ctx, f.member.ID, "gone", time.Hour); !fresh {
			t.Fatal("new key not fresh")
		}
		if err := db.FinishIdempotencyKey(ctx, f.member.ID, "gone", 0); err != nil {
			t.Fatal(err)
		}
		if _, fresh, _ := db.ReserveIdempotencyKey(ctx, f.member.ID, "gone", time.Hour); !fresh {
			t.Error("released key not claimable")
		}
		time.Sleep(10 * time.Millisecond)
		if _, fresh, err := db.ReserveIdempotencyKey(ctx, f.member.ID, "k", time.Millisecond); !fresh || err != nil {
			t.Errorf("expired key not claimable: %v", err)
		}
	})
}

func TestClientAPITimelines(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		stranger := localActor("sam", storage.TypePerson)
		if err := db.CreateActor(ctx, stranger); err != nil {
			t.Fatal(err)
		}
		inGroup := post(t, db, "http://example.test/o/a", stranger, f.group, nil)
		reply := post(t, db, "http://example.test/o/b", stranger, f.group, inGroup)
		elsewhere := post(t, db, "http://example.test/o/c", stranger, f.other, nil)
		mine := post(t, db, "http://example.test/o/d", f.member, f.other, nil)
		if err := db.PutObjectTags(ctx, elsewhere.ID, []string{"Sepsis", "care"}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutObjectTags(ctx, elsewhere.ID, []string{"sepsis"}); err != nil {
			t.Fatalf("repeated tags: %v", err)
		}
		ids := func(list []storage.Object) []int64 {
			var out []int64
			for _, o := range list {
				out = append(out, o.ID)
			}
			return out
		}
		home, err := db.ListStatuses(ctx, storage.StatusFilter{HomeOf: f.member.ID})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(home); len(got) != 2 || got[0] != mine.ID || got[1] != inGroup.ID {
			t.Errorf("home = %v, want [%d %d] (own post, followed community's top-level post)", got, mine.ID, inGroup.ID)
		}
		tagged, _ := db.ListStatuses(ctx, storage.StatusFilter{Tag: "SEPSIS"})
		if got := ids(tagged); len(got) != 1 || got[0] != elsewhere.ID {
			t.Errorf("tag timeline = %v", got)
		}
		// Paging: max_id, since_id, min_id (closest first, returned newest first).
		all, _ := db.ListStatuses(ctx, storage.StatusFilter{})
		if len(all) != 4 {
			t.Fatalf("public = %v", ids(all))
		}
		page, _ := db.ListStatuses(ctx, storage.StatusFilter{Page: storage.Page{MaxID: mine.ID, Limit: 2}})
		if got := ids(page); len(got) != 2 || got[0] != elsewhere.ID || got[1] != reply.ID {
			t.Errorf("max_id page = %v", got)
		}
		page, _ = db.ListStatuses(ctx, storage.StatusFilter{Page: storage.Page{MinID: inGroup.ID, Limit: 2}})
		if got := ids(page); len(got) != 2 || got[0] != elsewhere.ID || got[1] != reply.ID {
			t.Errorf("min_id page = %v", got)
		}
		page, _ = db.ListStatuses(ctx, storage.StatusFilter{Page: storage.Page{SinceID: inGroup.ID, Limit: 2}})
		if got := ids(page); len(got) != 2 || got[0] != mine.ID || got[1] != elsewhere.ID {
			t.Errorf("since_id page = %v", got)
		}
		tags, _ := db.SearchTags(ctx, "se", 10)
		if len(tags) != 1 || tags[0] != "sepsis" {
			t.Errorf("search tags = %v", tags)
		}

		if _, err := db.PutLike(ctx, &storage.Like{URI: "http://example.test/l/1", ActorID: f.member.ID, ObjectID: inGroup.ID}); err != nil {
			t.Fatal(err)
		}
		stats, err := db.StatusStats(ctx, []int64{inGroup.ID, reply.ID}, f.member.ID)
		if err != nil {
			t.Fatal(err)
		}
		if s := stats[inGroup.ID]; s.Replies != 1 || s.Favourites != 1 || !s.Favourited {
			t.Errorf("stats = %+v", s)
		}
		if s := stats[reply.ID]; s.Replies != 0 || s.Favourites != 0 || s.Favourited {
			t.Errorf("reply stats = %+v", s)
		}
	})
}

func TestNotificationsAndMarkers(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		o := post(t, db, "http://example.test/o/x", f.member, f.group, nil)
		for i, n := range []storage.Notification{
			{Type: storage.NotifyFollow, FromActorID: f.group.ID},
			{Type: storage.NotifyMention, FromActorID: f.other.ID, ObjectID: o.ID},
			{Type: storage.NotifyMention, FromActorID: f.other.ID, ObjectID: o.ID}, // the same event again
		} {
			n.RecipientActorID = f.member.ID
			fresh, err := db.PutNotification(ctx, &n)
			if err != nil || fresh != (i < 2) {
				t.Fatalf("notification %d: fresh=%v err=%v", i, fresh, err)
			}
		}
		list, err := db.ListNotifications(ctx, storage.NotificationFilter{RecipientActorID: f.member.ID})
		if err != nil || len(list) != 2 || list[0].Type != storage.NotifyMention || list[0].FromActor == nil {
			t.Fatalf("notifications = %+v %v", list, err)
		}
		only, _ := db.ListNotifications(ctx, storage.NotificationFilter{RecipientActorID: f.member.ID, ExcludeTypes: []string{"mention"}})
		if len(only) != 1 || only[0].Type != storage.NotifyFollow {
			t.Errorf("exclude_types: %+v", only)
		}
		if err := db.DeleteNotifications(ctx, f.other.ID, list[0].ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("dismissing another's notification: %v", err)
		}
		if err := db.DeleteNotifications(ctx, f.member.ID, 0); err != nil {
			t.Fatal(err)
		}
		if list, _ := db.ListNotifications(ctx, storage.NotificationFilter{RecipientActorID: f.member.ID}); len(list) != 0 {
			t.Errorf("after clear: %d", len(list))
		}

		for i, id := range []string{"5", "9"} {
			m := &storage.Marker{ActorID: f.member.ID, Timeline: "home", LastReadID: id}
			if err := db.PutMarker(ctx, m); err != nil {
				t.Fatal(err)
			}
			if m.Version != i || m.LastReadID != id {
				t.Errorf("marker after save %d: %+v", i, m)
			}
		}
		ms, err := db.ListMarkers(ctx, f.member.ID, []string{"home", "notifications"})
		if err != nil || len(ms) != 1 || ms[0].LastReadID != "9" {
			t.Errorf("markers = %+v %v", ms, err)
		}
	})
}
