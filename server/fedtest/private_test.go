package fedtest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Followers-only and direct posts between Commonplace and the strict
// Mastodon stand-in, both ways: what Commonplace sends reaches only the
// servers of its readers, addressed so that Mastodon reads the same
// visibility and shows it to the same people; what Mastodon sends is read
// with Mastodon's meaning and shown here to the right members only.
func TestPrivatePostsWithMastodon(t *testing.T) {
	ctx := context.Background()
	a := fedtest.Start(t, storage.SQLite)
	ana, bo := a.Member("ana"), a.Member("bo")
	m := fedtest.NewMastodon(t)  // alice follows ana
	m2 := fedtest.NewMastodon(t) // nobody here knows this server's alice
	if _, code := m.Follow(ana.URI, ana.InboxURI); code != http.StatusAccepted {
		t.Fatalf("Follow: %d", code)
	}
	m.WaitFor("Accept of alice's follow", func(r fedtest.Received) bool { return r.Type == "Accept" })

	post := func(v, text string) *storage.Object {
		t.Helper()
		o, err := a.Service.Post(ctx, ana, federation.NewPost{Visibility: v, Text: text})
		if err != nil {
			t.Fatalf("%s post: %v", v, err)
		}
		return o
	}
	priv := post(storage.VisibilityPrivate, "For my followers only")
	dmBo := post(storage.VisibilityDirect, "@bo between us")
	dmAlice := post(storage.VisibilityDirect, "@"+m.Handle()+" a hard case")
	created := func(uri string) func(fedtest.Received) bool {
		return func(r fedtest.Received) bool {
			o, _ := r.Doc["object"].(map[string]any)
			return r.Type == "Create" && o != nil && o["id"] == uri
		}
	}
	for _, c := range []struct {
		o          *storage.Object
		visibility string
	}{{priv, "private"}, {dmAlice, "direct"}} {
		note := m.WaitFor("the "+c.visibility+" post", created(c.o.URI)).Doc["object"].(map[string]any)
		if got := fedtest.MastodonVisibility(note, ana.FollowersURI); got != c.visibility {
			t.Errorf("Mastodon reads the %s post as %s: %v %v", c.visibility, got, note["to"], note["cc"])
		}
		if !m.ShowsToAlice(note, ana.FollowersURI, true) {
			t.Errorf("Mastodon would not show the %s post to alice", c.visibility)
		}
	}
	if note := m.WaitFor("the DM", created(dmAlice.URI)).Doc["object"].(map[string]any); !m.ShowsToAlice(note, ana.FollowersURI, false) {
		t.Error("Mastodon would not show the DM to alice were she not a follower")
	}
	if note := m.WaitFor("the private post", created(priv.URI)).Doc["object"].(map[string]any); m.ShowsToAlice(note, ana.FollowersURI, false) {
		t.Error("Mastodon would show the followers-only post to a non-follower")
	}
	a.Settled()
	for _, r := range m.Received() {
		if created(dmBo.URI)(r) {
			t.Errorf("alice's server got a DM for bo: %s", r.Raw)
		}
	}
	if got := m2.Received(); len(got) != 0 {
		t.Errorf("a server nobody addressed got %d activities", len(got))
	}

	// A fetch by id: alice's server (signed) gets the DM; another
	// server, signed or not, finds nothing.
	fetch := func(sign func(*http.Request)) int {
		req, _ := http.NewRequest(http.MethodGet, dmAlice.URI, nil)
		req.Header.Set("Accept", "application/activity+json")
		if sign != nil {
			sign(req)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := fetch(func(r *http.Request) { m.SignGet(r, time.Now()) }); code != http.StatusOK {
		t.Errorf("alice's server fetches the DM: %d", code)
	}
	if code := fetch(func(r *http.Request) { m2.SignGet(r, time.Now()) }); code != http.StatusNotFound {
		t.Errorf("another server fetches the DM: %d", code)
	}
	if code := fetch(nil); code != http.StatusNotFound {
		t.Errorf("an unsigned fetch of the DM: %d", code)
	}

	// The other way: ana follows alice; alice writes to her followers,
	// and a DM to bo.
	if _, err := a.Service.Follow(ctx, ana, m.ActorURI()); err != nil {
		t.Fatal(err)
	}
	follow := m.WaitFor("ana's Follow", func(r fedtest.Received) bool { return r.Type == "Follow" })
	if code := m.Send(ana.InboxURI, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": m.NewID("accepts"), "type": "Accept", "actor": m.ActorURI(), "object": follow.Doc}); code != http.StatusAccepted {
		t.Fatalf("Accept: %d", code)
	}
	fedtest.Eventually(t, "ana follows alice", func() (bool, error) {
		alice, err := a.DB.GetActorByURI(ctx, m.ActorURI())
		if err != nil {
			return false, nil
		}
		ms, err := a.DB.GetMembership(ctx, alice.ID, ana.ID)
		return err == nil && ms.State == storage.StateAccepted, nil
	})
	privIn, code := m.PostWithVisibility(a.URL+"/inbox", "private", "To my followers", nil)
	if code != http.StatusAccepted {
		t.Fatalf("private Create: %d", code)
	}
	dmIn, code := m.PostWithVisibility(a.URL+"/inbox", "direct", "to bo alone", map[string]string{bo.URI: a.Handle("bo")})
	if code != http.StatusAccepted {
		t.Fatalf("direct Create: %d", code)
	}
	var stored = map[string]*storage.Object{}
	fedtest.Eventually(t, "both stored", func() (bool, error) {
		for _, uri := range []string{privIn, dmIn} {
			o, err := a.DB.GetObjectByURI(ctx, uri)
			if err != nil {
				return false, nil
			}
			stored[uri] = o
		}
		return true, nil
	})
	for _, c := range []struct {
		uri, visibility string
		reader          *storage.Actor
		outsider        *storage.Actor
	}{{privIn, storage.VisibilityPrivate, ana, bo}, {dmIn, storage.VisibilityDirect, bo, ana}} {
		o := stored[c.uri]
		if o.Visibility != c.visibility {
			t.Errorf("%s stored as %s, want %s", c.uri, o.Visibility, c.visibility)
		}
		for _, v := range []struct {
			who  *storage.Actor
			want bool
		}{{c.reader, true}, {c.outsider, false}, {nil, false}} {
			if ok, err := a.DB.CanSee(ctx, v.who, o); err != nil || ok != v.want {
				t.Errorf("%s post seen by %v: %v (%v), want %v", c.visibility, v.who, ok, err, v.want)
			}
		}
	}
	if _, err := a.DB.GetConversationByThread(ctx, bo.ID, stored[dmIn].ContextURI); err != nil {
		t.Errorf("bo has no conversation of alice's DM: %v", err)
	}
	home, err := a.DB.ListStatuses(ctx, storage.StatusFilter{HomeOf: ana.ID, VisibleTo: ana, Page: storage.Page{Limit: 20}})
	if err != nil {
		t.Fatal(err)
	}
	if len(home) == 0 || home[0].URI != privIn {
		t.Errorf("ana's home does not begin with alice's followers-only post: %d posts", len(home))
	}
}
