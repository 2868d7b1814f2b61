package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// A community's page shows its latest posts to people who have not joined,
// with nothing from a post's HTML able to run.
func TestCommunityPagePosts(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		ctx := t.Context()
		alice, err := db.GetLocalActor(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Post(ctx, alice, federation.NewPost{Community: "practice", Title: "Phonics kits", Text: "Which kit do you use? <b>bold</b>"}); err != nil {
			t.Fatal(err)
		}
		group, _ := db.GetLocalActor(ctx, "practice")
		// A row stored before sanitising existed, or by a bug: the page
		// must not trust it.
		raw := &storage.Object{URI: "https://remote.example/notes/1", Type: "Note", AuthorActorID: alice.ID,
			CommunityActorID: &group.ID, Content: `<p>hello<script>alert(1)</script><a href="javascript:x()">x</a></p>`,
			PublishedAt: time.Now().Add(-time.Hour)}
		if err := db.CreateObject(ctx, raw); err != nil {
			t.Fatal(err)
		}
		page := f.get("/c/practice", acceptHTML)
		mustStatus(t, page, http.StatusOK)
		body := string(page.body)
		for _, want := range []string{">Phonics kits</a></h3>", "Which kit do you use? &lt;b&gt;bold&lt;/b&gt;", "@alice@community.example", "hello"} {
			if !strings.Contains(body, want) {
				t.Errorf("community page lacks %q", want)
			}
		}
		if strings.Contains(body, "<script>") || strings.Contains(body, "javascript:") {
			t.Errorf("community page lets post HTML run:\n%s", body)
		}
		// Newest arrival first: the row stored last leads.
		if strings.Index(body, "hello") > strings.Index(body, "Phonics kits") {
			t.Error("posts are not in arrival order, newest first")
		}
	})
}

// TestThreadPageBounded: a visitor who is not signed in sees the first
// 60 replies of a thread, told that there are more; the old page read
// and rendered up to 1,000 for anyone.
func TestThreadPageBounded(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		f := seeded(t, db)
		alice, err := db.GetLocalActor(ctx, "alice")
		if err != nil {
			t.Fatal(err)
		}
		add := func(text string, parent *storage.Object) *storage.Object {
			o := &storage.Object{URI: f.svc.URLs.NewObject(), Type: "Note", AuthorActorID: alice.ID,
				Content: "<p>" + text + "</p>", Local: true, PublishedAt: time.Now().UTC()}
			o.ContextURI = o.URI
			if parent != nil {
				o.InReplyToID, o.InReplyToURI, o.ContextURI, o.ReplyDepth = &parent.ID, parent.URI, parent.ContextURI, 1
			}
			if err := db.CreateObject(ctx, o); err != nil {
				t.Fatal(err)
			}
			return o
		}
		root := add("the question", nil)
		for i := range 100 {
			add(fmt.Sprintf("answer-%03d", i), root)
		}
		res := f.get(fmt.Sprintf("/posts/%d", root.ID), "text/html")
		mustStatus(t, res, http.StatusOK)
		if n := strings.Count(string(res.body), "answer-"); n != 60 {
			t.Errorf("a visitor sees %d replies, want 60", n)
		}
		if !strings.Contains(string(res.body), "The first 60 replies are shown.") {
			t.Error("the page does not say that replies are left out")
		}
	})
}
