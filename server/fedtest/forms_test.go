package fedtest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// announcesOf matches a community's FEP-1b12 Announce of an activity of
// type typ about objectID (Like and Delete name it, Create and Update
// embed it).
func announcesOf(typ, objectID string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		inner, ok := r.Doc["object"].(map[string]any)
		if !ok || r.Type != "Announce" || inner["type"] != typ {
			return false
		}
		switch o := inner["object"].(type) {
		case string:
			return o == objectID
		case map[string]any:
			return o["id"] == objectID
		}
		return false
	}
}

// is matches an activity of type typ by actor about objectID.
func is(typ, actor, objectID string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		if r.Type != typ || r.Doc["actor"] != actor {
			return false
		}
		switch o := r.Doc["object"].(type) {
		case string:
			return o == objectID
		case map[string]any:
			return o["id"] == objectID
		}
		return false
	}
}

func decode(t *testing.T, raw string) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// summary lists received activities for a failure message.
func summary(rs []fedtest.Received) string {
	var s string
	for _, r := range rs {
		obj := r.Doc["object"]
		if m, ok := obj.(map[string]any); ok {
			obj = fmt.Sprintf("%v{%v}", m["type"], m["object"])
		}
		s += fmt.Sprintf("\n  %s %v by %v", r.Type, obj, r.Doc["actor"])
	}
	return s
}

// Each member's server gets one request per post, in the form it reads:
// Mastodon the boost of the post (replies too) and the author's own Update
// and Delete; Lemmy the Announce of each activity; a server of unknown
// software both, the boost queued first.
func TestAnnounceFormPerServer(t *testing.T) {
	ctx := context.Background()
	a := fedtest.Start(t, storage.SQLite)
	bea, olga := a.Member("bea"), a.Member("olga")
	group := a.Community("practice", false, "olga").Actor

	masto := fedtest.NewMastodon(t)
	lemmy := fedtest.NewLemmyGroup(t)
	other := fedtest.NewUnknownServer(t)
	if _, code := masto.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("Mastodon's Follow: %d", code)
	}
	if _, code := other.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("the unknown server's Follow: %d", code)
	}
	lemmy.Join(group.URI, group.InboxURI)
	for _, uri := range []string{masto.ActorURI(), other.ActorURI(), lemmy.UserURI()} {
		fedtest.Eventually(t, uri+" joins", accepted(a, group.URI, uri))
	}
	a.WaitSoftware(masto.Domain)
	a.WaitSoftware(lemmy.Domain)

	post, err := a.Service.Post(ctx, bea, federation.NewPost{Community: "practice", Text: "Handover checklists?"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := a.Service.Post(ctx, olga, federation.NewPost{InReplyTo: post.URI, Text: "SBAR works."})
	if err != nil {
		t.Fatal(err)
	}
	// Mastodon fetches what is boosted: let it, before the deletion.
	a.Settled()
	if err := a.Service.Like(ctx, olga, post.URI); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Edit(ctx, bea, post.URI, "Handover checklists, anyone?"); err != nil {
		t.Fatal(err)
	}
	if err := a.Service.Delete(ctx, olga, reply.URI); err != nil {
		t.Fatal(err)
	}
	a.Settled()

	// Mastodon: the boosts it can show, the author's own edit and
	// deletion, nothing it cannot read.
	for _, want := range []struct {
		what  string
		match func(fedtest.Received) bool
	}{
		{"boost of the post", isAnnounceOf(post.URI)},
		{"boost of the reply", isAnnounceOf(reply.URI)},
		{"bea's own Update", is("Update", bea.URI, post.URI)},
		{"olga's own Delete of her reply", is("Delete", olga.URI, reply.URI)},
	} {
		masto.WaitFor(want.what, want.match)
	}
	if got := masto.Received(); len(got) != 5 { // and the Accept
		t.Errorf("Mastodon got %d activities, want 5:%s", len(got), summary(got))
	}
	if failed := masto.BoostFailures(); len(failed) > 0 {
		t.Errorf("Announces Mastodon could not show: %v", failed)
	}

	// Lemmy: the community's Announce of every activity, nothing else.
	waitLemmy := func(what string, match func(fedtest.Received) bool) {
		t.Helper()
		fedtest.Eventually(t, what, func() (bool, error) {
			for _, r := range lemmy.Received() {
				if match(r) {
					return true, nil
				}
			}
			return false, nil
		})
	}
	waitLemmy("Announce of the post's Create", announcesOf("Create", post.URI))
	waitLemmy("Announce of the reply's Create", announcesOf("Create", reply.URI))
	waitLemmy("Announce of the Like", announcesOf("Like", post.URI))
	waitLemmy("Announce of the Update", announcesOf("Update", post.URI))
	waitLemmy("Announce of the Delete", announcesOf("Delete", reply.URI))
	if got := lemmy.Received(); len(got) != 6 { // and the Accept
		t.Errorf("Lemmy got %d activities, want 6:%s", len(got), summary(got))
	}
	if failed := lemmy.AnnounceFailures(); len(failed) > 0 {
		t.Errorf("Announces Lemmy could not read: %v", failed)
	}

	// Unknown software: everything, each post's boost queued before
	// the Announce of its Create.
	got := other.Received()
	if len(got) != 1+5+2+2+1 { // Accept; five Announces of activities; two boosts; Update and Delete; Undo of the reply's boost
		t.Errorf("the unknown server got %d activities:%s", len(got), summary(got))
	}
	var queued []storage.Delivery
	if err := a.DB.Gorm(ctx).Where("host = ?", other.Domain).Order("id").Find(&queued).Error; err != nil {
		t.Fatal(err)
	}
	for _, o := range []*storage.Object{post, reply} {
		boost, err := a.DB.FindLocalActivity(ctx, "Announce", group.URI, o.URI)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range queued {
			if d.ActivityID == boost.ID {
				break
			}
			act, err := a.DB.GetActivityByID(ctx, d.ActivityID)
			if err != nil {
				t.Fatal(err)
			}
			if announcesOf("Create", o.URI)(fedtest.Received{Type: act.Type, Doc: decode(t, act.Raw)}) {
				t.Errorf("the Announce of %s's Create was queued to the unknown server before its boost", o.URI)
			}
		}
	}
}
