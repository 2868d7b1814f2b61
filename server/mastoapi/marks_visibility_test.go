package mastoapi_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A member favourites and bookmarks (and takes back, and lists) every post
// they can see, whatever its visibility, and none they cannot (404, as
// Mastodon answers). Boosts follow Mastodon's StatusPolicy#reblog?: public
// and unlisted posts by anyone who sees them, a followers-only post by its
// own author only, a direct post never.
func TestMarksFollowVisibility(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { testMarksFollowVisibility(t, d) })
	}
}

func testMarksFollowVisibility(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	n := fedtest.Start(t, d)
	ana, bo := member(t, n, "ana"), member(t, n, "bo")
	member(t, n, "cy")
	olga := member(t, n, "olga")
	if _, err := n.Service.CreateCommunity(ctx, federation.NewCommunity{
		Name: "circle", Title: "Circle", Summary: "Hard cases.", MembersOnly: true, Owner: "olga",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Service.Join(ctx, bo, "circle"); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Service.Decide(ctx, "circle", bo.URI, true); err != nil {
		t.Fatal(err)
	}
	if _, err := n.Service.Follow(ctx, bo, "ana"); err != nil {
		t.Fatal(err)
	}
	n.Community("practice", false, "ana")
	top, err := n.Service.Post(ctx, ana, federation.NewPost{Community: "practice", Text: "Handover question"})
	if err != nil {
		t.Fatal(err)
	}
	posts := map[string]*storage.Object{}
	for _, v := range []string{"public", "unlisted", "private", "direct"} {
		o, err := n.Service.Post(ctx, ana, federation.NewPost{InReplyTo: top.URI, Visibility: v, Text: "a " + v + " word for @bo"})
		if err != nil {
			t.Fatal(err)
		}
		posts[v] = o
	}
	if posts["members"], err = n.Service.Post(ctx, olga, federation.NewPost{Community: "circle", Text: "among us"}); err != nil {
		t.Fatal(err)
	}
	if posts["members"].Visibility != storage.VisibilityMembers {
		t.Fatalf("post in the members-only community is %q", posts["members"].Visibility)
	}
	n.Settled()
	boC := newClient(t, n, tokenFor(t, n, "bo", "read write"))
	cyC := newClient(t, n, tokenFor(t, n, "cy", "read write"))
	anaC := newClient(t, n, tokenFor(t, n, "ana", "read write"))
	path := func(v, action string) string {
		return "/api/v1/statuses/" + strconv.FormatInt(posts[v].ID, 10) + "/" + action
	}
	listed := func(c *client, which string) []string {
		var ids []string
		for _, s := range c.ok("GET", "/api/v1/"+which, nil).list(t) {
			ids = append(ids, str(field(s, "id")))
		}
		slices.Sort(ids)
		return ids
	}
	var all []string
	for v := range posts {
		all = append(all, strconv.FormatInt(posts[v].ID, 10))
	}
	slices.Sort(all)

	for v := range posts {
		for _, action := range []string{"favourite", "bookmark"} {
			if r := boC.do("POST", path(v, action), nil); r.StatusCode != http.StatusOK {
				t.Errorf("bo %s %s post: %d %s", action, v, r.StatusCode, r.body)
			}
			want := http.StatusNotFound
			if v == "public" || v == "unlisted" {
				want = http.StatusOK
			}
			if r := cyC.do("POST", path(v, action), nil); r.StatusCode != want {
				t.Errorf("cy %s %s post: %d, want %d: %s", action, v, r.StatusCode, want, r.body)
			}
		}
	}
	for _, which := range []string{"favourites", "bookmarks"} {
		if got := listed(boC, which); !slices.Equal(got, all) {
			t.Errorf("bo's %s: %v, want %v", which, got, all)
		}
		if got := listed(cyC, which); len(got) != 2 {
			t.Errorf("cy's %s: %v, want the public and unlisted posts", which, got)
		}
	}
	for v := range posts {
		for _, action := range []string{"unfavourite", "unbookmark"} {
			if r := boC.do("POST", path(v, action), nil); r.StatusCode != http.StatusOK {
				t.Errorf("bo %s %s post: %d %s", action, v, r.StatusCode, r.body)
			}
		}
	}
	for _, which := range []string{"favourites", "bookmarks"} {
		if got := listed(boC, which); len(got) != 0 {
			t.Errorf("bo's %s after taking them back: %v", which, got)
		}
	}

	// An author favourites their own post too, as on Mastodon (kept here:
	// nobody else is told).
	anaC.ok("POST", path("private", "favourite"), nil)
	if got := listed(anaC, "favourites"); len(got) != 1 || got[0] != strconv.FormatInt(posts["private"].ID, 10) {
		t.Errorf("ana's favourites: %v, want her own followers-only post", got)
	}
	anaC.ok("POST", path("private", "unfavourite"), nil)
	if got := listed(anaC, "favourites"); len(got) != 0 {
		t.Errorf("ana's favourites after taking it back: %v", got)
	}

	// Boosts, as Mastodon's StatusPolicy#reblog? allows them.
	for _, c := range []struct {
		who  *client
		v    string
		want int
	}{
		{boC, "public", http.StatusOK}, {boC, "unlisted", http.StatusOK},
		{boC, "private", http.StatusForbidden}, {boC, "direct", http.StatusForbidden},
		{boC, "members", http.StatusForbidden},
		{cyC, "private", http.StatusNotFound}, {cyC, "direct", http.StatusNotFound},
		{anaC, "private", http.StatusOK}, {anaC, "direct", http.StatusForbidden},
	} {
		r := c.who.do("POST", path(c.v, "reblog"), nil)
		if r.StatusCode != c.want {
			t.Errorf("reblog of the %s post: %d, want %d: %s", c.v, r.StatusCode, c.want, r.body)
			continue
		}
		if c.want == http.StatusOK && c.v == "private" {
			if got := str(field(r.object(t), "visibility")); got != "private" {
				t.Errorf("the author's boost of a followers-only post is %q, want private", got)
			}
		}
	}
}
