package web_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// The newcomer's view: a moderator sets the welcome, a member who joins
// is shown it; /c/NAME/start shows the repertoire, then the unanswered
// questions, then active threads, and the people who answer, who may ask
// not to be listed.
func TestNewcomerView(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s := startSite(t, db, nil)
		ctx := t.Context()
		for _, name := range []string{"asa", "bo", "cy"} {
			if _, err := s.svc.CreateAccount(ctx, federation.NewAccount{Username: name, Email: name + "@example.org", Password: pw}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.svc.CreateCommunity(ctx, federation.NewCommunity{Name: "wards", Title: "Wards", Owner: "asa"}); err != nil {
			t.Fatal(err)
		}
		asa, _ := db.GetLocalActor(ctx, "asa")
		bo, _ := db.GetLocalActor(ctx, "bo")
		if _, err := s.svc.Join(ctx, bo, "wards"); err != nil {
			t.Fatal(err)
		}
		tmpl, err := s.svc.Post(ctx, asa, federation.NewPost{Community: "wards", Kind: federation.KindResource, Title: "Handover card", Text: "SBAR."})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.svc.Curate(ctx, asa, tmpl.URI, federation.RepertoireChange{Section: "Start here"}); err != nil {
			t.Fatal(err)
		}
		q, err := s.svc.Post(ctx, asa, federation.NewPost{Community: "wards", Kind: federation.KindQuestion, Title: "Who covers nights?", Text: "Asking for the rota."})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Post(ctx, asa, federation.NewPost{Community: "wards", Title: "Coffee machine", Text: "Broken again."}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Post(ctx, bo, federation.NewPost{InReplyTo: q.URI, Text: "The float team."}); err != nil {
			t.Fatal(err)
		}

		asaB := s.browser()
		asaB.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"asa"}, "password": {pw}}).must(t, 303)
		asaB.get("/c/wards/start").must(t, 200, `<label for="welcome">Welcome message for new members</label>`)
		asaB.submit("/c/wards/start", "/c/wards/welcome", url.Values{"welcome": {"Hello!\n\nTell us <where> you work."}}).must(t, 303)
		asaB.submit("/c/wards/start", "/c/wards/welcome", url.Values{"welcome": {strings.Repeat("x", 2001)}}).must(t, 422, "at most 2000 characters")

		cy := s.browser()
		cy.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"cy"}, "password": {pw}}).must(t, 303)
		if cy.get("/c/wards/start").body == "" || strings.Contains(cy.get("/c/wards/start").body, "Welcome message for new members") {
			t.Fatal("a member who does not moderate is offered the welcome form")
		}
		joined := cy.submit("/c/wards", "/c/wards/join", url.Values{})
		if joined.status != 303 || joined.location != "/c/wards?joined=1" {
			t.Fatalf("join: %d to %q", joined.status, joined.location)
		}
		cy.get(joined.location).must(t, 200, "Welcome, you are a member", "Tell us &lt;where&gt; you work.", "/c/wards/start")
		// Apps see it as a mention: a direct message from the community.
		cyActor, _ := db.GetLocalActor(ctx, "cy")
		group, _ := db.GetLocalActor(ctx, "wards")
		var dms []storage.Object
		if err := db.Gorm(ctx).Where("author_actor_id = ? AND visibility = ?", group.ID, storage.VisibilityDirect).Find(&dms).Error; err != nil {
			t.Fatal(err)
		}
		if len(dms) != 1 || !strings.Contains(dms[0].Content, "Tell us &lt;where&gt; you work.") {
			t.Fatalf("welcome messages %+v", dms)
		}
		var mentions int64
		if err := db.Gorm(ctx).Table("notifications").Where("recipient_actor_id = ? AND type = ? AND object_id = ?", cyActor.ID, storage.NotifyMention, dms[0].ID).Count(&mentions).Error; err != nil {
			t.Fatal(err)
		}
		if mentions != 1 {
			t.Fatalf("cy has %d mention notifications of the welcome", mentions)
		}
		// Joining again sends no second welcome.
		cy.submit("/c/wards", "/c/wards/join", url.Values{})
		if err := db.Gorm(ctx).Where("author_actor_id = ? AND visibility = ?", group.ID, storage.VisibilityDirect).Find(&dms).Error; err != nil || len(dms) != 1 {
			t.Fatalf("after joining again: %d welcomes (%v)", len(dms), err)
		}

		p := s.browser().get("/c/wards/start")
		p.must(t, 200, "Hello!", "Handover card", "Who covers nights?", "Coffee machine", "People who answer here", "1 reply")
		order := []string{"The repertoire", "Handover card", "Questions waiting for an answer", "Who covers nights?", "Being talked about", "People who answer here"}
		last := -1
		for _, w := range order {
			at := strings.Index(p.body, w)
			if at < last {
				t.Fatalf("the start page is not in the order %q:\n%s", order, p.body)
			}
			last = at
		}
		if !strings.Contains(p.body, ">bo</a>") {
			t.Fatalf("bo, who answered, is not listed:\n%s", p.body)
		}

		boB := s.browser()
		boB.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"bo"}, "password": {pw}}).must(t, 303)
		boB.submit("/c/wards/start", "/c/wards/answerers", url.Values{"listed": {"0"}}).must(t, 303)

		// The introductions thread, chosen by a moderator.
		intro, err := s.svc.Post(ctx, asa, federation.NewPost{Community: "wards", Title: "Introduce yourself", Text: "Who are you?"})
		if err != nil {
			t.Fatal(err)
		}
		introPath := strings.TrimPrefix(intro.URI, s.url)
		boB.submit(introPath, "/posts/"+itoa(intro.ID)+"/repertoire", url.Values{"op": {"introductions"}}).must(t, 403)
		asaB.get(introPath).must(t, 200, "Make this the introductions thread")
		asaB.submit(introPath, "/posts/"+itoa(intro.ID)+"/repertoire", url.Values{"op": {"introductions"}}).must(t, 303)
		asaB.get(introPath).must(t, 200, "Newcomers introduce themselves here.")
		s.browser().get("/c/wards/start").must(t, 200, `<h2 id="intro-h">Introduce yourself</h2>`, introPath+"#replies")
		asaB.submit(introPath, "/posts/"+itoa(intro.ID)+"/repertoire", url.Values{"op": {"not_introductions"}}).must(t, 303)
		if p := s.browser().get("/c/wards/start"); strings.Contains(p.body, "intro-h") {
			t.Fatal("the introductions thread is still shown")
		}
		if p := s.browser().get("/c/wards/start"); strings.Contains(p.body, ">bo</a>") {
			t.Fatalf("bo is listed after asking not to be:\n%s", p.body)
		}
		boB.get("/c/wards/start").must(t, 200, "List me when I answer")
	})
}
