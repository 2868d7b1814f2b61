package mastoapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A deleted followers-only or direct post answers 410 Gone only to those
// who could read it; to anyone else it is an unknown id (404), as it was
// before. A deleted public or unlisted post is gone to everyone.
func TestDeletedPostAnswersByVisibility(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { testDeletedPostAnswersByVisibility(t, d) })
	}
}

func testDeletedPostAnswersByVisibility(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	n := fedtest.Start(t, d)
	ana, bo, cy := member(t, n, "ana"), member(t, n, "bo"), member(t, n, "cy")
	if _, err := n.Service.Follow(ctx, bo, "ana"); err != nil {
		t.Fatal(err)
	}
	addressed, stranger := fedtest.NewMastodon(t), fedtest.NewMastodon(t)
	n.Community("practice", false, "ana")
	top, err := n.Service.Post(ctx, ana, federation.NewPost{Community: "practice", Text: "Handover question"})
	if err != nil {
		t.Fatal(err)
	}
	visibilities := []string{"public", "unlisted", "private", "direct"}
	posts := map[string]*storage.Object{}
	for _, v := range visibilities {
		o, err := n.Service.Post(ctx, ana, federation.NewPost{InReplyTo: top.URI, Visibility: v,
			Text: "a " + v + " word for @" + addressed.Handle()})
		if err != nil {
			t.Fatal(err)
		}
		posts[v] = o
	}
	n.Settled()
	fetch := func(o *storage.Object, signer *fedtest.Mastodon, accept string) int {
		var sign func(*http.Request)
		if signer != nil {
			sign = func(r *http.Request) { signer.SignGet(r, time.Now()) }
		}
		code, _ := get(t, o.URI, accept, "", sign)
		return code
	}
	ap := "application/activity+json"
	for _, v := range visibilities {
		if code := fetch(posts[v], addressed, ap); code != http.StatusOK {
			t.Fatalf("%s post, live, fetched by the addressed server: %d", v, code)
		}
		if err := n.Service.Delete(ctx, ana, posts[v].URI); err != nil {
			t.Fatal(err)
		}
	}
	n.Settled()
	gone := func(v string) int {
		if v == "public" || v == "unlisted" {
			return http.StatusGone
		}
		return http.StatusNotFound
	}
	for _, v := range visibilities {
		o, err := n.DB.GetObjectByURI(ctx, posts[v].URI)
		if err != nil || o.DeletedAt == nil {
			t.Fatalf("%s post not deleted: %v", v, err)
		}
		for _, c := range []struct {
			who  string
			got  int
			want int
		}{
			{"fetched by the addressed server", fetch(o, addressed, ap), http.StatusGone},
			{"fetched by another server", fetch(o, stranger, ap), gone(v)},
			{"fetched unsigned", fetch(o, nil, ap), gone(v)},
			{"replies fetched by another server", func() int {
				code, _ := get(t, o.URI+"/replies", ap, "", func(r *http.Request) { stranger.SignGet(r, time.Now()) })
				return code
			}(), gone(v)},
			{"page at its id, signed out", fetch(o, nil, "text/html"), gone(v)},
			{"page, signed out", func() int {
				code, _ := get(t, n.URL+"/posts/"+strconv.FormatInt(o.ID, 10), "text/html", "", nil)
				return code
			}(), gone(v)},
		} {
			if c.got != c.want {
				t.Errorf("deleted %s post %s: %d, want %d", v, c.who, c.got, c.want)
			}
		}
		// Who could read it, as the web's page asks.
		for _, w := range []struct {
			who  *storage.Actor
			want bool
		}{{bo, v != "direct"}, {cy, v == "public" || v == "unlisted"}, {ana, true}} {
			if ok, err := n.DB.CouldSee(ctx, w.who, o); err != nil || ok != w.want {
				t.Errorf("could %s see the deleted %s post: %v (%v), want %v", w.who.Username, v, ok, err, w.want)
			}
			if ok, err := n.DB.CanSee(ctx, w.who, o); err != nil || ok {
				t.Errorf("can %s see the deleted %s post: %v (%v)", w.who.Username, v, ok, err)
			}
		}
	}
}
