package mastoapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A members-only community's posts reach and are read by its members
// only, on every read path, across four instances: A holds the
// community "circle" (olga owns it; ned, also on A, is no member); bea on
// B is a member, bob on B is not (he follows bea); N is a server with no
// member (nia there follows olga and bea, mentioned in a post, and has
// only asked to join); pia on P is a member. A Mastodon stand-in is a
// member; another is a stranger that signs its fetches.
func TestMembersOnlyReadPaths(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { testMembersOnlyReadPaths(t, d) })
	}
}

func testMembersOnlyReadPaths(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a, b, n, p := fedtest.Start(t, d), fedtest.Start(t, d), fedtest.Start(t, d), fedtest.Start(t, d)
	olga := member(t, a, "olga")
	member(t, a, "ned")
	bea, bob := member(t, b, "bea"), member(t, b, "bob")
	nia, pia := member(t, n, "nia"), member(t, p, "pia")
	com, err := a.Service.CreateCommunity(ctx, federation.NewCommunity{
		Name: "circle", Title: "Circle", Summary: "Hard cases among colleagues.", MembersOnly: true, Owner: "olga",
	})
	if err != nil {
		t.Fatal(err)
	}
	group := com.Actor
	if !com.Closed || !group.MembersOnly {
		t.Fatalf("members-only community: closed %v, members only %v", com.Closed, group.MembersOnly)
	}

	// bea asks and is let in; nia asks and is not (yet).
	for _, j := range []struct {
		n   *fedtest.Node
		who *storage.Actor
	}{{b, bea}, {n, nia}, {p, pia}} {
		if _, err := j.n.Service.Join(ctx, j.who, a.Handle("circle")); err != nil {
			t.Fatal(err)
		}
	}
	fedtest.Eventually(t, "the requests on A", func() (bool, error) {
		ms, err := a.DB.CountMembers(ctx, group.ID, storage.StatePending)
		return ms == 3, err
	})
	for _, who := range []string{bea.URI, pia.URI} {
		if _, err := a.Service.Decide(ctx, "circle", who, true); err != nil {
			t.Fatal(err)
		}
	}
	mm, stranger := fedtest.NewMastodon(t), fedtest.NewMastodon(t)
	if _, code := mm.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
		t.Fatalf("Mastodon's Follow: %d", code)
	}
	fedtest.Eventually(t, "the Mastodon member's request on A", func() (bool, error) {
		who, err := a.DB.GetActorByURI(ctx, mm.ActorURI())
		if err != nil {
			return false, nil
		}
		_, err = a.DB.GetMembership(ctx, group.ID, who.ID)
		return err == nil, nil
	})
	if _, err := a.Service.Decide(ctx, "circle", mm.ActorURI(), true); err != nil {
		t.Fatal(err)
	}
	mm.WaitFor("Accept of the Mastodon member", func(r fedtest.Received) bool { return r.Type == "Accept" })
	for _, f := range []struct {
		n      *fedtest.Node
		who    *storage.Actor
		target string
	}{{n, nia, a.Handle("olga")}, {n, nia, b.Handle("bea")}, {b, bob, "bea"}} {
		if _, err := f.n.Service.Follow(ctx, f.who, f.target); err != nil {
			t.Fatal(err)
		}
	}
	fedtest.Eventually(t, "bea in, nia's and bob's follows accepted", func() (bool, error) {
		m1, err1 := b.DB.GetMembership(ctx, mustActor(t, b, group.URI).ID, bea.ID)
		m2, err2 := n.DB.GetMembership(ctx, mustActor(t, n, olga.URI).ID, nia.ID)
		m3, err3 := n.DB.GetMembership(ctx, mustActor(t, n, bea.URI).ID, nia.ID)
		m4, err4 := b.DB.GetMembership(ctx, bea.ID, bob.ID)
		return err1 == nil && err2 == nil && err3 == nil && err4 == nil && m1.State == storage.StateAccepted &&
			m2.State == storage.StateAccepted && m3.State == storage.StateAccepted && m4.State == storage.StateAccepted, nil
	})
	fedtest.Eventually(t, "B knows the community is members-only", func() (bool, error) {
		g, err := b.DB.GetActorByURI(ctx, group.URI)
		return err == nil && g.MembersOnly, nil
	})

	// olga posts, naming ned (here, no member) and nia (no member, on N).
	top, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "circle",
		Text: "secrettop #mtest for @ned and @" + n.Handle("nia")})
	if err != nil {
		t.Fatal(err)
	}
	beaTok, bobTok := tokenFor(t, b, "bea", "read write follow"), tokenFor(t, b, "bob", "read write follow")
	nedTok, olgaTok := tokenFor(t, a, "ned", "read write follow"), tokenFor(t, a, "olga", "read write follow")
	niaTok := tokenFor(t, n, "nia", "read write follow")
	// bea writes a followers-only status that mentions the community, as
	// Mastodon's apps would: accepted, for its members.
	r := newClient(t, b, beaTok).do("POST", "/api/v1/statuses", map[string]any{
		"status": "@circle@" + a.Domain + " secretremote #mtest", "visibility": "private"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("followers-only status to the members-only community: %d %s", r.StatusCode, r.body)
	}
	remoteURI, _ := r.object(t)["uri"].(string)
	fedtest.Eventually(t, "B has olga's post", func() (bool, error) {
		_, err := b.DB.GetObjectByURI(ctx, top.URI)
		return err == nil, nil
	})
	topOnB, err := b.DB.GetObjectByURI(ctx, top.URI)
	if err != nil {
		t.Fatal(err)
	}
	// bea answers in public, as she may ask: the thread stays its members'.
	r = newClient(t, b, beaTok).do("POST", "/api/v1/statuses", map[string]any{
		"status": "secretreply #mtest", "visibility": "public", "in_reply_to_id": strconv.FormatInt(topOnB.ID, 10)})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("reply: %d %s", r.StatusCode, r.body)
	}
	if v := r.object(t)["visibility"]; v != "private" {
		t.Errorf("the apps see a members post as %v, want private", v)
	}
	replyURI, _ := r.object(t)["uri"].(string)
	posts := map[string]string{"top": top.URI, "remote": remoteURI, "reply": replyURI}
	// P, a third member server, reads the posts written on B from B,
	// which asks the community whether P hosts a member.
	fedtest.Eventually(t, "A, B and P have every post", func() (bool, error) {
		for _, uri := range posts {
			for _, node := range []*fedtest.Node{a, b, p} {
				if _, err := node.DB.GetObjectByURI(ctx, uri); err != nil {
					return false, nil
				}
			}
		}
		return true, nil
	})
	for _, node := range []*fedtest.Node{a, b, n, p} {
		node.Settled()
	}
	onA := map[string]*storage.Object{}
	for k, uri := range posts {
		for _, node := range []*fedtest.Node{a, b} {
			o, err := node.DB.GetObjectByURI(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			if o.Visibility != storage.VisibilityMembers || o.CommunityActor == nil || o.CommunityActor.URI != group.URI {
				t.Errorf("%s post on %s: visibility %q, community %v", k, node.Domain, o.Visibility, o.CommunityActor)
			}
			if node == a {
				onA[k] = o
			}
		}
	}

	// A followers-only post from the Mastodon member that mentions the
	// community enters it as a members post, and reaches B, not N.
	mastoURI, code := mm.PostWithVisibility(a.URL+"/inbox", "private", "secretmasto #mtest", map[string]string{group.URI: "circle@" + a.Domain})
	if code != http.StatusAccepted {
		t.Fatalf("Mastodon's followers-only post: %d", code)
	}
	fedtest.Eventually(t, "A and B have the Mastodon member's post", func() (bool, error) {
		oa, err := a.DB.GetObjectByURI(ctx, mastoURI)
		if err != nil {
			return false, nil
		}
		_, err = b.DB.GetObjectByURI(ctx, mastoURI)
		return err == nil && oa.Visibility == storage.VisibilityMembers && oa.CommunityActorID != nil && *oa.CommunityActorID == group.ID, nil
	})

	// A boost by a member is refused: the post is no one else's to show.
	if _, err := b.Service.Reblog(ctx, bea, top.URI); err == nil {
		t.Error("bea boosted a members post")
	}
	if r := newClient(t, b, beaTok).do("POST", "/api/v1/statuses/"+strconv.FormatInt(topOnB.ID, 10)+"/reblog", nil); r.StatusCode == http.StatusOK {
		t.Errorf("reblog through the apps: %d", r.StatusCode)
	}
	// bob, no member, cannot answer a post he cannot see.
	if r := newClient(t, b, bobTok).do("POST", "/api/v1/statuses", map[string]any{
		"status": "peek", "in_reply_to_id": strconv.FormatInt(topOnB.ID, 10)}); r.StatusCode == http.StatusOK {
		t.Errorf("bob answered a members post: %d", r.StatusCode)
	}

	contains := func(body, k string) bool { return strings.Contains(body, "secret"+k) }
	bodyOf := func(rawURL, accept, token string, sign func(*http.Request)) string {
		code, body := get(t, rawURL, accept, token, sign)
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", rawURL, code, body)
		}
		return body
	}
	status := func(node *fedtest.Node, token string) func(string) bool {
		return func(k string) bool {
			local, err := node.DB.GetObjectByURI(ctx, posts[k])
			if err != nil {
				return false // never arrived
			}
			code, _ := get(t, node.URL+"/api/v1/statuses/"+strconv.FormatInt(local.ID, 10), "application/json", token, nil)
			return code == http.StatusOK
		}
	}
	timeline := func(rawURL, token string) func(string) bool {
		return func(k string) bool { return contains(bodyOf(rawURL, "application/json", token, nil), k) }
	}
	page := func(rawURL string) func(string) bool {
		return func(k string) bool {
			code, body := get(t, rawURL, "text/html", "", nil)
			return code == http.StatusOK && contains(body, k)
		}
	}
	fetchSigned := func(sign func(*http.Request)) func(string) bool {
		return func(k string) bool {
			code, _ := get(t, posts[k], "application/activity+json", "", sign)
			return code == http.StatusOK
		}
	}
	fetchBy := func(node *fedtest.Node) func(string) bool {
		return func(k string) bool {
			got, _, err := node.Service.FetchObject(ctx, posts[k])
			return err == nil && got.ID == posts[k]
		}
	}
	has := func(node *fedtest.Node) func(string) bool {
		return func(k string) bool {
			_, err := node.DB.GetObjectByURI(ctx, posts[k])
			return err == nil
		}
	}
	// sentTo reports whether A or B queued for node's server any
	// activity that names the post (their own activities keep their
	// bodies; an inbound one may not).
	sentTo := func(node *fedtest.Node) func(string) bool {
		return func(k string) bool {
			var count int64
			for _, from := range []*fedtest.Node{a, b} {
				var n int64
				err := from.DB.Gorm(ctx).Table("deliveries").Joins("JOIN activities ON activities.id = deliveries.activity_id").
					Where("deliveries.host = ? AND (activities.raw LIKE ? OR activities.object_uri = ?)", node.Domain, "%"+posts[k]+"%", posts[k]).
					Count(&n).Error
				if err != nil {
					t.Fatal(err)
				}
				count += n
			}
			return count > 0
		}
	}
	posts["masto"] = mastoURI // (checked apart: its origin is the stand-in)
	none := map[string]bool{}
	every := map[string]bool{"top": true, "remote": true, "reply": true}
	aOrigin := map[string]bool{"top": true} // a member's server fetches from A
	bOrigin := map[string]bool{"remote": true, "reply": true}
	rows := []struct {
		path string
		want map[string]bool
		seen func(k string) bool
	}{
		{"page of the post on A, signed out", none, func(k string) bool {
			code, _ := get(t, a.URL+"/posts/"+strconv.FormatInt(onA[k].ID, 10), "text/html", "", nil)
			return code == http.StatusOK
		}},
		{"page at the post's id, signed out", none, func(k string) bool {
			code, _ := get(t, posts[k], "text/html", "", nil)
			return code == http.StatusOK
		}},
		{"community page, signed out", none, page(a.URL + "/c/circle")},
		{"thread page, signed out", none, page(a.URL + "/posts/" + strconv.FormatInt(onA["top"].ID, 10))},
		{"olga's page", none, page(a.URL + "/u/olga")},
		{"tag page on A", none, page(a.URL + "/tags/mtest")},
		{"tag page on B", none, page(b.URL + "/tags/mtest")},
		{"search page on A", none, func(k string) bool {
			return strings.Contains(bodyOf(a.URL+"/search?q=secret"+k, "text/html", "", nil), "secret"+k+" ")
		}},
		{"public timeline on A", none, timeline(a.URL+"/api/v1/timelines/public?limit=40", "")},
		{"public timeline on B, as a member", none, timeline(b.URL+"/api/v1/timelines/public?limit=40", beaTok)},
		{"public timeline on N", none, timeline(n.URL+"/api/v1/timelines/public?limit=40", niaTok)},
		{"tag timeline on A", none, timeline(a.URL+"/api/v1/timelines/tag/mtest", "")},
		{"tag timeline on B, as a member", none, timeline(b.URL+"/api/v1/timelines/tag/mtest", beaTok)},
		{"search on A, as ned", none, func(k string) bool {
			return timeline(a.URL+"/api/v2/search?type=statuses&q=secret"+k, nedTok)(k)
		}},
		{"search on B, as bob", none, func(k string) bool {
			return timeline(b.URL+"/api/v2/search?type=statuses&q=secret"+k, bobTok)(k)
		}},
		{"search by the post's id on B, as bob", none, func(k string) bool {
			return timeline(b.URL+"/api/v2/search?type=statuses&resolve=true&q="+url.QueryEscape(posts[k]), bobTok)(k)
		}},
		{"search by the post's id on B, as bea", every, func(k string) bool {
			return timeline(b.URL+"/api/v2/search?type=statuses&q="+url.QueryEscape(posts[k]), beaTok)(k)
		}},
		{"community's statuses on A, as ned", none, timeline(a.URL+"/api/v1/accounts/"+strconv.FormatInt(group.ID, 10)+"/statuses", nedTok)},
		{"olga's outbox", none, func(k string) bool {
			return strings.Contains(bodyOf(olga.OutboxURI+"?page=true", "application/activity+json", "", nil), posts[k])
		}},
		{"bea's outbox", none, func(k string) bool {
			return strings.Contains(bodyOf(bea.OutboxURI+"?page=true", "application/activity+json", "", nil), posts[k])
		}},
		{"fetch by id, unsigned", none, fetchSigned(nil)},
		{"fetch by id, signed by a stranger", none, fetchSigned(func(r *http.Request) { stranger.SignGet(r, time.Now()) })},
		{"fetch by id, signed by N", none, fetchBy(n)},
		{"fetch by id, signed by P, a member's server", every, fetchBy(p)},
		{"status on P, pia", every, status(p, tokenFor(t, p, "pia", "read"))},
		{"fetch by id, signed by B, a member's server", aOrigin, func(k string) bool {
			return !bOrigin[k] && fetchBy(b)(k)
		}},
		{"fetch by id, signed by the Mastodon member", every, fetchSigned(func(r *http.Request) { mm.SignGet(r, time.Now()) })},
		{"fetch by id, signed by the community's server", bOrigin, func(k string) bool {
			return bOrigin[k] && fetchBy(a)(k)
		}},
		{"status on A, olga", every, status(a, olgaTok)},
		{"status on A, ned (named, no member)", none, status(a, nedTok)},
		{"status on A, signed out", none, status(a, "")},
		{"status on B, bea", every, status(b, beaTok)},
		{"status on B, bob", none, status(b, bobTok)},
		{"status on B, signed out", none, status(b, "")},
		{"home on B, bob (follows bea)", none, timeline(b.URL+"/api/v1/timelines/home?limit=40", bobTok)},
		{"home on B, bea", every, timeline(b.URL+"/api/v1/timelines/home?limit=40", beaTok)},
		{"home on N, nia", none, timeline(n.URL+"/api/v1/timelines/home?limit=40", niaTok)},
		{"stored on N", none, has(n)},
		{"sent to N", none, sentTo(n)},
		{"sent to P", every, sentTo(p)},
	}
	for _, row := range rows {
		for _, k := range []string{"top", "remote", "reply"} {
			if got := row.seen(k); got != row.want[k] {
				t.Errorf("%s: %s post seen %v, want %v", row.path, k, got, row.want[k])
			}
		}
	}

	for _, node := range []*fedtest.Node{a, b, n, p} {
		node.Settled()
	}
	if _, err := n.DB.GetObjectByURI(ctx, mastoURI); err == nil {
		t.Error("N has the Mastodon member's post")
	}
	for _, c := range []struct {
		node  *fedtest.Node
		token string
		want  bool
	}{{a, nedTok, false}, {a, "", false}, {a, olgaTok, true}, {b, bobTok, false}, {b, beaTok, true}} {
		o, err := c.node.DB.GetObjectByURI(ctx, mastoURI)
		if err != nil {
			t.Fatal(err)
		}
		code, _ := get(t, c.node.URL+"/api/v1/statuses/"+strconv.FormatInt(o.ID, 10), "application/json", c.token, nil)
		if (code == http.StatusOK) != c.want {
			t.Errorf("the Mastodon member's post on %s: %d, want seen %v", c.node.Domain, code, c.want)
		}
	}
	if sentTo(n)("masto") {
		t.Error("N was sent the Mastodon member's post")
	}

	// The community's collections: for its members' servers only; its
	// Group document says what it is and no more.
	for _, col := range []string{group.OutboxURI, group.FollowersURI, group.FollowingURI, group.FeaturedURI, group.URI + "/moderators"} {
		for _, c := range []struct {
			who  string
			sign func(*http.Request)
			want int
		}{{"unsigned", nil, http.StatusNotFound}, {"a stranger", func(r *http.Request) { stranger.SignGet(r, time.Now()) }, http.StatusNotFound},
			{"the Mastodon member", func(r *http.Request) { mm.SignGet(r, time.Now()) }, http.StatusOK}} {
			if code, _ := get(t, col, "application/activity+json", "", c.sign); code != c.want {
				t.Errorf("%s fetched by %s: %d, want %d", col, c.who, code, c.want)
			}
		}
	}
	if body := bodyOf(group.OutboxURI+"?page=true", "application/activity+json", "", func(r *http.Request) { mm.SignGet(r, time.Now()) }); !strings.Contains(body, top.URI) {
		t.Errorf("the community's outbox, to a member's server, lacks its post: %s", body)
	}
	_, body := get(t, top.URI+"/replies?page=true", "application/activity+json", "", func(r *http.Request) { stranger.SignGet(r, time.Now()) })
	if strings.Contains(body, replyURI) {
		t.Error("the replies collection shows a stranger the reply")
	}
	if body := bodyOf(top.URI+"/replies?page=true", "application/activity+json", "", func(r *http.Request) { mm.SignGet(r, time.Now()) }); !strings.Contains(body, replyURI) {
		t.Errorf("the replies collection, to a member's server, lacks the reply: %s", body)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(bodyOf(group.URI, "application/activity+json", "", nil)), &doc); err != nil {
		t.Fatal(err)
	}
	if doc["membersOnly"] != true || doc["manuallyApprovesFollowers"] != true {
		t.Errorf("Group document: membersOnly %v, manuallyApprovesFollowers %v", doc["membersOnly"], doc["manuallyApprovesFollowers"])
	}
	if body := bodyOf(a.URL+"/c/circle", "text/html", "", nil); strings.Contains(body, "olga") || !strings.Contains(body, "members only") || strings.Contains(body, " members ·") {
		t.Error("the community's page shows a visitor who is in it, or how many")
	}
	// Through the apps, who is in it and its modlog are its members'.
	gid := strconv.FormatInt(group.ID, 10)
	for _, c := range []struct {
		who, token string
		member     bool
	}{{"ned", nedTok, false}, {"a visitor", "", false}, {"olga", olgaTok, true}} {
		code, _ := get(t, a.URL+"/api/v1/communities/"+gid+"/modlog", "application/json", c.token, nil)
		if (code == http.StatusOK) != c.member {
			t.Errorf("modlog for %s: %d", c.who, code)
		}
		var acct struct {
			Followers int `json:"followers_count"`
		}
		if err := json.Unmarshal([]byte(bodyOf(a.URL+"/api/v1/accounts/"+gid, "application/json", c.token, nil)), &acct); err != nil {
			t.Fatal(err)
		}
		if (acct.Followers > 0) != c.member {
			t.Errorf("the community's followers_count for %s: %d", c.who, acct.Followers)
		}
		var followers []any
		if err := json.Unmarshal([]byte(bodyOf(a.URL+"/api/v1/accounts/"+gid+"/followers", "application/json", c.token, nil)), &followers); err != nil {
			t.Fatal(err)
		}
		if (len(followers) > 0) != c.member {
			t.Errorf("the community's followers for %s: %d", c.who, len(followers))
		}
	}
	if code, _ := get(t, a.URL+"/c/circle/modlog", "text/html", "", nil); code == http.StatusOK {
		t.Error("the modlog page shows a visitor a members-only community's record")
	}

	var ni struct {
		Usage struct {
			LocalPosts    int64 `json:"localPosts"`
			LocalComments int64 `json:"localComments"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(bodyOf(a.URL+"/nodeinfo/2.1", "application/json", "", nil)), &ni); err != nil {
		t.Fatal(err)
	}
	if ni.Usage.LocalPosts != 0 || ni.Usage.LocalComments != 0 {
		t.Errorf("NodeInfo counts members posts: %+v", ni.Usage)
	}

	// What the community sent is addressed to its members alone: the
	// Mastodon member got no public Announce, the stranger nothing.
	sawAnnounce := false
	for _, got := range mm.Received() {
		if got.Type != "Announce" {
			continue
		}
		sawAnnounce = true
		for _, f := range []string{"to", "cc"} {
			if strings.Contains(string(mustJSON(t, got.Doc[f])), "#Public") {
				t.Errorf("the community's Announce is addressed to the public: %s", got.Raw)
			}
		}
	}
	if !sawAnnounce {
		t.Error("the Mastodon member got no Announce of the community's posts")
	}
	if got := stranger.Received(); len(got) != 0 {
		t.Errorf("a stranger received %d activities", len(got))
	}
	// ned and nia were named, but are no members: no notification.
	for _, c := range []struct {
		node  *fedtest.Node
		token string
	}{{a, nedTok}, {n, niaTok}} {
		if body := bodyOf(c.node.URL+"/api/v1/notifications", "application/json", c.token, nil); strings.Contains(body, "secret") {
			t.Errorf("a non-member named in a members post was notified: %s", body)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
