package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// AccountCountsOf gives, for many accounts at once, what the four counts
// give for each one.
func TestAccountCountsOf(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db) // mia, an accepted member of practice
		rae := &storage.Actor{URI: "https://b.example/u/rae", Type: storage.TypePerson, Username: "rae", Domain: "b.example", InboxURI: "https://b.example/u/rae/inbox"}
		if err := db.UpsertRemoteActor(ctx, rae); err != nil {
			t.Fatal(err)
		}
		if err := db.PutMembership(ctx, &storage.Membership{CommunityActorID: f.group.ID, MemberActorID: rae.ID, State: storage.StatePending}); err != nil {
			t.Fatal(err)
		}
		if err := db.PutMembership(ctx, &storage.Membership{CommunityActorID: f.other.ID, MemberActorID: rae.ID, State: storage.StateAccepted}); err != nil {
			t.Fatal(err)
		}
		p1 := post(t, db, "https://example.test/o/1", f.member, f.group, nil)
		post(t, db, "https://example.test/o/2", f.member, f.group, p1)
		gone := post(t, db, "https://example.test/o/3", f.member, f.group, nil)
		if err := db.TombstoneObject(ctx, gone.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		hidden := post(t, db, "https://b.example/p/4", rae, f.group, nil)
		if err := db.Gorm(ctx).Model(hidden).Update("visibility", storage.VisibilityDirect).Error; err != nil {
			t.Fatal(err)
		}
		post(t, db, "https://b.example/p/5", rae, f.other, nil)
		ids := []int64{f.member.ID, f.group.ID, f.other.ID, rae.ID}
		got, err := db.AccountCountsOf(ctx, ids)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			var want storage.AccountCounts
			if want.Statuses, err = db.CountObjects(ctx, storage.ObjectFilter{AuthorActorID: id}); err != nil {
				t.Fatal(err)
			}
			if want.Followers, err = db.CountMembers(ctx, id, storage.StateAccepted); err != nil {
				t.Fatal(err)
			}
			if want.Following, err = db.CountFollowing(ctx, id); err != nil {
				t.Fatal(err)
			}
			if want.LastPostAt, err = db.LastPostAt(ctx, id); err != nil {
				t.Fatal(err)
			}
			g := got[id]
			if g.Statuses != want.Statuses || g.Followers != want.Followers || g.Following != want.Following ||
				(g.LastPostAt == nil) != (want.LastPostAt == nil) || (g.LastPostAt != nil && !g.LastPostAt.Equal(*want.LastPostAt)) {
				t.Errorf("actor %d: %+v, want %+v", id, g, want)
			}
		}
		if c := got[f.member.ID]; c.Statuses != 2 || c.Following != 1 || c.LastPostAt == nil {
			t.Errorf("mia: %+v", c)
		}
		if c := got[rae.ID]; c.Statuses != 1 || c.Following != 1 {
			t.Errorf("rae: %+v", c)
		}
		if c := got[f.group.ID]; c.Followers != 1 || c.Statuses != 0 || c.LastPostAt != nil {
			t.Errorf("practice: %+v", c)
		}
	})
}
