package storage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func localActor(name, typ string) *storage.Actor {
	base := "http://example.test/u/" + name
	if typ == storage.TypeGroup {
		base = "http://example.test/c/" + name
	}
	return &storage.Actor{
		URI: base, Type: typ, Username: name, Domain: "example.test", Local: true,
		InboxURI: base + "/inbox", KeyID: base + "#main-key", PublicKeyPEM: "pem",
	}
}

func TestMigrateTwiceAndConcurrently(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			dsn := storagetest.DSN(t, d)
			ctx := context.Background()
			// Two "replicas" start at once on the same database.
			var wg sync.WaitGroup
			errs := make([]error, 2)
			applied := make([]int, 2)
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db, err := storage.Open(ctx, dsn)
					if err != nil {
						errs[i] = err
						return
					}
					defer db.Close()
					res, err := db.Migrate(ctx, nil)
					errs[i], applied[i] = err, len(res)
				}()
			}
			wg.Wait()
			for _, err := range errs {
				if err != nil {
					t.Fatalf("concurrent migrate: %v", err)
				}
			}
			if d == storage.Postgres {
				if applied[0]+applied[1] == 0 || (applied[0] > 0 && applied[1] > 0) {
					t.Fatalf("migrations applied %v times: want exactly one replica to apply them", applied)
				}
			}
			db, err := storage.Open(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			res, err := db.Migrate(ctx, nil)
			if err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			if len(res) != 0 {
				t.Fatalf("second migrate applied %d migrations, want 0", len(res))
			}
		})
	}
}

func TestAccounts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		a := localActor("alice", storage.TypePerson)
		if err := db.CreateAccount(ctx, a, &storage.Account{Email: "alice@example.org", PasswordHash: "x"}); err != nil {
			t.Fatal(err)
		}
		// Same name in another case: conflict, and nothing half-created.
		err := db.CreateAccount(ctx, localActor("ALICE", storage.TypePerson), &storage.Account{Email: "other@example.org"})
		if !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("duplicate name: got %v, want ErrConflict", err)
		}
		err = db.CreateAccount(ctx, localActor("bob", storage.TypePerson), &storage.Account{Email: "Alice@Example.org"})
		if !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("duplicate email: got %v, want ErrConflict", err)
		}
		if _, err := db.GetLocalActor(ctx, "bob"); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("bob's actor should have been rolled back, got %v", err)
		}
		got, err := db.GetAccountByUsername(ctx, "Alice")
		if err != nil {
			t.Fatal(err)
		}
		if got.Actor == nil || got.Actor.URI != a.URI || got.Email != "alice@example.org" {
			t.Fatalf("got %+v", got)
		}
		list, err := db.ListAccounts(ctx, 10)
		if err != nil || len(list) != 1 {
			t.Fatalf("list: %v %d", err, len(list))
		}
		u, err := db.Usage(ctx, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if u.Users != 1 || u.ActiveMonth != 1 || u.ActiveHalfYear != 1 {
			t.Fatalf("usage %+v", u)
		}
	})
}

