package storage_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"testing"
	"testing/fstest"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// A member's home timeline holds the boosts of the people they follow and
// their own, each an entry of its own paged by the boost's id, as
// Mastodon's home feed: not a post already in the home by itself, one
// boost per post, only posts the member may read, none by muted accounts.
func TestHomeBoosts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		person := func(name string) *storage.Actor {
			a := localActor(name, storage.TypePerson)
			if err := db.CreateActor(ctx, a); err != nil {
				t.Fatal(err)
			}
			return a
		}
		bob, carl, sam, dora := person("bob"), person("carl"), person("sam"), person("dora")
		for _, followed := range []*storage.Actor{bob, carl} {
			if err := db.PutMembership(ctx, &storage.Membership{CommunityActorID: followed.ID, MemberActorID: f.member.ID, State: storage.StateAccepted}); err != nil {
				t.Fatal(err)
			}
		}
		boost := func(by *storage.Actor, o *storage.Object) *storage.Reblog {
			t.Helper()
			r := &storage.Reblog{URI: fmt.Sprintf("%s/announces/%d", by.URI, o.ID), ActorID: by.ID, ObjectID: o.ID, CreatedAt: time.Now().UTC()}
			if err := db.PutReblog(ctx, r); err != nil {
				t.Fatal(err)
			}
			return r
		}
		samsPost := post(t, db, "http://example.test/o/sam1", sam, f.other, nil)
		bobsPost := post(t, db, "http://example.test/o/bob1", bob, nil, nil)
		bBoost := boost(bob, samsPost)
		if bBoost.ID <= bobsPost.ID {
			t.Fatalf("boost id %d not after the post before it (%d)", bBoost.ID, bobsPost.ID)
		}
		later := post(t, db, "http://example.test/o/bob2", bob, nil, nil)
		if later.ID <= bBoost.ID {
			t.Fatalf("post id %d not after the boost before it (%d): ids not from one sequence", later.ID, bBoost.ID)
		}
		// A second boost of the same post (shown once), a post already in
		// the home by itself, a boost by someone not followed.
		boost(carl, samsPost)
		boost(bob, bobsPost)
		boost(dora, post(t, db, "http://example.test/o/sam2", sam, nil, nil))
		ownPost := post(t, db, "http://example.test/o/sam3", sam, nil, nil)
		own := boost(f.member, ownPost) // the member's own boost
		hidden := post(t, db, "http://example.test/o/sam4", sam, nil, nil)
		hidden.Visibility = storage.VisibilityPrivate
		if err := db.Gorm(ctx).Model(hidden).Update("visibility", storage.VisibilityPrivate).Error; err != nil {
			t.Fatal(err)
		}
		boost(bob, hidden) // sam's followers-only post: the member may not read it
		gone := post(t, db, "http://example.test/o/sam5", sam, nil, nil)
		boost(carl, gone)
		if err := db.TombstoneObject(ctx, gone.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		type entry struct{ id, object, booster int64 }
		home := func(f storage.StatusFilter) []entry {
			t.Helper()
			list, err := db.ListStatuses(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			var out []entry
			for _, o := range list {
				e := entry{id: o.TimelineID(), object: o.ID}
				if o.Boost != nil {
					e.booster = o.Boost.ActorID
					if o.Boost.Actor == nil || o.Boost.Actor.ID != o.Boost.ActorID {
						t.Errorf("boost %d: booster not loaded", o.Boost.ID)
					}
				}
				out = append(out, e)
			}
			return out
		}
		me := f.member
		all := storage.StatusFilter{HomeOf: me.ID, ViewerID: me.ID, VisibleTo: me, Boosts: true}
		want := []entry{{own.ID, ownPost.ID, me.ID}, {later.ID, later.ID, 0}, {bBoost.ID, samsPost.ID, bob.ID}, {bobsPost.ID, bobsPost.ID, 0}}
		if got := home(all); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("home = %v\nwant   %v", got, want)
		}
		plain := all
		plain.Boosts = false
		if got := home(plain); len(got) != 2 || got[0].object != later.ID || got[1].object != bobsPost.ID {
			t.Errorf("home without boosts = %v", got)
		}
		// Paging by the boost's id, in both directions.
		page := all
		page.Page = storage.Page{MaxID: later.ID, Limit: 1}
		if got := home(page); fmt.Sprint(got) != fmt.Sprint(want[2:3]) {
			t.Errorf("max_id page = %v, want %v", got, want[2:3])
		}
		page.Page = storage.Page{MinID: bobsPost.ID, Limit: 2}
		if got := home(page); fmt.Sprint(got) != fmt.Sprint(want[1:3]) {
			t.Errorf("min_id page = %v, want %v", got, want[1:3])
		}
		page.Page = storage.Page{SinceID: bBoost.ID, Limit: 1}
		if got := home(page); fmt.Sprint(got) != fmt.Sprint(want[:1]) {
			t.Errorf("since_id page = %v, want %v", got, want[:1])
		}
		// A muted booster's boosts and a muted author's boosted posts go.
		if err := db.PutMute(ctx, &storage.AccountMute{ActorID: me.ID, TargetActorID: sam.ID}); err != nil {
			t.Fatal(err)
		}
		if got := home(all); len(got) != 2 || got[0].object != later.ID {
			t.Errorf("home with the author muted = %v", got)
		}
	})
}

