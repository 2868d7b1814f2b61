package fedtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A local member follows a community on Lemmy and receives what it
// redistributes: an Announce of a Create from the community's own server
// (trusted as embedded), an Announce of a bare id on a third server
// (fetched from its origin), and an Announce whose embedded copy of a
// third server's post was tampered with (the origin's copy wins).
func TestRemoteCommunityOnLemmy(t *testing.T) {
	ctx := context.Background()
	b := fedtest.Start(t, storage.SQLite)
	bea := b.Member("bea")
	l := fedtest.NewLemmyGroup(t)
	m := fedtest.NewMastodon(t)

	if _, err := b.Service.Join(ctx, bea, l.Handle()); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "Lemmy accepts bea", accepted(b, l.URI(), bea.URI))

	pageID, create := l.NewPage("Handover checklists", "<p>Share yours.</p><script>alert(1)</script>")
	l.Announce(create)
	fedtest.Eventually(t, "the Page from Lemmy is stored", func() (bool, error) {
		o, err := object(b, pageID)
		return err == nil && o.Name == "Handover checklists" && o.CommunityActor != nil && o.CommunityActor.URI == l.URI(), err
	})
	if o, _ := object(b, pageID); strings.Contains(o.Content, "script") {
		t.Fatalf("remote HTML not sanitised: %q", o.Content)
	}

	// A Mastodon user's post in the community, announced as a bare id.
	noteID, code := m.PostToGroup(l.URI(), l.Handle(), l.URI()+"/inbox", "From Mastodon")
	if code != http.StatusOK {
		t.Fatalf("post to Lemmy: %d", code)
	}
	l.Announce(noteID)
	fedtest.Eventually(t, "the bare-id Announce is fetched from its origin", func() (bool, error) {
		o, err := object(b, noteID)
		return err == nil && strings.Contains(o.Content, "From Mastodon") && o.CommunityActor != nil && o.CommunityActor.URI == l.URI(), err
	})

	// An embedded copy of another server's post is not trusted.
	noteID2, _ := m.PostToGroup(l.URI(), l.Handle(), l.URI()+"/inbox", "The real text")
	forged := map[string]any{"id": noteID2 + "/activity", "type": "Create", "actor": m.ActorURI(),
		"to": []string{"https://www.w3.org/ns/activitystreams#Public"},
		"object": map[string]any{"id": noteID2, "type": "Note", "attributedTo": m.ActorURI(), "content": "FORGED",
			"to": []string{"https://www.w3.org/ns/activitystreams#Public"}}}
	l.Announce(forged)
	fedtest.Eventually(t, "the origin's copy is stored", func() (bool, error) {
		o, err := object(b, noteID2)
		return err == nil && strings.Contains(o.Content, "The real text"), err
	})

	// bea posts to the Lemmy community: it receives her signed Create.
	post, err := b.Service.Post(ctx, bea, federation.NewPost{Community: l.Handle(), Text: "Hello lemmings"})
	if err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "Lemmy receives bea's Create", func() (bool, error) {
		for _, r := range l.Received() {
			obj, _ := r.Doc["object"].(map[string]any)
			if r.Type == "Create" && obj != nil && obj["id"] == post.URI && obj["audience"] == l.URI() {
				return true, nil
			}
		}
		return false, nil
	})
}

// A remote actor who rotates its key is re-fetched once and verified.
func TestKeyRotation(t *testing.T) {
	a := fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	m := fedtest.NewMastodon(t)
	if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("follow: %d", code)
	}
	fedtest.Eventually(t, "alice is a member", accepted(a, group.URI, m.ActorURI()))
	// The cached copy is a minute old: verification failures re-fetch a
	// key at most every few seconds, so that bad signatures cannot make us
	// hammer a server.
	if err := a.DB.Gorm(context.Background()).Model(&storage.Actor{}).Where("uri = ?", m.ActorURI()).
		Update("fetched_at", time.Now().Add(-time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	m.RotateKey()
	if _, code := m.PostToGroup(group.URI, a.Handle("practice"), group.InboxURI, "signed with my new key"); code != http.StatusAccepted {
		t.Fatalf("post after key rotation: %d, want 202", code)
	}
}

// Remote actors are trusted only when WebFinger and the actor document
// agree, and a fetched document's id must be the URL it came from.
func TestActorTrust(t *testing.T) {
	cases := []struct {
		name   string
		break_ func(m *fedtest.Mastodon)
	}{
		{"webfinger points elsewhere", func(m *fedtest.Mastodon) { m.SetWebFingerSelf(m.ActorURI() + "-impostor") }},
		{"document claims another id", func(m *fedtest.Mastodon) { m.SetActorID(m.ActorURI() + "-impostor") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			a := fedtest.Start(t, storage.SQLite)
			group := a.Community("practice", false, "").Actor
			m := fedtest.NewMastodon(t)
			tc.break_(m)
			if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusUnauthorized {
				t.Fatalf("follow from an untrusted actor: %d, want 401", code)
			}
			if _, err := a.DB.GetActorByURI(ctx, m.ActorURI()); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("untrusted actor stored: %v", err)
			}
			if n, _ := a.DB.CountActivities(ctx, ""); n != 0 {
				t.Fatalf("%d activities stored", n)
			}
		})
	}
}

