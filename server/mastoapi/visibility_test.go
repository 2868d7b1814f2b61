package mastoapi_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// get fetches path on base, as a browser (Accept text/html), an app
// (application/json) or a server (application/activity+json, signed when
// sign is set), and returns the status and body.
func get(t *testing.T, rawURL, accept, token string, sign func(*http.Request)) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", accept)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if sign != nil {
		sign(req)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// Every read path shows each of the four visibilities to exactly the
// people Mastodon shows it to, across two instances: ana posts four
// replies in a community thread (public, unlisted, followers-only,
// direct), each naming dan on the second instance. bo follows ana here,
// cy does not; on the second instance dan is named, fay follows ana and
// eve only belongs to the community. A Mastodon stand-in that nobody
// addresses fetches with a valid signature.
func TestVisibilityReadPaths(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { testVisibilityReadPaths(t, d) })
	}
}

func testVisibilityReadPaths(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a := fedtest.Start(t, d)
	b := fedtest.Start(t, storage.SQLite)
	ana, bo := member(t, a, "ana"), member(t, a, "bo")
	member(t, a, "cy")
	member(t, b, "dan")
	eve, fay := member(t, b, "eve"), member(t, b, "fay")
	group := a.Community("practice", false, "ana").Actor
	for _, f := range []struct {
		n      *fedtest.Node
		who    *storage.Actor
		target string
	}{{a, bo, "ana"}, {b, fay, a.Handle("ana")}, {b, eve, a.Handle("practice")}} {
		if _, err := f.n.Service.Follow(ctx, f.who, f.target); err != nil {
			t.Fatal(err)
		}
	}
	fedtest.Eventually(t, "fay and eve follow", func() (bool, error) {
		m1, err1 := b.DB.GetMembership(ctx, mustActor(t, b, ana.URI).ID, fay.ID)
		m2, err2 := b.DB.GetMembership(ctx, mustActor(t, b, group.URI).ID, eve.ID)
		return err1 == nil && err2 == nil && m1.State == storage.StateAccepted && m2.State == storage.StateAccepted, nil
	})
	stranger := fedtest.NewMastodon(t)

	top, err := a.Service.Post(ctx, ana, federation.NewPost{Community: "practice", Text: "Handover question"})
	if err != nil {
		t.Fatal(err)
	}
	visibilities := []string{"public", "unlisted", "private", "direct"}
	posts := map[string]*storage.Object{}
	for _, v := range visibilities {
		o, err := a.Service.Post(ctx, ana, federation.NewPost{InReplyTo: top.URI, Visibility: v,
			Text: "secret" + v + " #vistest for @" + b.Handle("dan")})
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if o.Visibility != v {
			t.Fatalf("%s post stored as %q", v, o.Visibility)
		}
		posts[v] = o
	}
	// A followers-only or direct post that mentions a community is
	// refused: a community is public talk.
	for _, v := range []string{"private", "direct"} {
		_, err := a.Service.Post(ctx, ana, federation.NewPost{Visibility: v, Text: "hello @practice"})
		if err == nil || !strings.Contains(err.Error(), "public talk") {
			t.Errorf("%s post mentioning the community: %v", v, err)
		}
	}
	a.Settled()
	b.Settled()

	tok := func(n *fedtest.Node, name string) string { return tokenFor(t, n, name, "read write follow") }
	boTok, cyTok := tok(a, "bo"), tok(a, "cy")
	danTok, eveTok, fayTok := tok(b, "dan"), tok(b, "eve"), tok(b, "fay")
	contains := func(body, v string) bool { return strings.Contains(body, "secret"+v) }
	// Where each visibility may be seen: the expected answer per path.
	type row struct {
		path string
		want map[string]bool // visibility -> seen
		seen func(v string, o *storage.Object) bool
	}
	only := func(vs ...string) map[string]bool {
		m := map[string]bool{}
		for _, v := range vs {
			m[v] = true
		}
		return m
	}
	all := only(visibilities...)
	listed := only("public")
	anyone := only("public", "unlisted")
	followers := only("public", "unlisted", "private")

	bodyOf := func(rawURL, accept, token string, sign func(*http.Request)) string {
		code, body := get(t, rawURL, accept, token, sign)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", rawURL, code, body)
		}
		return body
	}
	status := func(n *fedtest.Node, token string, o *storage.Object) bool {
		local, err := n.DB.GetObjectByURI(ctx, o.URI)
		if err != nil {
			return false // never arrived
		}
		code, _ := get(t, n.URL+"/api/v1/statuses/"+strconv.FormatInt(local.ID, 10), "application/json", token, nil)
		return code == http.StatusOK
	}
	threadAPI := func(n *fedtest.Node, token string) func(string, *storage.Object) bool {
		return func(v string, _ *storage.Object) bool {
			local, err := n.DB.GetObjectByURI(ctx, top.URI)
			if err != nil {
				t.Fatal(err)
			}
			return contains(bodyOf(n.URL+"/api/v1/statuses/"+strconv.FormatInt(local.ID, 10)+"/context", "application/json", token, nil), v)
		}
	}
	home := func(n *fedtest.Node, token string) func(string, *storage.Object) bool {
		return func(v string, _ *storage.Object) bool {
			return contains(bodyOf(n.URL+"/api/v1/timelines/home?limit=40", "application/json", token, nil), v)
		}
	}
	fetch := func(sign func(*http.Request)) func(string, *storage.Object) bool {
		return func(_ string, o *storage.Object) bool {
			code, _ := get(t, o.URI, "application/activity+json", "", sign)
			return code == http.StatusOK
		}
	}
	rows := []row{
		{"page of the post, signed out", anyone, func(_ string, o *storage.Object) bool {
			code, _ := get(t, a.URL+"/posts/"+strconv.FormatInt(o.ID, 10), "text/html", "", nil)
			return code == http.StatusOK
		}},
		{"page at the post's id, signed out", anyone, func(_ string, o *storage.Object) bool {
			code, _ := get(t, o.URI, "text/html", "", nil)
			return code == http.StatusOK
		}},
		{"thread page, signed out", anyone, func(v string, _ *storage.Object) bool {
			return contains(bodyOf(a.URL+"/posts/"+strconv.FormatInt(top.ID, 10), "text/html", "", nil), v)
		}},
		{"member page", anyone, func(v string, _ *storage.Object) bool {
			return contains(bodyOf(a.URL+"/u/ana", "text/html", "", nil), v)
		}},
		{"tag page", listed, func(v string, _ *storage.Object) bool {
			return contains(bodyOf(a.URL+"/tags/vistest", "text/html", "", nil), v)
		}},
		{"search page", listed, func(v string, _ *storage.Object) bool {
			// (The query itself is echoed in the search box.)
			return strings.Contains(bodyOf(a.URL+"/search?q=secret"+v, "text/html", "", nil), "secret"+v+" ")
		}},
		{"public timeline", listed, func(v string, _ *storage.Object) bool {
			return contains(bodyOf(a.URL+"/api/v1/timelines/public?limit=40", "application/json", "", nil), v)
		}},
		{"public timeline, local, as a follower", listed, func(v string, _ *storage.Object) bool {
			return contains(bodyOf(a.URL+"/api/v1/timelines/public?local=true&limit=40", "application/json", boTok, nil), v)
		}},
		{"tag timeline", listed, func(v string, _ *storage.Object) bool {
			return contains(bodyOf(a.URL+"/api/v1/timelines/tag/vistest", "application/json", "", nil), v)
		}},
		{"search as a non-recipient", listed, func(v string, _ *storage.Object) bool {
			return contains(bodyOf(a.URL+"/api/v2/search?type=statuses&q=secret"+v, "application/json", cyTok, nil), v)
		}},
		{"outbox", anyone, func(v string, _ *storage.Object) bool {
			return strings.Contains(bodyOf(ana.OutboxURI+"?page=true", "application/activity+json", "", nil), posts[v].URI)
		}},
		{"replies collection", anyone, func(_ string, o *storage.Object) bool {
			return strings.Contains(bodyOf(top.URI+"/replies?page=true", "application/activity+json", "", nil), o.URI)
		}},
		{"fetch by id, unsigned", anyone, fetch(nil)},
		{"fetch by id, signed by an unaddressed server", anyone, fetch(func(r *http.Request) { stranger.SignGet(r, time.Now()) })},
		{"fetch by id, signed by the addressed server", all, func(_ string, o *storage.Object) bool {
			got, _, err := b.Service.FetchObject(ctx, o.URI)
			return err == nil && got.ID == o.URI
		}},
		{"community redistribution", anyone, func(_ string, o *storage.Object) bool {
			_, err := a.DB.FindLocalActivity(ctx, vocab.TypeAnnounce, group.URI, o.URI)
			return err == nil
		}},
		{"community of the copy on the second instance", anyone, func(_ string, o *storage.Object) bool {
			local, err := b.DB.GetObjectByURI(ctx, o.URI)
			return err == nil && local.CommunityActorID != nil
		}},
		{"statuses by id, follower here", followers, func(v string, o *storage.Object) bool {
			return contains(bodyOf(a.URL+"/api/v1/statuses?id[]="+strconv.FormatInt(o.ID, 10), "application/json", boTok, nil), v)
		}},
		{"statuses by id, signed out", anyone, func(v string, o *storage.Object) bool {
			return contains(bodyOf(a.URL+"/api/v1/statuses?id[]="+strconv.FormatInt(o.ID, 10), "application/json", "", nil), v)
		}},
		{"account's statuses, signed out", anyone, func(v string, _ *storage.Object) bool {
			return contains(bodyOf(a.URL+"/api/v1/accounts/"+strconv.FormatInt(ana.ID, 10)+"/statuses?limit=40", "application/json", "", nil), v)
		}},
		{"status, follower here", followers, func(_ string, o *storage.Object) bool { return status(a, boTok, o) }},
		{"status, non-follower here", anyone, func(_ string, o *storage.Object) bool { return status(a, cyTok, o) }},
		{"status, signed out", anyone, func(_ string, o *storage.Object) bool { return status(a, "", o) }},
		{"thread, non-follower here", anyone, threadAPI(a, cyTok)},
		{"thread, follower here", followers, threadAPI(a, boTok)},
		{"home, follower here", followers, home(a, boTok)},
		{"status, addressed member there", all, func(_ string, o *storage.Object) bool { return status(b, danTok, o) }},
		{"status, follower there", followers, func(_ string, o *storage.Object) bool { return status(b, fayTok, o) }},
		{"status, community member there", anyone, func(_ string, o *storage.Object) bool { return status(b, eveTok, o) }},
		{"thread, addressed member there", all, threadAPI(b, danTok)},
		{"thread, community member there", anyone, threadAPI(b, eveTok)},
		{"home, follower there", followers, home(b, fayTok)},
		{"home, community member there", only(), home(b, eveTok)},
	}
	for _, r := range rows {
		for _, v := range visibilities {
			if got := r.seen(v, posts[v]); got != r.want[v] {
				t.Errorf("%s: %s post seen %v, want %v", r.path, v, got, r.want[v])
			}
		}
	}
	// Through the apps, the refusal is a 422 that says why.
	for _, v := range []string{"private", "direct"} {
		r := newClient(t, a, cyTok).do("POST", "/api/v1/statuses", map[string]any{"status": "@practice a private word", "visibility": v})
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(string(r.body), "public talk") {
			t.Errorf("%s status mentioning the community: %d %s", v, r.StatusCode, r.body)
		}
	}
	// dan was notified of each post that named him, eve of none.
	for _, c := range []struct {
		token string
		want  int
	}{{danTok, 4}, {eveTok, 0}} {
		n := strings.Count(bodyOf(b.URL+"/api/v1/notifications?types[]=mention", "application/json", c.token, nil), `"type":"mention"`)
		if n != c.want {
			t.Errorf("mention notifications: %d, want %d", n, c.want)
		}
	}
}

func mustActor(t *testing.T, n *fedtest.Node, uri string) *storage.Actor {
	t.Helper()
	a, err := n.DB.GetActorByURI(context.Background(), uri)
	if err != nil {
		return &storage.Actor{ID: -1}
	}
	return a
}
