package mastoapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Polls through the apps on one instance: created with a status from a
// JSON body and from a form, shown in the status and on their own, voted
// on once per voter (per option when several may be chosen), totals
// hidden when the author asks, served to other servers as a Question,
// and closed when they end, with the author and voters told.
func TestPolls(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			n := fedtest.Start(t, d)
			member(t, n, "ana")
			member(t, n, "bo")
			member(t, n, "cy")
			n.Community("practice", false, "ana")
			ana := newClient(t, n, tokenFor(t, n, "ana", "read write follow"))
			bo := newClient(t, n, tokenFor(t, n, "bo", "read write follow"))
			cy := newClient(t, n, tokenFor(t, n, "cy", "read write follow"))
			anon := newClient(t, n, "")

			// JSON, as most apps send it.
			st := expect(t, ana.do("POST", "/api/v1/statuses", map[string]any{
				"status": "@practice Which handover format do you use?",
				"poll":   map[string]any{"options": []string{"SBAR", "I-PASS", "Our own"}, "expires_in": 600, "multiple": false},
			}), 200, "Status").(map[string]any)
			poll, _ := st["poll"].(map[string]any)
			if poll == nil || poll["multiple"] != false || poll["expired"] != false || poll["voted"] != true ||
				poll["votes_count"] != 0.0 || poll["voters_count"] != 0.0 || len(poll["own_votes"].([]any)) != 0 {
				t.Fatalf("new poll in its status: %v", poll)
			}
			if titles := optionTitles(poll); !slices.Equal(titles, []string{"SBAR", "I-PASS", "Our own"}) {
				t.Fatalf("options %v", titles)
			}
			pollID, statusID := str(poll["id"]), str(st["id"])
			if exp, err := time.Parse(time.RFC3339, str(poll["expires_at"])); err != nil || time.Until(exp) < 9*time.Minute || time.Until(exp) > 11*time.Minute {
				t.Fatalf("expires_at %v", poll["expires_at"])
			}

			// A form, as others send it: several choices, totals hidden.
			multi := expect(t, bo.do("POST", "/api/v1/statuses", url.Values{
				"status": {"@practice What do you check first?"}, "poll[options][]": {"Airway", "Breathing", "Circulation"},
				"poll[expires_in]": {"3600"}, "poll[multiple]": {"true"}, "poll[hide_totals]": {"true"},
			}), 200, "Status").(map[string]any)
			multiPoll := multi["poll"].(map[string]any)
			if multiPoll["multiple"] != true {
				t.Fatalf("multiple poll: %v", multiPoll)
			}
			for _, bad := range []url.Values{
				{"status": {"@practice one?"}, "poll[options][]": {"only"}, "poll[expires_in]": {"600"}},
				{"status": {"@practice soon?"}, "poll[options][]": {"a", "b"}, "poll[expires_in]": {"60"}},
				{"status": {"@practice same?"}, "poll[options][]": {"a", "a"}, "poll[expires_in]": {"600"}},
				{"status": {"@practice many?"}, "poll[options][]": {"a", "b", "c", "d", "e"}, "poll[expires_in]": {"600"}},
				{"status": {"@practice when?"}, "poll[options][]": {"a", "b"}},
			} {
				if r := bo.do("POST", "/api/v1/statuses", bad); r.StatusCode != 422 {
					t.Errorf("poll %v: status %d, want 422: %s", bad, r.StatusCode, r.body)
				}
			}

			// bo votes once; again, or out of range, or ana in her own poll: 422.
			voted := expect(t, bo.do("POST", "/api/v1/polls/"+pollID+"/votes", map[string]any{"choices": []string{"1"}}), 200, "Poll").(map[string]any)
			if voted["votes_count"] != 1.0 || voted["voters_count"] != 1.0 || voted["voted"] != true || !slices.Equal(voted["own_votes"].([]any), []any{1.0}) {
				t.Fatalf("after bo's vote: %v", voted)
			}
			if v := field(voted["options"].([]any)[1], "votes_count"); v != 1.0 {
				t.Fatalf("votes of option 1: %v", v)
			}
			for who, c := range map[string]*client{"bo again": bo, "ana in her own poll": ana} {
				if r := c.do("POST", "/api/v1/polls/"+pollID+"/votes", url.Values{"choices[]": {"0"}}); r.StatusCode != 422 {
					t.Errorf("%s: status %d, want 422", who, r.StatusCode)
				}
			}
			if r := cy.do("POST", "/api/v1/polls/"+pollID+"/votes", url.Values{"choices[]": {"0", "2"}}); r.StatusCode != 422 {
				t.Errorf("two choices on a one-choice poll: %d", r.StatusCode)
			}
			if r := cy.do("POST", "/api/v1/polls/"+pollID+"/votes", url.Values{"choices[]": {"7"}}); r.StatusCode != 422 {
				t.Errorf("choice out of range: %d", r.StatusCode)
			}

			// Several choices on bo's poll; its totals stay hidden.
			hidden := expect(t, cy.do("POST", "/api/v1/polls/"+str(multiPoll["id"])+"/votes", url.Values{"choices[]": {"0", "2"}}), 200, "Poll").(map[string]any)
			if hidden["votes_count"] != 2.0 || hidden["voters_count"] != 1.0 || field(hidden["options"].([]any)[0], "votes_count") != nil {
				t.Fatalf("hidden totals: %v", hidden)
			}
			if r := cy.do("POST", "/api/v1/polls/"+str(multiPoll["id"])+"/votes", url.Values{"choices[]": {"2"}}); r.StatusCode != 422 {
				t.Errorf("the same option twice: %d", r.StatusCode)
			}

			// Anyone sees the poll, without voted and own_votes.
			shown := expect(t, anon.do("GET", "/api/v1/polls/"+pollID, nil), 200, "Poll").(map[string]any)
			if _, ok := shown["voted"]; ok || shown["votes_count"] != 1.0 {
				t.Fatalf("anonymous poll: %v", shown)
			}
			if p := field(expect(t, cy.do("GET", "/api/v1/statuses/"+statusID, nil), 200, "Status"), "poll"); field(p, "voted") != false {
				t.Fatalf("cy has not voted: %v", p)
			}

			// Other servers read a Question with the totals.
			q := fetchQuestion(t, str(st["uri"]))
			if q["type"] != "Question" || q["votersCount"] != 1.0 || q["endTime"] == nil || q["closed"] != nil {
				t.Fatalf("question: %v", q)
			}
			if opts, _ := q["oneOf"].([]any); len(opts) != 3 || field(opts[1], "name") != "I-PASS" || field(opts[1], "replies", "totalItems") != 1.0 {
				t.Fatalf("oneOf: %v", q["oneOf"])
			}
			if mq := fetchQuestion(t, str(multi["uri"])); mq["anyOf"] == nil || field(mq["anyOf"].([]any)[0], "replies", "totalItems") != 0.0 {
				t.Fatalf("hidden totals served: %v", mq["anyOf"])
			}

			// The poll ends: no more votes; author and voter are told.
			endPoll(t, n.DB, pollID)
			if r := cy.do("POST", "/api/v1/polls/"+pollID+"/votes", url.Values{"choices[]": {"0"}}); r.StatusCode != 422 {
				t.Errorf("vote on an ended poll: %d", r.StatusCode)
			}
			if p := expect(t, anon.do("GET", "/api/v1/polls/"+pollID, nil), 200, "Poll").(map[string]any); p["expired"] != true {
				t.Fatalf("ended poll: %v", p)
			}
			for name, c := range map[string]*client{"ana": ana, "bo": bo} {
				fedtest.Eventually(t, name+" told the poll ended", func() (bool, error) {
					l := expect(t, c.do("GET", "/api/v1/notifications?types[]=poll", nil), 200, "[]Notification").([]any)
					return len(l) == 1 && str(field(l[0], "status", "id")) == statusID && field(l[0], "status", "poll", "expired") == true, nil
				})
			}
			if l := expect(t, cy.do("GET", "/api/v1/notifications?types[]=poll", nil), 200, "[]Notification").([]any); len(l) != 0 {
				t.Fatalf("cy did not vote in it: %v", l)
			}
			if q := fetchQuestion(t, str(st["uri"])); q["closed"] == nil {
				t.Fatalf("ended question without closed: %v", q)
			}
		})
	}
}

func optionTitles(poll map[string]any) []string {
	var out []string
	for _, o := range poll["options"].([]any) {
		out = append(out, str(field(o, "title")))
	}
	return out
}

// fetchQuestion reads a public post's document as a server would.
func fetchQuestion(t *testing.T, uri string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", uri, nil)
	req.Header.Set("Accept", "application/activity+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v %s", uri, res.StatusCode, err, b)
	}
	return m
}

// endPoll moves a poll's end into the past, as time would.
func endPoll(t *testing.T, db *storage.DB, pollID string) {
	t.Helper()
	err := db.Gorm(context.Background()).Model(&storage.Poll{}).Where("id = ?", pollID).
		Update("expires_at", time.Now().UTC().Add(-time.Second)).Error
	if err != nil {
		t.Fatal(err)
	}
}