func TestCommunitiesAndMemberships(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		owner := localActor("olga", storage.TypePerson)
		if err := db.CreateAccount(ctx, owner, &storage.Account{Email: "olga@example.org"}); err != nil {
			t.Fatal(err)
		}
		g := localActor("practice", storage.TypeGroup)
		c := &storage.Community{Title: "Practice", Summary: "We practise.", Closed: true,
			Tags: []storage.CommunityTag{{Tag: "nursing"}, {Tag: "sepsis"}}}
		if err := db.CreateCommunity(ctx, g, c, owner); err != nil {
			t.Fatal(err)
		}
		// A member and a community share one namespace.
		if err := db.CreateCommunity(ctx, localActor("olga", storage.TypeGroup), &storage.Community{Title: "x"}, nil); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("community named like a member: got %v, want ErrConflict", err)
		}
		got, err := db.GetCommunityByName(ctx, "PRACTICE")
		if err != nil {
			t.Fatal(err)
		}
		if !got.Closed || got.Actor.URI != g.URI || len(got.TagNames()) != 2 {
			t.Fatalf("got %+v", got)
		}
		mods, err := db.Moderators(ctx, g.ID)
		if err != nil || len(mods) != 1 || mods[0].ID != owner.ID {
			t.Fatalf("moderators %v %v", mods, err)
		}

		remote := &storage.Actor{URI: "https://remote.test/users/rita", Type: storage.TypePerson,
			Username: "rita", Domain: "remote.test", InboxURI: "https://remote.test/users/rita/inbox",
			SharedInboxURI: "https://remote.test/inbox", KeyID: "https://remote.test/users/rita#main-key"}
		if err := db.UpsertRemoteActor(ctx, remote); err != nil {
			t.Fatal(err)
		}
		remote2 := *remote
		remote2.ID = 0
		remote2.DisplayName = "Rita"
		if err := db.UpsertRemoteActor(ctx, &remote2); err != nil {
			t.Fatal(err)
		}
		if remote2.ID != remote.ID {
			t.Fatalf("upsert made a second actor: %d vs %d", remote2.ID, remote.ID)
		}
		byKey, err := db.GetActorByKeyID(ctx, remote.KeyID)
		if err != nil || byKey.DisplayName != "Rita" || byKey.FetchedAt == nil {
			t.Fatalf("by key: %+v %v", byKey, err)
		}

		m := &storage.Membership{CommunityActorID: g.ID, MemberActorID: remote.ID, State: storage.StatePending, FollowURI: "https://remote.test/f/1"}
		if err := db.PutMembership(ctx, m); err != nil {
			t.Fatal(err)
		}
		if n, _ := db.CountMembers(ctx, g.ID, storage.StateAccepted); n != 1 {
			t.Fatalf("accepted members = %d, want 1 (the owner)", n)
		}
		if err := db.AcceptMembership(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		page, err := db.MemberPage(ctx, g.ID, storage.StateAccepted, 0, 10)
		if err != nil || len(page) != 2 || page[1].MemberActor.URI != remote.URI {
			t.Fatalf("member page %v %v", page, err)
		}
		byFollow, err := db.GetMembershipByFollowURI(ctx, "https://remote.test/f/1")
		if err != nil || byFollow.State != storage.StateAccepted || byFollow.AcceptedAt == nil {
			t.Fatalf("by follow: %+v %v", byFollow, err)
		}
		if err := db.DeleteMembership(ctx, g.ID, remote.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteMembership(ctx, g.ID, remote.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

func TestObjects(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		a := localActor("alice", storage.TypePerson)
		if err := db.CreateAccount(ctx, a, &storage.Account{Email: "a@example.org"}); err != nil {
			t.Fatal(err)
		}
		g := localActor("practice", storage.TypeGroup)
		if err := db.CreateCommunity(ctx, g, &storage.Community{Title: "P"}, a); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		for i, uri := range []string{"http://example.test/o/1", "http://example.test/o/2"} {
			o := &storage.Object{URI: uri, Type: "Note", AuthorActorID: a.ID, CommunityActorID: &g.ID,
				Content: "<p>hi</p>", Local: true, PublishedAt: now.Add(time.Duration(i) * time.Second)}
			if i == 1 {
				o.InReplyToURI = "http://example.test/o/1"
			}
			if err := db.CreateObject(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.CreateObject(ctx, &storage.Object{URI: "http://example.test/o/1", Type: "Note", AuthorActorID: a.ID, PublishedAt: now}); !errors.Is(err, storage.ErrConflict) {
			t.Fatalf("duplicate uri: %v", err)
		}
		list, err := db.ListObjects(ctx, storage.ObjectFilter{CommunityActorID: g.ID, Limit: 10})
		if err != nil || len(list) != 2 || list[0].URI != "http://example.test/o/2" {
			t.Fatalf("list %v %v", list, err)
		}
		n, err := db.CountObjects(ctx, storage.ObjectFilter{CommunityActorID: g.ID, TopLevelOnly: true})
		if err != nil || n != 1 {
			t.Fatalf("count top-level = %d %v", n, err)
		}
		got, err := db.GetObjectByURI(ctx, "http://example.test/o/1")
		if err != nil || got.AuthorActor.Username != "alice" || got.PublishedAt.Sub(now).Abs() > time.Millisecond {
			t.Fatalf("get %+v %v (published %v vs %v)", got, err, got.PublishedAt, now)
		}
		u, err := db.Usage(ctx, now)
		if err != nil || u.LocalPosts != 1 || u.LocalComments != 1 || u.Communities != 1 {
			t.Fatalf("usage %+v %v", u, err)
		}
	})
}

// Migrations are numbered by issue, so one with a lower number can land
// after a database has applied higher ones; an upgrade must apply it.
func TestMigrateAppliesLowerNumberAddedLater(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db, err := storage.Open(ctx, storagetest.DSN(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			sql := func(stmt string) *fstest.MapFile {
				return &fstest.MapFile{Data: []byte("-- +goose Up\n" + stmt + "\n")}
			}
			first := fstest.MapFS{
				"00001_a.sql": sql("CREATE TABLE mig_a (id INTEGER);"),
				"01001_c.sql": sql("CREATE TABLE mig_c (id INTEGER);"),
			}
			if res, err := db.MigrateFS(ctx, first); err != nil || len(res) != 2 {
				t.Fatalf("first migrate: %d applied, %v", len(res), err)
			}
			later := fstest.MapFS{
				"00001_a.sql": first["00001_a.sql"],
				"00901_b.sql": sql("CREATE TABLE mig_b (id INTEGER);"),
				"01001_c.sql": first["01001_c.sql"],
			}
			res, err := db.MigrateFS(ctx, later)
			if err != nil {
				t.Fatalf("upgrade with a lower-numbered migration: %v", err)
			}
			if len(res) != 1 || res[0].Version != 901 {
				t.Fatalf("upgrade applied %+v, want only 00901", res)
			}
		})
	}
}

// PostgreSQL connections run without JIT compilation unless the URL asks
// for it (see withoutJIT).
func TestPostgresWithoutJIT(t *testing.T) {
	db := storagetest.Open(t, storage.Postgres)
	var jit string
	if err := db.Gorm(context.Background()).Raw("SHOW jit").Scan(&jit).Error; err != nil {
		t.Fatal(err)
	}
	if jit != "off" {
		t.Errorf("jit = %q", jit)
	}
}
