package web_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// In the browser: the asker accepts a reply; the question's page shows
// the answer first and "answered", the community's list of unanswered
// questions drops it; someone who did not ask is offered no button and is
// refused the form; withdrawing the answer lists the question again.
func TestAcceptAnswerPages(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s := startSite(t, db, nil)
		ctx := t.Context()
		for _, name := range []string{"asa", "bo"} {
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
		q, err := s.svc.Post(ctx, asa, federation.NewPost{Community: "wards", Kind: federation.KindQuestion, Title: "Night handover?", Text: "How do you do it?"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Post(ctx, asa, federation.NewPost{Community: "wards", Kind: federation.KindQuestion, Title: "Sepsis screening?", Text: "Which tool?"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Post(ctx, bo, federation.NewPost{InReplyTo: q.URI, Text: "Good question."}); err != nil {
			t.Fatal(err)
		}
		answer, err := s.svc.Post(ctx, bo, federation.NewPost{InReplyTo: q.URI, Text: "SBAR on a card."})
		if err != nil {
			t.Fatal(err)
		}
		qPath := strings.TrimPrefix(q.URI, s.url)
		accept := "/posts/" + strconv.FormatInt(answer.ID, 10) + "/accept"

		visitor := s.browser()
		visitor.get("/c/wards/questions").must(t, 200, "Night handover?", "Sepsis screening?")
		page := visitor.get(qPath)
		page.must(t, 200, "No answer accepted yet.")
		if strings.Contains(page.body, "Accept as answer") {
			t.Fatal("a visitor is offered to accept an answer")
		}

		boB := s.browser()
		boB.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"bo"}, "password": {pw}}).must(t, 303)
		if p := boB.get(qPath); strings.Contains(p.body, "Accept as answer") {
			t.Fatal("bo, who did not ask, is offered to accept an answer")
		}
		boB.submit(qPath, accept, url.Values{}).must(t, 403)

		asaB := s.browser()
		asaB.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"asa"}, "password": {pw}}).must(t, 303)
		asaB.get(qPath).must(t, 200, `action="`+accept+`"`, "Accept as answer")
		if p := asaB.submit(qPath, accept, url.Values{}); p.status != 303 || p.location != qPath {
			t.Fatalf("accept: %d to %q\n%s", p.status, p.location, p.body)
		}
		page = visitor.get(qPath)
		page.must(t, 200, "Accepted answer", `<span class="kind">Question</span> <span class="answered">answered</span>`, "SBAR on a card.")
		// The answer comes before the replies, in which it came second.
		if at, reply := strings.Index(page.body, "SBAR on a card."), strings.Index(page.body, "Good question."); at < 0 || reply < 0 || at > reply {
			t.Fatalf("the answer is not shown first:\n%s", page.body)
		}
		list := visitor.get("/c/wards/questions")
		list.must(t, 200, "Sepsis screening?")
		if strings.Contains(list.body, "Night handover?") {
			t.Fatal("an answered question is listed as unanswered")
		}
		if got, _ := db.GetObjectByURI(ctx, q.URI); got.AcceptedAnswerURI != answer.URI {
			t.Fatalf("stored answer %q", got.AcceptedAnswerURI)
		}

		// Withdrawn: unanswered again.
		asaB.get(qPath).must(t, 200, "Withdraw as answer")
		asaB.submit(qPath, accept, url.Values{"undo": {"1"}}).must(t, 303)
		visitor.get("/c/wards/questions").must(t, 200, "Night handover?", "Sepsis screening?")
	})
}
