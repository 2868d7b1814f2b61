package web_test

import (
	"os"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// The practice pages in Chromium, as a person uses them (issue 15): the
// asker accepts an answer and sees it first, a curator files posts in the
// repertoire and reorders it, a reader lists the unanswered questions and
// searches the community, the owner sets the welcome on the newcomer's
// view. axe-core checks every page in both schemes.
func TestBrowserPractice(t *testing.T) {
	needBrowser(t)
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			if d == storage.Postgres && os.Getenv("COMMONPLACE_TEST_POSTGRES") == "" {
				t.Skip("set COMMONPLACE_TEST_POSTGRES to run against PostgreSQL")
			}
			practiceFlows(t, d)
		})
	}
}

func practiceFlows(t *testing.T, d storage.Dialect) {
	a := fedtest.Start(t, d)
	ctx := t.Context()
	for _, name := range []string{"ada", "bo"} {
		if _, err := a.Service.CreateAccount(ctx, federation.NewAccount{Username: name, Email: name + "@example.org", Password: pw}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Service.CreateCommunity(ctx, federation.NewCommunity{Name: "wards", Title: "Ward practice", Owner: "ada"}); err != nil {
		t.Fatal(err)
	}
	ada, _ := a.DB.GetLocalActor(ctx, "ada")
	bo, _ := a.DB.GetLocalActor(ctx, "bo")
	if _, err := a.Service.Join(ctx, bo, "wards"); err != nil {
		t.Fatal(err)
	}
	q, err := a.Service.Post(ctx, ada, federation.NewPost{Community: "wards", Kind: federation.KindQuestion, Title: "How do you hand over at night?", Text: "We lose details between shifts."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Post(ctx, bo, federation.NewPost{InReplyTo: q.URI, Text: "Good question, following."}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.Post(ctx, bo, federation.NewPost{InReplyTo: q.URI, Text: "We use SBAR on a bedside card."}); err != nil {
		t.Fatal(err)
	}
	tmpl, err := a.Service.Post(ctx, bo, federation.NewPost{Community: "wards", Kind: federation.KindResource, Title: "SBAR card template", Text: "Situation, background, assessment, recommendation."})
	if err != nil {
		t.Fatal(err)
	}

	tb := newBrowser(t)
	tb.open(a.URL + "/auth/sign_in")
	tb.fill("Username or e-mail address", "ada")
	tb.fill("Password", pw)
	tb.click(button("Sign in"))

	// The unanswered questions, then the question: accept bo's answer.
	tb.open(a.URL + "/c/wards")
	tb.click(link("Unanswered questions"))
	tb.sees("Questions waiting for an answer", "How do you hand over at night?")
	tb.click(link("How do you hand over at night?"))
	tb.sees("No answer accepted yet.")
	tb.click(button("Accept as answer: the reply by bo"))
	tb.sees("Accepted answer", "We use SBAR on a bedside card.", "answered")

	// File the question and the template in the repertoire, then reorder.
	tb.fill("Section", "Cases")
	tb.click(button("Add to the repertoire"))
	tb.sees("In the community's repertoire, under Cases.")
	tb.open(a.URL + "/posts/" + itoa(tmpl.ID))
	tb.fill("Section", "Start here")
	tb.click(button("Add to the repertoire"))
	tb.open(a.URL + "/c/wards")
	tb.click(link("Repertoire"))
	tb.sees("Cases", "Start here", "SBAR card template")
	tb.click(button("Move this section up: SBAR card template"))
	if text := tb.text(); strings.Index(text, "Start here") > strings.Index(text, "Cases") {
		t.Fatalf("the section did not move up:\n%s", text)
	}

	// The newcomer's view: the welcome, then the repertoire and the rest.
	tb.open(a.URL + "/c/wards")
	tb.click(link("New here? Start here"))
	tb.fill("Welcome message for new members", "Hello! Read the Start here section first.")
	tb.click(button("Save the welcome"))
	tb.sees("Hello! Read the Start here section first.", "The repertoire", "SBAR card template", "People who answer here", "bo")

	// Search the community.
	tb.open(a.URL + "/c/wards")
	tb.click(link("Search this community"))
	tb.fill("Words in posts and replies", "bedside")
	tb.click(button("Search"))
	tb.sees("Posts found", "We use SBAR on a bedside card.")
}