// Upgrading renumbers the boosts made before migration 01053 after every
// post, in their order, and later posts are numbered after them.
func TestReblogIDsRenumberedOnUpgrade(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db, err := storage.Open(ctx, storagetest.DSN(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			dir := os.DirFS("migrations/" + string(d))
			before := fstest.MapFS{}
			names, err := fs.Glob(dir, "*.sql")
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				if n >= "01053" {
					continue
				}
				b, err := fs.ReadFile(dir, n)
				if err != nil {
					t.Fatal(err)
				}
				before[n] = &fstest.MapFile{Data: b}
			}
			if _, err := db.MigrateFS(ctx, before); err != nil {
				t.Fatal(err)
			}
			// Rows as the schema before 01053 holds them (later columns
			// are not there yet), boosts numbered by their own sequence.
			exec := func(q string, args ...any) {
				t.Helper()
				if err := db.Gorm(ctx).Exec(q, args...).Error; err != nil {
					t.Fatal(err)
				}
			}
			now := time.Now().UTC()
			exec(`INSERT INTO actors (uri, type, username, domain, local, created_at, updated_at)
				VALUES ('http://example.test/u/ana', 'Person', 'ana', 'example.test', TRUE, ?, ?)`, now, now)
			var actorID int64
			db.Gorm(ctx).Raw(`SELECT id FROM actors`).Scan(&actorID)
			var posts []int64
			for i := range 3 {
				exec(`INSERT INTO objects (uri, type, author_actor_id, published_at, created_at, updated_at) VALUES (?, 'Note', ?, ?, ?, ?)`,
					fmt.Sprintf("http://example.test/o/%d", i), actorID, now, now, now)
				var id int64
				db.Gorm(ctx).Raw(`SELECT MAX(id) FROM objects`).Scan(&id)
				posts = append(posts, id)
			}
			for i, o := range []int64{posts[2], posts[0]} {
				exec(`INSERT INTO reblogs (uri, actor_id, object_id, created_at) VALUES (?, ?, ?, ?)`,
					fmt.Sprintf("http://example.test/a/%d", i), actorID, o, now)
			}
			if _, err := db.MigrateFS(ctx, dir); err != nil {
				t.Fatal(err)
			}
			var rows []storage.Reblog
			if err := db.Gorm(ctx).Order("id").Find(&rows).Error; err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].URI != "http://example.test/a/0" || rows[0].ID <= posts[2] || rows[1].ID <= rows[0].ID {
				t.Fatalf("boosts after the upgrade: %+v (last post %d)", rows, posts[2])
			}
			a, err := db.GetActorByID(ctx, actorID)
			if err != nil {
				t.Fatal(err)
			}
			next := post(t, db, "http://example.test/o/next", a, nil, nil)
			r := &storage.Reblog{URI: "http://example.test/a/next", ActorID: a.ID, ObjectID: next.ID, CreatedAt: time.Now()}
			if err := db.PutReblog(ctx, r); err != nil {
				t.Fatal(err)
			}
			if next.ID <= rows[1].ID || r.ID <= next.ID {
				t.Errorf("after the upgrade: post %d, boost %d (renumbered boosts end at %d)", next.ID, r.ID, rows[1].ID)
			}
		})
	}
}
