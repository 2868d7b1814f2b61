package fedtest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A reply to a post in a closed community is judged by that community,
// whatever Group it also addresses (issue 9 item 4): a non-member's reply
// with a remote Group in cc is not stored in the thread and notifies no
// one; a member's is stored in the thread's community, not the Group's.
func TestReplyJudgedByThread(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { replyJudgedByThread(t, d) })
	}
}

func replyJudgedByThread(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a, b := fedtest.Start(t, d), fedtest.Start(t, storage.SQLite)
	olga := a.Member("olga")
	closed := a.Community("ward", true, "olga").Actor
	b.Member("bea")
	elsewhere := b.Community("elsewhere", false, "bea").Actor
	// A local member joins B's community, so A knows it as a Group.
	if _, err := a.Service.Join(ctx, olga, b.Handle("elsewhere")); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "olga's join accepted", accepted(a, elsewhere.URI, olga.URI))
	post, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "ward", Text: "Members only"})
	if err != nil {
		t.Fatal(err)
	}
	a.Settled()

	m := fedtest.NewMastodon(t)
	public := []string{"https://www.w3.org/ns/activitystreams#Public"}
	followersOnly := []string{m.ActorURI() + "/followers"}
	direct := []string{olga.URI}
	replyTo := func(to []string, cc ...string) string {
		id := m.NewID("statuses")
		note := map[string]any{"id": id, "type": "Note", "attributedTo": m.ActorURI(), "inReplyTo": post.URI,
			"content": "<p>Not a member, replying anyway</p>", "published": time.Now().UTC().Format(time.RFC3339),
			"to": to, "cc": append([]string{olga.URI}, cc...),
			"tag": []map[string]string{{"type": "Mention", "href": olga.URI, "name": "@olga"}}}
		code := m.Send(a.URL+"/u/olga/inbox", map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
			"id": id + "/activity", "type": "Create", "actor": m.ActorURI(), "to": note["to"], "cc": note["cc"], "object": note})
		if code != http.StatusAccepted {
			t.Fatalf("Create of %s: %d", id, code)
		}
		a.Settled()
		return id
	}
	reply := func(cc ...string) string { return replyTo(public, cc...) }
	notStored := func(what, id string) {
		t.Helper()
		if o, err := object(a, id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("%s: stored (%+v, %v)", what, o, err)
		}
	}
	notStored("a non-member's reply", reply())
	notStored("a non-member's reply with a remote Group in cc", reply(elsewhere.URI))
	notStored("a non-member's reply with the closed community and a remote Group in cc", reply(elsewhere.URI, closed.URI))
	// Followers-only and direct replies stay out of every community, but
	// they are stored in the thread: the thread's community judges them.
	notStored("a non-member's followers-only reply", replyTo(followersOnly))
	notStored("a non-member's direct reply", replyTo(direct))
	var n int64
	if err := a.DB.Gorm(ctx).Model(&storage.Notification{}).Where("recipient_actor_id = ?", olga.ID).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d notifications after refused replies", n)
	}

	// Once a member, the same reply (with the Group in cc) is stored in
	// the ward's thread and community, not under B's community.
	if code := m.Send(closed.InboxURI, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": m.NewID("follows"), "type": "Follow", "actor": m.ActorURI(), "object": closed.URI}); code != http.StatusAccepted {
		t.Fatalf("follow: %d", code)
	}
	a.Settled()
	if _, err := a.Service.Decide(ctx, "ward", m.ActorURI(), true); err != nil {
		t.Fatal(err)
	}
	private, err := object(a, replyTo(followersOnly))
	if err != nil {
		t.Fatalf("a member's followers-only reply: %v", err)
	}
	if private.CommunityActorID != nil || private.InReplyToID == nil || *private.InReplyToID != post.ID {
		t.Errorf("a member's followers-only reply is in community %v, replying to %v; want none, %d", fmt.Sprint(derefID(private.CommunityActorID)), fmt.Sprint(derefID(private.InReplyToID)), post.ID)
	}
	id := reply(elsewhere.URI)
	o, err := object(a, id)
	if err != nil {
		t.Fatalf("a member's reply: %v", err)
	}
	if o.CommunityActorID == nil || *o.CommunityActorID != closed.ID || o.InReplyToID == nil || *o.InReplyToID != post.ID {
		t.Errorf("a member's reply is in community %v, replying to %v; want %d, %d", fmt.Sprint(derefID(o.CommunityActorID)), fmt.Sprint(derefID(o.InReplyToID)), closed.ID, post.ID)
	}
}

func derefID(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
