package storage_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// The "active" sort puts the thread answered last first: a reply raises
// its thread, deleting that reply lowers it again, and a post in a thread
// whose top-level post names another context still counts for it.
func TestActiveTopLevelOrder(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		store := func(uri string, parent *storage.Object, contextURI string) *storage.Object {
			t.Helper()
			o := &storage.Object{URI: uri, Type: "Note", AuthorActorID: f.member.ID, CommunityActorID: &f.group.ID,
				Content: "<p>" + uri + "</p>", PublishedAt: time.Now().UTC(), ContextURI: contextURI}
			if parent != nil {
				o.InReplyToURI, o.InReplyToID, o.ContextURI = parent.URI, &parent.ID, parent.ContextURI
			}
			if err := db.CreateObject(ctx, o); err != nil {
				t.Fatal(err)
			}
			return o
		}
		order := func(want ...*storage.Object) {
			t.Helper()
			list, err := db.ListActiveTopLevel(ctx, f.group.ID, true, false, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got, w []string
			for _, o := range list {
				got = append(got, o.URI)
			}
			for _, o := range want {
				w = append(w, o.URI)
			}
			if !slices.Equal(got, w) {
				t.Errorf("active order %v, want %v", got, w)
			}
			// The second page starts where the first ends.
			if len(list) > 1 {
				rest, err := db.ListActiveTopLevel(ctx, f.group.ID, true, false, 1, 10)
				if err != nil || len(rest) != len(list)-1 || rest[0].URI != list[1].URI {
					t.Errorf("page from offset 1: %d posts (%v)", len(rest), err)
				}
			}
		}
		a := store("https://example.test/o/a", nil, "https://example.test/o/a")
		b := store("https://example.test/o/b", nil, "https://example.test/o/b")
		c := store("https://remote.example/p/c", nil, "https://remote.example/threads/c") // a context of its own
		noContext := store("https://remote.example/p/n", nil, "")
		order(noContext, c, b, a)
		ra := store("https://example.test/o/ra", a, "")
		order(a, noContext, c, b)
		rb := store("https://example.test/o/rb", b, "")
		order(b, a, noContext, c)
		store("https://remote.example/p/rc", c, "")
		order(c, b, a, noContext)
		// A reply's reply counts for the top-level post too.
		rra := store("https://example.test/o/rra", ra, "")
		order(a, c, b, noContext)
		if err := db.TombstoneObject(ctx, rra.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		order(c, b, a, noContext) // a is as active as ra again, older than rb
		if err := db.TombstoneObject(ctx, ra.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		order(c, b, noContext, a) // a's own post is its latest
		if err := db.TombstoneObject(ctx, rb.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		order(c, noContext, b, a)
		if err := db.TombstoneObject(ctx, b.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		order(c, noContext, a)
	})
}

// Migration 01702 computes last_activity_id for the posts already stored
// (and undoes itself).
func TestActiveOrderMigrated(t *testing.T) {
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			db := storagetest.Open(t, d)
			if err := db.UndoMigration(ctx, 1702); err != nil {
				t.Fatal(err)
			}
			f := newClientAPIFixture(t, db)
			// Stored as the older version did, without the column.
			store := func(uri string, parent *storage.Object, deleted bool) *storage.Object {
				o := &storage.Object{URI: uri, Type: "Note", AuthorActorID: f.member.ID, CommunityActorID: &f.group.ID,
					Visibility: storage.VisibilityPublic, PublishedAt: time.Now().UTC(), ContextURI: uri}
				if parent != nil {
					o.InReplyToURI, o.InReplyToID, o.ContextURI = parent.URI, &parent.ID, parent.ContextURI
				}
				if deleted {
					now := time.Now().UTC()
					o.DeletedAt = &now
				}
				if err := db.Gorm(ctx).Create(o).Error; err != nil {
					t.Fatal(err)
				}
				return o
			}
			a := store("https://example.test/o/a", nil, false)
			b := store("https://example.test/o/b", nil, false)
			c := store("https://example.test/o/c", nil, false)
			store("https://example.test/o/ra", a, false)
			store("https://example.test/o/rb", b, true) // deleted: b's latest is b
			if res, err := db.Migrate(ctx, nil); err != nil || len(res) != 1 {
				t.Fatalf("migrate: %v (%v)", res, err)
			}
			list, err := db.ListActiveTopLevel(ctx, f.group.ID, false, false, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range list {
				got = append(got, o.URI)
			}
			if want := []string{a.URI, c.URI, b.URI}; !slices.Equal(got, want) {
				t.Errorf("active order after the migration %v, want %v", got, want)
			}
		})
	}
}
