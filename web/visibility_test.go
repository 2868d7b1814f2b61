package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// The composers offer who may read a post, without script: a community's
// composer public or unlisted (a community is public talk), none in a
// members-only one (every post there is for its members); a reply any of
// the four, the parent's when it is followers-only. A followers-only reply
// that mentions a community is refused with the reason, nothing lost.
func TestComposerVisibility(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s := startSite(t, db, nil)
		ctx := t.Context()
		for _, name := range []string{"alice", "bob"} {
			if _, err := s.svc.CreateAccount(ctx, federation.NewAccount{Username: name, Email: name + "@example.org", Password: pw}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.svc.CreateCommunity(ctx, federation.NewCommunity{Name: "practice", Title: "Practice", Owner: "alice"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.CreateCommunity(ctx, federation.NewCommunity{Name: "circle", Title: "Circle", MembersOnly: true, Owner: "alice"}); err != nil {
			t.Fatal(err)
		}
		alice := s.signedIn(t, "alice")
		alice.get("/c/practice").must(t, 200, `<legend>Who may read it</legend>`,
			`type="radio" id="visibility-public" name="visibility" value="public" checked`, `value="unlisted"`)
		if p := alice.get("/c/practice"); strings.Contains(p.body, `value="private"`) || strings.Contains(p.body, `value="direct"`) {
			t.Error("a community's composer offers followers-only or direct posts")
		}
		if p := alice.get("/c/circle"); strings.Contains(p.body, `name="visibility"`) {
			t.Error("a members-only community's composer offers a visibility")
		}

		res := alice.submit("/c/practice", "/c/practice/posts", url.Values{"text": {"Handover, quietly"}, "visibility": {"unlisted"}})
		res.must(t, 303)
		top, err := db.GetObjectByURI(ctx, s.url+res.location)
		if err != nil {
			t.Fatalf("post at %s: %v", res.location, err)
		}
		if top.Visibility != storage.VisibilityUnlisted {
			t.Fatalf("post from the composer is %q, want unlisted", top.Visibility)
		}
		alice.get(res.location).must(t, 200, `value="public" checked`, `value="private"`, `value="direct"`,
			`<label for="visibility-private">Followers only</label>`)

		topPath := "/posts/" + itoa(top.ID)
		res = alice.submit(topPath, topPath+"/reply", url.Values{"text": {"Only for my followers"}, "visibility": {"private"}})
		res.must(t, 303)
		_, frag, _ := strings.Cut(res.location, "#post-")
		reply, err := db.GetObjectByID(ctx, int64(atoi(t, frag)))
		if err != nil {
			t.Fatal(err)
		}
		if reply.Visibility != storage.VisibilityPrivate {
			t.Fatalf("reply is %q, want private", reply.Visibility)
		}
		// Replying to it starts followers-only, as Mastodon's composer.
		alice.get("/posts/"+itoa(reply.ID)).must(t, 200, `value="private" checked`)
		// Followers-only and mentioning the community: refused, with why.
		alice.submit(topPath, topPath+"/reply",
			url.Values{"text": {"@practice a private word"}, "visibility": {"private"}}).
			must(t, 422, "public talk", "@practice a private word", `value="private" checked`)
	})
}
