package web_test

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// modSite is a site with a closed community "practice" owned by alice, a
// member carol with a post in it, a request to join from bob and a report
// about carol's post from dave.
type modSite struct {
	*site
	post   *storage.Object
	report *storage.Report
}

func newModSite(t *testing.T, db *storage.DB) *modSite {
	t.Helper()
	s := startSite(t, db, nil)
	ctx := t.Context()
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		if _, err := s.svc.CreateAccount(ctx, federation.NewAccount{Username: name, Email: name + "@example.org", Password: pw}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.svc.CreateCommunity(ctx, federation.NewCommunity{Name: "practice", Title: "Practice", Closed: true, Owner: "alice"}); err != nil {
		t.Fatal(err)
	}
	actor := func(name string) *storage.Actor {
		a, err := db.GetLocalActor(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, name := range []string{"carol", "dave", "bob"} {
		if _, err := s.svc.Join(ctx, actor(name), "practice"); err != nil {
			t.Fatal(err)
		}
		if name != "bob" {
			if _, err := s.svc.Decide(ctx, "practice", actor(name).URI, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	post, err := s.svc.Post(ctx, actor("carol"), federation.NewPost{Community: "practice", Title: "Buy cheap pills", Text: "Spam spam spam"})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := s.svc.Report(ctx, actor("dave"), federation.NewReport{Objects: []string{post.URI}, Comment: "This is spam", Category: "spam"})
	if err != nil {
		t.Fatal(err)
	}
	return &modSite{site: s, post: post, report: rep}
}

func (s *site) signedIn(t *testing.T, name string) *browser {
	t.Helper()
	b := s.browser()
	b.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {name}, "password": {pw}}).must(t, 303)
	return b
}

// TestModerationQueue: the owner works the queue in the browser (approve a
// request, resolve a report, ban with a private reason, lift a ban,
// restrict posting) and acts on a post in place; members who do not
// moderate see neither the queue nor the actions; the public modlog shows
// every action and no private reason.
func TestModerationQueue(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s := newModSite(t, db)
		ctx := context.Background()
		alice, bob := s.signedIn(t, "alice"), s.signedIn(t, "bob")
		group, err := db.GetLocalActor(ctx, "practice")
		if err != nil {
			t.Fatal(err)
		}
		bobActor, _ := db.GetLocalActor(ctx, "bob")

		alice.get("/c/practice").must(t, 200, `href="/c/practice/moderation"`, `#moderate" aria-label="Moderate the post by carol`)
		if strings.Contains(bob.get("/c/practice").body, "/c/practice/moderation") {
			t.Error("a member who does not moderate is offered the queue")
		}
		bob.get("/c/practice/moderation").must(t, 404)
		s.browser().get("/c/practice/moderation").must(t, 303) // sign in first

		q := alice.get("/c/practice/moderation")
		q.must(t, 200, `aria-label="Ban @carol@`+s.host()+`">Ban</a>`, "Requests to join (1)", "@bob@"+s.host(), "Open reports (1)", "This is spam", "Buy cheap pills")

		// A member who does not moderate cannot use the forms either.
		bob.submit("/c/practice", "/c/practice/moderation/requests", url.Values{"member": {bobActor.URI}, "decision": {"approve"}}).must(t, 404)

		alice.submit("/c/practice/moderation", "/c/practice/moderation/requests", url.Values{"member": {bobActor.URI}, "decision": {"approve"}}).must(t, 303)
		if m, err := db.GetMembership(ctx, group.ID, bobActor.ID); err != nil || m.State != storage.StateAccepted {
			t.Fatalf("bob after approval: %+v %v", m, err)
		}
		// Pre-moderation: bob's first post waits for a moderator.
		alice.submit("/c/practice/moderation", "/c/practice/moderation/rules", url.Values{"hold_members": {"1"}, "member_per_hour": {"30"}}).must(t, 303)
		alice.get("/c/practice/moderation").must(t, 200, `id="hold-members" name="hold_members" value="1" checked`, `value="30"`)
		if _, err := s.svc.Post(ctx, bobActor, federation.NewPost{Community: "practice", Title: "Hello from bob", Text: "My first post"}); !errors.Is(err, federation.ErrHeld) {
			t.Fatalf("bob's first post: %v, want it held", err)
		}
		q = alice.get("/c/practice/moderation")
		q.must(t, 200, "Posts held for approval (1)", "Hello from bob", "first post of a member")
		held, err := db.HeldPosts(ctx, group.ID, storage.HeldWaiting, 0, 10)
		if err != nil || len(held) != 1 {
			t.Fatalf("held: %v %d", err, len(held))
		}
		bob.submit("/c/practice", "/c/practice/moderation/held/"+itoa(held[0].ID), url.Values{"decision": {"approve"}}).must(t, 404)
		alice.submit("/c/practice/moderation", "/c/practice/moderation/held/"+itoa(held[0].ID), url.Values{"decision": {"approve"}}).must(t, 303)
		s.browser().get("/c/practice").must(t, 200, "Hello from bob")
		alice.get("/c/practice/moderation").must(t, 200, "No posts are waiting")

		reportPath := "/c/practice/moderation/reports/" + itoa(s.report.ID)
		alice.submit("/c/practice/moderation", reportPath, url.Values{"decision": {"resolve"}, "note": {"SECRETNOTE"}}).must(t, 303)
		if r, err := db.GetReport(ctx, s.report.ID); err != nil || r.State != storage.ReportResolved {
			t.Fatalf("report after resolve: %+v %v", r, err)
		}
		alice.get("/c/practice/moderation").must(t, 200, "No one is waiting to join", "No open reports")

		// On the thread page: remove is offered to the moderator only.
		thread := strings.TrimPrefix(s.post.URI, s.url)
		alice.get(thread).must(t, 200, "Moderate this thread", "Lock thread", "Ban the author")
		if strings.Contains(bob.get(thread).body, "Moderate this") {
			t.Error("a member who does not moderate is offered moderation")
		}
		bob.submit(thread, "/posts/"+itoa(s.post.ID)+"/moderate", url.Values{"action": {"remove"}}).must(t, 403)
		alice.submit(thread, "/posts/"+itoa(s.post.ID)+"/moderate", url.Values{"action": {"lock"}, "reason": {"Cooling off"}}).must(t, 303)
		alice.get(thread).must(t, 200, "This thread is locked", "Reopen thread")
		alice.submit(thread, "/posts/"+itoa(s.post.ID)+"/moderate", url.Values{"action": {"remove"}, "reason": {"Spam"}}).must(t, 303)
		if strings.Contains(s.browser().get("/c/practice").body, "Buy cheap pills") {
			t.Error("the removed post is still on the community page")
		}

		// Ban with a private reason, for a week; the form refuses nonsense.
		alice.submit("/c/practice/moderation", "/c/practice/moderation/bans", url.Values{"member": {""}}).must(t, 422, "Say whom to ban")
		alice.submit("/c/practice/moderation", "/c/practice/moderation/bans", url.Values{"member": {"nobody@" + s.host()}}).must(t, 422)
		alice.submit("/c/practice/moderation", "/c/practice/moderation/bans",
			url.Values{"member": {"carol@" + s.host()}, "reason": {"PRIVATEBANREASON"}, "private": {"1"}, "days": {"7"}}).must(t, 303)
		carol, _ := db.GetLocalActor(ctx, "carol")
		if banned, err := db.IsBanned(ctx, group.ID, carol.ID); err != nil || !banned {
			t.Fatalf("carol banned: %v %v", banned, err)
		}
		alice.get("/c/practice/moderation").must(t, 200, "Bans in force (1)", "until")

		alice.submit("/c/practice/moderation", "/c/practice/moderation/posting", url.Values{"restricted": {"1"}}).must(t, 303)
		alice.get("/c/practice/moderation").must(t, 200, "Only moderators start threads")

		// The public modlog: every action, no private reason, no report.
		log := s.browser().get("/c/practice/modlog")
		log.must(t, 200, "removed a post", "locked a thread", "Cooling off", "banned", "Reason kept private", "let only moderators start threads", "approved a held post by", "changed the posting rules")
		for _, secret := range []string{"PRIVATEBANREASON", "SECRETNOTE", "This is spam"} {
			if strings.Contains(log.body, secret) {
				t.Errorf("public modlog shows %q", secret)
			}
		}
		if strings.Contains(alice.get("/c/practice/modlog").body, "PRIVATEBANREASON") {
			t.Error("the public modlog shows a private reason to a moderator")
		}

		// The owner appoints dave; a moderator who does not own cannot.
		alice.submit("/c/practice/moderation", "/c/practice/moderation/moderators", url.Values{"member": {"dave@" + s.host()}}).must(t, 303)
		daveActor, _ := db.GetLocalActor(ctx, "dave")
		if ok, _ := db.IsModerator(ctx, group.ID, daveActor.ID); !ok {
			t.Fatal("dave is not a moderator")
		}
		dave := s.signedIn(t, "dave")
		dave.get("/c/practice/moderation").must(t, 200, "The community's owners appoint moderators")
		dave.submit("/c/practice/moderation", "/c/practice/moderation/moderators", url.Values{"member": {bobActor.URI}}).must(t, 422, "Only an owner of practice@")
		alice.submit("/c/practice/moderation", "/c/practice/moderation/moderators", url.Values{"member": {daveActor.URI}, "remove": {"1"}}).must(t, 303)
		if ok, _ := db.IsModerator(ctx, group.ID, daveActor.ID); ok {
			t.Error("dave still moderates")
		}
		s.browser().get("/c/practice/modlog").must(t, 200, "made a moderator:", "removed as moderator:")

		// Settings: a new title, statement and tags, joining open.
		alice.submit("/c/practice/moderation", "/c/practice/moderation/settings", url.Values{"title": {""}}).must(t, 422, "Title must not be empty")
		alice.submit("/c/practice/moderation", "/c/practice/moderation/settings",
			url.Values{"title": {"Practice & craft"}, "summary": {"Cases and tools."}, "tags": {"#Reading, phonics"}}).must(t, 303)
		bob.submit("/c/practice", "/c/practice/moderation/settings", url.Values{"title": {"Mine now"}}).must(t, 404)
		page := s.browser().get("/c/practice")
		page.must(t, 200, "Practice &amp; craft", "Cases and tools.", "#reading", "#phonics")
		if strings.Contains(page.body, "membership by approval") {
			t.Error("the community is still closed")
		}
		if c, err := db.GetCommunityByName(ctx, "practice"); err != nil || c.Closed || c.Actor.DisplayName != "Practice & craft" || c.Actor.ManuallyApprovesFollowers {
			t.Errorf("community after the settings: %+v %v", c, err)
		}

		alice.submit("/c/practice/moderation", "/c/practice/moderation/unban", url.Values{"member": {carol.URI}}).must(t, 303)
		if banned, _ := db.IsBanned(ctx, group.ID, carol.ID); banned {
			t.Error("carol still banned after the ban was lifted")
		}
	})
}

// host is the site's host:port, the domain part of its handles.
func (s *site) host() string {
	u, _ := url.Parse(s.url)
	return u.Host
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
