package web_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// In the browser: a poll's page shows its options; a member votes with the
// form (radio buttons, no script) and then sees the totals and their vote;
// the author and a visitor get no form; a vote without a choice is
// refused with a message.
func TestPollPage(t *testing.T) {
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
		poll, err := s.svc.Post(ctx, asa, federation.NewPost{Community: "wards", Text: "Which handover format?",
			Poll: &federation.NewPoll{Options: []string{"SBAR", "I-PASS"}, ExpiresIn: time.Hour}})
		if err != nil {
			t.Fatal(err)
		}
		path := strings.TrimPrefix(poll.URI, s.url)
		vote := "/posts/" + strconv.FormatInt(poll.ID, 10) + "/vote"

		visitor := s.browser()
		page := visitor.get(path)
		page.must(t, 200, `id="poll-h">Poll</h2>`, "SBAR: 0 votes (0%)", "I-PASS: 0 votes (0%)", "0 people voted")
		if strings.Contains(page.body, vote) {
			t.Fatal("a visitor is offered the vote form")
		}
		asaB := s.browser()
		asaB.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"asa"}, "password": {pw}}).must(t, 303)
		if p := asaB.get(path); strings.Contains(p.body, vote) {
			t.Fatal("the author is offered to vote in her own poll")
		}

		bo := s.browser()
		bo.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"bo"}, "password": {pw}}).must(t, 303)
		bo.get(path).must(t, 200, `action="`+vote+`"`, `type="radio" name="choice" value="1"> I-PASS`, "Choose one")
		bo.submit(path, vote, url.Values{}).must(t, 422, "Choose an option to vote.")
		if p := bo.submit(path, vote, url.Values{"choice": {"1"}}); p.status != 303 || p.location != path+"#poll" {
			t.Fatalf("vote: %d to %q\n%s", p.status, p.location, p.body)
		}
		page = bo.get(path)
		page.must(t, 200, "I-PASS <strong>(your vote)</strong>: 1 vote (100%)", "SBAR: 0 votes (0%)", "1 person voted")
		if strings.Contains(page.body, `action="`+vote+`"`) {
			t.Fatal("bo is offered to vote again")
		}
		bo.submit(path, vote, url.Values{"choice": {"0"}}).must(t, 422, "already voted")

		// From the composer: a poll where several may be chosen.
		asaB.get("/c/wards").must(t, 200, "Add a poll", `name="poll_option"`)
		asaB.submit("/c/wards", "/c/wards/posts", url.Values{"kind": {"discussion"}, "text": {"One option?"}, "poll_option": {"Only", "", ""}, "poll_expires": {"3600"}}).
			must(t, 422, "A poll needs at least 2 options")
		made := asaB.submit("/c/wards", "/c/wards/posts", url.Values{"kind": {"discussion"}, "text": {"What do you check first?"},
			"poll_option": {"Airway", "Breathing", "", "Circulation"}, "poll_expires": {"3600"}, "poll_multiple": {"1"}})
		if made.status != 303 {
			t.Fatalf("post with a poll: %d\n%s", made.status, made.body)
		}
		bo.get(made.location).must(t, 200, "Choose one or more", `type="checkbox" name="choice" value="2"> Circulation`)
	})
}