// Likes are recorded and redistributed; a post serves its replies.
func TestLikesAndReplies(t *testing.T) {
	ctx := context.Background()
	a, b, c := fedtest.Start(t, storage.SQLite), fedtest.Start(t, storage.SQLite), fedtest.Start(t, storage.SQLite)
	a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	bea, ben := b.Member("bea"), c.Member("ben")
	for _, m := range []struct {
		node *fedtest.Node
		who  *storage.Actor
	}{{b, bea}, {c, ben}} {
		if _, err := m.node.Service.Join(ctx, m.who, a.Handle("practice")); err != nil {
			t.Fatal(err)
		}
		fedtest.Eventually(t, "join accepted", accepted(m.node, group.URI, m.who.URI))
	}
	post, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("practice"), Text: "A question"})
	if err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "C has the post", func() (bool, error) { _, err := object(c, post.URI); return err == nil, nil })
	if err := c.Service.Like(ctx, ben, post.URI); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "A records the like", func() (bool, error) {
		o, err := object(a, post.URI)
		if err != nil {
			return false, err
		}
		n, err := a.DB.CountLikes(ctx, o.ID)
		return n == 1, err
	})
	// bea's own server hears of it too, from C directly.
	fedtest.Eventually(t, "B records the like on bea's post", func() (bool, error) {
		n, err := b.DB.CountLikes(ctx, post.ID)
		return n == 1, err
	})
	a.Settled()

	reply, err := c.Service.Post(ctx, ben, federation.NewPost{InReplyTo: post.URI, Text: "An answer"})
	if err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "the reply is in the post's replies collection", func() (bool, error) {
		req, _ := http.NewRequest(http.MethodGet, post.URI+"/replies?page=true", nil)
		req.Header.Set("Accept", "application/activity+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var page struct {
			OrderedItems []string `json:"orderedItems"`
		}
		json.Unmarshal(body, &page)
		return len(page.OrderedItems) == 1 && page.OrderedItems[0] == reply.URI, nil
	})
}

// A post outside any community (a followed person's, seen from another
// instance) can be liked and answered: both go to its author.
func TestLikeAndReplyOutsideCommunities(t *testing.T) {
	ctx := context.Background()
	a, b := fedtest.Start(t, storage.SQLite), fedtest.Start(t, storage.SQLite)
	olga := a.Member("olga")
	a.Community("quiet", false, "olga")
	bea := b.Member("bea")
	if _, err := b.Service.Follow(ctx, bea, a.Handle("olga")); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "bea follows olga", accepted(b, olga.URI, bea.URI))
	post, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "quiet", Text: "Nobody on B is in this community"})
	if err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "B stores olga's post, in no community", func() (bool, error) {
		o, err := object(b, post.URI)
		return err == nil && o.CommunityActorID == nil, err
	})
	if err := b.Service.Like(ctx, bea, post.URI); err != nil {
		t.Fatalf("like of a post outside communities: %v", err)
	}
	reply, err := b.Service.Post(ctx, bea, federation.NewPost{InReplyTo: post.URI, Text: "Thanks!"})
	if err != nil {
		t.Fatalf("reply to a post outside communities: %v", err)
	}
	fedtest.Eventually(t, "A records the like and the reply", func() (bool, error) {
		n, err := a.DB.CountLikes(ctx, post.ID)
		if err != nil || n != 1 {
			return false, err
		}
		r, err := object(a, reply.URI)
		return err == nil && r.InReplyToID != nil && *r.InReplyToID == post.ID, err
	})
	// Liking one's own post outside communities is kept on one's own
	// server, as Mastodon lets an author favourite their own post; nobody
	// else is told.
	own, _ := object(b, reply.URI)
	if err := b.Service.Like(ctx, bea, own.URI); err != nil {
		t.Fatalf("like of one's own reply: %v", err)
	}
	b.Settled()
	if n, err := b.DB.CountLikes(ctx, own.ID); err != nil || n != 1 {
		t.Fatalf("likes of bea's own reply on B: %d (%v), want 1", n, err)
	}
	if r, err := object(a, reply.URI); err != nil {
		t.Fatal(err)
	} else if n, err := a.DB.CountLikes(ctx, r.ID); err != nil || n != 0 {
		t.Fatalf("A heard of bea's like of her own reply: %d (%v)", n, err)
	}
}
