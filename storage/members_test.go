package storage_test

import (
	"context"
	"testing"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// A members post is read by its author, its community and the
// community's accepted members, and fetched by servers that host one of
// them (or the community); listings show it only when asked for members
// posts.
func TestMembersPosts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db) // mia, an accepted member of practice
		remote := func(uri, name string) *storage.Actor {
			a := &storage.Actor{URI: uri, Type: storage.TypePerson, Username: name, Domain: storage.HostOf(uri), InboxURI: uri + "/inbox"}
			if err := db.UpsertRemoteActor(ctx, a); err != nil {
				t.Fatal(err)
			}
			return a
		}
		rae := remote("https://b.example/u/rae", "rae")    // a member on b.example
		pen := remote("https://c.example/u/pen", "pen")    // asked to join, pending
		stranger := remote("https://d.example/u/st", "st") // nobody
		for _, m := range []struct {
			a     *storage.Actor
			state string
		}{{rae, storage.StateAccepted}, {pen, storage.StatePending}} {
			if err := db.PutMembership(ctx, &storage.Membership{CommunityActorID: f.group.ID, MemberActorID: m.a.ID, State: m.state}); err != nil {
				t.Fatal(err)
			}
		}
		o := post(t, db, "https://example.test/o/m1", f.member, f.group, nil)
		if err := db.Gorm(ctx).Model(o).Updates(map[string]any{"visibility": storage.VisibilityMembers, "local": true}).Error; err != nil {
			t.Fatal(err)
		}
		o.Visibility = storage.VisibilityMembers
		for _, c := range []struct {
			who  *storage.Actor
			want bool
		}{{f.member, true}, {rae, true}, {f.group, true}, {pen, false}, {stranger, false}, {nil, false}} {
			if ok, err := db.CanSee(ctx, c.who, o); err != nil || ok != c.want {
				t.Errorf("seen by %v: %v (%v), want %v", c.who, ok, err, c.want)
			}
		}
		for _, c := range []struct {
			host string
			want bool
		}{{"b.example", true}, {"c.example", false}, {"d.example", false}, {"", false}} {
			if ok, err := db.CanServerSee(ctx, c.host, o); err != nil || ok != c.want {
				t.Errorf("fetched by %q: %v (%v), want %v", c.host, ok, err, c.want)
			}
			if ok, err := db.HostHasMember(ctx, f.group.ID, c.host); err != nil || ok != c.want {
				t.Errorf("members on %q: %v (%v), want %v", c.host, ok, err, c.want)
			}
		}
		count := func(fl storage.ObjectFilter) int {
			list, err := db.ListObjects(ctx, fl)
			if err != nil {
				t.Fatal(err)
			}
			return len(list)
		}
		if n := count(storage.ObjectFilter{CommunityActorID: f.group.ID, Limit: 10}); n != 0 {
			t.Errorf("a listing shows %d members posts", n)
		}
		if n := count(storage.ObjectFilter{CommunityActorID: f.group.ID, Members: true, Limit: 10}); n != 1 {
			t.Errorf("the members' listing shows %d posts", n)
		}
		for _, members := range []bool{false, true} {
			list, err := db.ListActiveTopLevel(ctx, f.group.ID, true, members, 0, 10)
			if err != nil || (len(list) == 1) != members {
				t.Errorf("active threads (members %v): %d (%v)", members, len(list), err)
			}
		}
		u, err := db.Usage(ctx, o.PublishedAt)
		if err != nil || u.LocalPosts != 0 || u.Communities != 2 {
			t.Errorf("usage counts members posts: %+v (%v)", u, err)
		}
		if err := db.Gorm(ctx).Model(o).Update("visibility", storage.VisibilityPublic).Error; err != nil {
			t.Fatal(err)
		}
		if u, err := db.Usage(ctx, o.PublishedAt); err != nil || u.LocalPosts != 1 {
			t.Errorf("usage of a public post: %+v (%v)", u, err)
		}
	})
}
