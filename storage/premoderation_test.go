package storage_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// Posting rules are kept on the community; held posts queue once, are
// decided once, and count, with stored posts, towards the hourly limits
// per member and per server; a newcomer is one with no post in the
// community that a moderator did not take out, a server likewise.
func TestPremoderation(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := newClientAPIFixture(t, db)
		remote := func(uri string) *storage.Actor {
			a := &storage.Actor{URI: uri, Type: storage.TypePerson, Username: uri[strings.LastIndex(uri, "/")+1:], Domain: storage.HostOf(uri), InboxURI: uri + "/inbox"}
			if err := db.UpsertRemoteActor(ctx, a); err != nil {
				t.Fatal(err)
			}
			return a
		}
		ria, rob := remote("https://b.example/u/ria"), remote("https://b.example/u/rob")
		cyd := remote("https://c.example/u/cyd")

		rules := storage.PostingRules{HoldNewMembers: true, HoldNewInstances: true, MemberPostsPerHour: 3, InstancePostsPerHour: 5}
		if err := db.SetPostingRules(ctx, f.group.ID, rules); err != nil {
			t.Fatal(err)
		}
		c, err := db.GetCommunityByActorID(ctx, f.group.ID)
		if err != nil || c.PostingRules != rules {
			t.Fatalf("rules %+v (%v), want %+v", c.PostingRules, err, rules)
		}
		if err := db.SetPostingRules(ctx, -1, rules); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("rules of no community: %v", err)
		}

		posted := func(a *storage.Actor) bool {
			ok, err := db.HasPostedIn(ctx, f.group.ID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		hostPosted := func(host string) bool {
			ok, err := db.HostHasPostedIn(ctx, f.group.ID, host)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if posted(ria) || hostPosted("b.example") {
			t.Fatal("newcomers seen as known")
		}
		o := post(t, db, "https://b.example/o/1", ria, f.group, nil)
		post(t, db, "https://b.example/o/elsewhere", rob, f.other, nil)
		if !posted(ria) || posted(rob) || !hostPosted("b.example") || hostPosted("c.example") || hostPosted("example") {
			t.Errorf("after ria's post: ria %v rob %v b %v c %v", posted(ria), posted(rob), hostPosted("b.example"), hostPosted("c.example"))
		}
		if err := db.Gorm(ctx).Model(o).Update("removed_at", time.Now().UTC()).Error; err != nil {
			t.Fatal(err)
		}
		if posted(ria) || hostPosted("b.example") {
			t.Error("a removed post makes its author known")
		}

		h := &storage.HeldPost{CommunityActorID: f.group.ID, AuthorActorID: cyd.ID, ObjectURI: "https://c.example/o/1",
			Content: "<p>hi</p>", Raw: "{}", ObjectRaw: "{}", Reason: storage.HoldNewInstance}
		if err := db.HoldPost(ctx, h); err != nil {
			t.Fatal(err)
		}
		again := *h
		again.ID = 0
		if err := db.HoldPost(ctx, &again); !errors.Is(err, storage.ErrConflict) {
			t.Errorf("held twice: %v", err)
		}
		queue, err := db.HeldPosts(ctx, f.group.ID, storage.HeldWaiting, 0, 10)
		if err != nil || len(queue) != 1 || queue[0].AuthorActor == nil || queue[0].AuthorActor.URI != cyd.URI {
			t.Fatalf("queue %+v (%v)", queue, err)
		}
		if n, err := db.CountHeldPosts(ctx, f.group.ID); err != nil || n != 1 {
			t.Errorf("count %d (%v)", n, err)
		}
		if err := db.DecideHeldPost(ctx, h.ID, f.member.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := db.DecideHeldPost(ctx, h.ID, f.member.ID, false); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("decided twice: %v", err)
		}
		got, err := db.GetHeldPost(ctx, h.ID)
		if err != nil || got.State != storage.HeldApproved || got.DecidedAt == nil || *got.DecidedByActorID != f.member.ID {
			t.Errorf("decided post %+v (%v)", got, err)
		}
		if n, _ := db.CountHeldPosts(ctx, f.group.ID); n != 0 {
			t.Errorf("queue after the decision: %d", n)
		}

		// The last hour: ria's removed post, rob's two, cyd's approved
		// one (counted as the post it became) and his rejected one.
		post(t, db, h.ObjectURI, cyd, f.group, nil)
		rejected := &storage.HeldPost{CommunityActorID: f.group.ID, AuthorActorID: cyd.ID, ObjectURI: "https://c.example/o/2",
			Raw: "{}", ObjectRaw: "{}", Reason: storage.HoldNewMember}
		if err := db.HoldPost(ctx, rejected); err != nil {
			t.Fatal(err)
		}
		if err := db.DecideHeldPost(ctx, rejected.ID, f.member.ID, false); err != nil {
			t.Fatal(err)
		}
		post(t, db, "https://b.example/o/2", rob, f.group, nil)
		post(t, db, "https://b.example/o/3", rob, f.group, nil)
		old := post(t, db, "https://b.example/o/old", rob, f.group, nil)
		if err := db.Gorm(ctx).Model(old).Update("created_at", time.Now().Add(-2*time.Hour).UTC()).Error; err != nil {
			t.Fatal(err)
		}
		since := time.Now().Add(-time.Hour)
		for _, c := range []struct {
			author *storage.Actor
			host   string
			want   int64
		}{{rob, "", 2}, {ria, "", 1}, {cyd, "", 2}, {nil, "b.example", 3}, {nil, "c.example", 2}, {nil, "d.example", 0}} {
			var id int64
			if c.author != nil {
				id = c.author.ID
			}
			n, err := db.RecentPosts(ctx, f.group.ID, id, c.host, since)
			if err != nil || n != c.want {
				t.Errorf("recent posts of %v %q: %d (%v), want %d", c.author, c.host, n, err, c.want)
			}
		}
	})
}
