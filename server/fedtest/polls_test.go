package fedtest_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/server/mastoapi"
	"github.com/commonplace/commonplace/storage"
)

// totalsAtOnce sends a poll's new totals as soon as the poll worker runs.
func totalsAtOnce(c *config.Config) { c.PollUpdateDelay = 0 }

// A poll in a community across two Commonplace instances and a Mastodon
// voter, with real signatures: the Question reaches the member's
// instance, whose vote is counted once by the author's; Mastodon's
// repeated and second votes are counted once; no vote shows as a reply;
// the totals reach every participant; at the end the poll closes
// everywhere and the author and voters are told.
func TestPollsAcrossInstances(t *testing.T) {
	ctx := context.Background()
	a := fedtest.StartWith(t, storage.SQLite, totalsAtOnce)
	b := fedtest.StartWith(t, storage.SQLite, totalsAtOnce)
	ana := a.Member("ana")
	a.Community("practice", false, "ana")
	bo, cy := b.Member("bo"), b.Member("cy")
	m := fedtest.NewMastodon(t)
	for _, who := range []*storage.Actor{bo, cy} {
		if _, err := b.Service.Join(ctx, who, a.Handle("practice")); err != nil {
			t.Fatal(err)
		}
	}
	fedtest.Eventually(t, "bo and cy are members", func() (bool, error) {
		g, err := b.DB.GetActorByURI(ctx, a.URL+"/c/practice")
		if err != nil {
			return false, nil
		}
		for _, who := range []*storage.Actor{bo, cy} {
			if ms, err := b.DB.GetMembership(ctx, g.ID, who.ID); err != nil || ms.State != storage.StateAccepted {
				return false, nil
			}
		}
		return true, nil
	})

	post, err := a.Service.Post(ctx, ana, federation.NewPost{Community: "practice", Text: "Which handover format do you use?",
		Poll: &federation.NewPoll{Options: []string{"SBAR", "I-PASS"}, ExpiresIn: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if post.Type != "Question" {
		t.Fatalf("a poll is a %s", post.Type)
	}
	aPoll, err := a.DB.GetPollByObject(ctx, post.ID)
	if err != nil {
		t.Fatal(err)
	}
	pollOn := func(n *fedtest.Node) *storage.Poll {
		o, err := n.DB.GetObjectByURI(ctx, post.URI)
		if err != nil {
			return nil
		}
		p, err := n.DB.GetPollByObject(ctx, o.ID)
		if err != nil {
			return nil
		}
		return p
	}
	var bPoll *storage.Poll
	fedtest.Eventually(t, "the poll on bo's instance", func() (bool, error) {
		bPoll = pollOn(b)
		return bPoll != nil, nil
	})
	if !slices.Equal(bPoll.Options, []string{"SBAR", "I-PASS"}) || bPoll.Multiple || bPoll.ExpiresAt == nil ||
		bPoll.ExpiresAt.Sub(*aPoll.ExpiresAt).Abs() > time.Second {
		t.Fatalf("poll as bo's instance has it: %+v (author's ends %v)", bPoll, aPoll.ExpiresAt)
	}

	// bo votes from his instance; the author's counts it.
	if _, _, err := b.Service.Vote(ctx, bo, bPoll.ID, []int{1}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Service.Vote(ctx, bo, bPoll.ID, []int{0}); !errors.Is(err, federation.ErrInvalid) {
		t.Fatalf("bo's second vote: %v", err)
	}
	counted := func(n *fedtest.Node, tallies []int64, voters int64) func() (bool, error) {
		return func() (bool, error) {
			p := pollOn(n)
			return p != nil && slices.Equal(p.Tallies, tallies) && p.VotersCount != nil && *p.VotersCount == voters, nil
		}
	}
	fedtest.Eventually(t, "bo's vote counted by the author's instance", counted(a, []int64{0, 1}, 1))

	// alice votes from Mastodon: the same vote delivered twice, then a
	// second choice on a one-choice poll. One vote counts.
	for _, v := range []struct {
		option string
		id     int
	}{{"SBAR", 1}, {"SBAR", 1}, {"I-PASS", 2}} {
		if code := m.Vote(ana.InboxURI, post.URI, ana.URI, v.option, v.id); code != 202 {
			t.Fatalf("vote: %d", code)
		}
	}
	a.Settled()
	if p := pollOn(a); !slices.Equal(p.Tallies, []int64{1, 1}) || *p.VotersCount != 2 || p.VotesCount != 2 {
		t.Fatalf("after alice's votes: %+v", p)
	}
	if n, err := a.DB.CountObjects(ctx, storage.ObjectFilter{InReplyToID: post.ID}); err != nil || n != 0 {
		t.Fatalf("votes stored as replies: %d %v", n, err)
	}

	// The totals reach bo's instance and alice's server.
	fedtest.Eventually(t, "the totals on bo's instance", counted(b, []int64{1, 1}, 2))
	update := func(closed bool) func(fedtest.Received) bool {
		return func(r fedtest.Received) bool {
			q, _ := r.Doc["object"].(map[string]any)
			opts, _ := q["oneOf"].([]any)
			return r.Type == "Update" && q["type"] == "Question" && q["votersCount"] == 2.0 && len(opts) == 2 &&
				totalItems(opts[0]) == 1 && totalItems(opts[1]) == 1 && (q["closed"] != nil) == closed
		}
	}
	m.WaitFor("the new totals at alice's server", update(false))
	if o, err := b.DB.GetObjectByURI(ctx, post.URI); err != nil || o.EditedAt != nil {
		t.Fatalf("new totals made an edit on bo's instance: %v %v", o.EditedAt, err)
	}

	// An edit of the poll's text keeps the poll and its totals.
	if _, err := a.Service.Edit(ctx, ana, post.URI, "Which handover format does your unit use?"); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "the edit on bo's instance", func() (bool, error) {
		o, err := b.DB.GetObjectByURI(ctx, post.URI)
		return err == nil && o.EditedAt != nil && strings.Contains(o.Content, "your unit"), nil
	})
	if p := pollOn(b); p == nil || !slices.Equal(p.Options, []string{"SBAR", "I-PASS"}) || !slices.Equal(p.Tallies, []int64{1, 1}) {
		t.Fatalf("the poll on bo's instance after the edit: %+v", p)
	}
	var sent []string
	if err := a.DB.Gorm(ctx).Table("activities").Where("type = ? AND actor_uri = ? AND object_uri = ? AND local = ?", "Update", ana.URI, post.URI, true).
		Pluck("raw", &sent).Error; err != nil {
		t.Fatal(err)
	}
	edits := 0
	for _, raw := range sent {
		var doc struct {
			Object struct {
				Updated string `json:"updated"`
				OneOf   []any  `json:"oneOf"`
			} `json:"object"`
		}
		if err := json.Unmarshal([]byte(raw), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Object.Updated != "" {
			edits++
			if len(doc.Object.OneOf) != 2 {
				t.Errorf("the edit was sent without the poll's options: %s", raw)
			}
		}
	}
	if edits != 1 {
		t.Errorf("%d edits sent, want 1", edits)
	}

	// The poll ends on the author's instance: it closes everywhere.
	if err := a.DB.Gorm(ctx).Model(&storage.Poll{}).Where("id = ?", aPoll.ID).Update("expires_at", time.Now().UTC().Add(-time.Second)).Error; err != nil {
		t.Fatal(err)
	}
	m.WaitFor("the final totals at alice's server", update(true))
	fedtest.Eventually(t, "the poll closed on bo's instance", func() (bool, error) {
		p := pollOn(b)
		return p != nil && p.ClosedAt != nil && p.Expired(time.Now()), nil
	})
	for _, c := range []struct {
		n  *fedtest.Node
		to *storage.Actor
	}{{a, ana}, {b, bo}} {
		fedtest.Eventually(t, c.to.Username+" told the poll ended", func() (bool, error) {
			l, err := c.n.DB.ListNotifications(ctx, storage.NotificationFilter{RecipientActorID: c.to.ID, Types: []string{storage.NotifyPoll}})
			return err == nil && len(l) == 1, err
		})
	}
	if l, err := b.DB.ListNotifications(ctx, storage.NotificationFilter{RecipientActorID: cy.ID, Types: []string{storage.NotifyPoll}}); err != nil || len(l) != 0 {
		t.Fatalf("cy did not vote: %v %v", l, err)
	}
	if _, _, err := b.Service.Vote(ctx, cy, bPoll.ID, []int{0}); !errors.Is(err, federation.ErrInvalid) {
		t.Fatalf("a vote after the end: %v", err)
	}
}

// A poll from Mastodon: stored with its totals, voted on from here as
// Mastodon's own voters vote (one Create{Note} per option, to the author
// only), its new totals and its end read from Mastodon's Update.
func TestPollFromMastodon(t *testing.T) {
	ctx := context.Background()
	a := fedtest.StartWith(t, storage.SQLite, totalsAtOnce)
	ana, bo := a.Member("ana"), a.Member("bo")
	m := fedtest.NewMastodon(t)
	if _, err := a.Service.Follow(ctx, ana, m.ActorURI()); err != nil {
		t.Fatal(err)
	}
	follow := m.WaitFor("ana's Follow", func(r fedtest.Received) bool { return r.Type == "Follow" })
	if code := m.Send(ana.InboxURI, map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": m.NewID("accepts"), "type": "Accept", "actor": m.ActorURI(), "object": follow.Doc}); code != 202 {
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

	options := []string{"Yes", "No", "It depends"}
	end := time.Now().Add(time.Hour).Truncate(time.Second)
	qid, code := m.PostQuestion(a.URL+"/inbox", "Debrief after every shift?", options, []int{2, 0, 1}, 3, true, end)
	if code != 202 {
		t.Fatalf("Create{Question}: %d", code)
	}
	var p *storage.Poll
	fedtest.Eventually(t, "the Question stored with its poll", func() (bool, error) {
		o, err := a.DB.GetObjectByURI(ctx, qid)
		if err != nil {
			return false, nil
		}
		p, err = a.DB.GetPollByObject(ctx, o.ID)
		return err == nil, nil
	})
	if !p.Multiple || !slices.Equal(p.Options, options) || !slices.Equal(p.Tallies, []int64{2, 0, 1}) || *p.VotersCount != 3 || !p.ExpiresAt.Equal(end) {
		t.Fatalf("stored poll: %+v", p)
	}

	if _, _, err := a.Service.Vote(ctx, ana, p.ID, []int{0, 2}); err != nil {
		t.Fatal(err)
	}
	for _, option := range []string{"Yes", "It depends"} {
		vote := m.WaitFor("ana's vote for "+option, func(r fedtest.Received) bool {
			n, _ := r.Doc["object"].(map[string]any)
			return r.Type == "Create" && n["type"] == "Note" && n["name"] == option
		})
		n := vote.Doc["object"].(map[string]any)
		if n["inReplyTo"] != qid || n["attributedTo"] != ana.URI || !slices.Equal(audienceOf(n["to"]), []string{m.ActorURI()}) || vote.Doc["actor"] != ana.URI {
			t.Fatalf("vote as sent: %s", vote.Raw)
		}
	}
	if got, _ := a.DB.GetPoll(ctx, p.ID); !slices.Equal(got.Tallies, []int64{3, 0, 2}) || *got.VotersCount != 4 {
		t.Fatalf("ana's votes counted here: %+v", got)
	}

	// Totals change on alice's server; a member's look reads them again,
	// at most once a minute.
	refreshDue := func() {
		t.Helper()
		if err := a.DB.Gorm(ctx).Model(&storage.Poll{}).Where("id = ?", p.ID).Update("fetched_at", time.Now().UTC().Add(-2*time.Minute)).Error; err != nil {
			t.Fatal(err)
		}
	}
	m.ServeQuestion(qid, "Debrief after every shift?", options, []int{4, 1, 2}, 6, true, end)
	if ok, err := a.Service.RefreshPoll(ctx, p.ID); err != nil || ok {
		t.Fatalf("refreshed within a minute of reading it: %v %v", ok, err)
	}
	refreshDue()
	if ok, err := a.Service.RefreshPoll(ctx, p.ID); err != nil || !ok {
		t.Fatalf("refresh: %v %v", ok, err)
	}
	if got, _ := a.DB.GetPoll(ctx, p.ID); !slices.Equal(got.Tallies, []int64{4, 1, 2}) || *got.VotersCount != 6 {
		t.Fatalf("after the refresh: %+v", got)
	}
	m.ServeQuestion(qid, "Debrief after every shift?", options, []int{5, 1, 2}, 7, true, end)
	refreshDue()
	tok, err := mastoapi.IssueToken(ctx, a.DB, "ana", "read")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/api/v1/polls/"+strconv.FormatInt(p.ID, 10), nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	fedtest.Eventually(t, "the poll read again after ana looked at it", func() (bool, error) {
		got, err := a.DB.GetPoll(ctx, p.ID)
		return err == nil && slices.Equal(got.Tallies, []int64{5, 1, 2}), err
	})

	// Mastodon's final totals close it here; bo can no longer vote.
	if code := m.UpdateQuestion(a.URL+"/inbox", qid, "Debrief after every shift?", options, []int{3, 1, 2}, 5, true, time.Now().Add(-time.Second), true); code != 202 {
		t.Fatalf("Update{Question}: %d", code)
	}
	fedtest.Eventually(t, "the final totals", func() (bool, error) {
		got, err := a.DB.GetPoll(ctx, p.ID)
		return err == nil && slices.Equal(got.Tallies, []int64{3, 1, 2}) && *got.VotersCount == 5 && got.Expired(time.Now()), nil
	})
	if o, _ := a.DB.GetObjectByURI(ctx, qid); o.EditedAt != nil {
		t.Fatal("new totals marked the poll edited")
	}
	fedtest.Eventually(t, "ana told the poll ended", func() (bool, error) {
		l, err := a.DB.ListNotifications(ctx, storage.NotificationFilter{RecipientActorID: ana.ID, Types: []string{storage.NotifyPoll}})
		return err == nil && len(l) == 1, err
	})
	if _, _, err := a.Service.Vote(ctx, bo, p.ID, []int{1}); !errors.Is(err, federation.ErrInvalid) {
		t.Fatalf("a vote after the end: %v", err)
	}

	// alice edits the options: a new poll, as on Mastodon; the votes cast
	// here are gone and ana may vote again.
	if code := m.EditQuestion(a.URL+"/inbox", qid, "Debrief how often?", []string{"Weekly", "Monthly"}, []int{0, 0}, 0, false, end); code != 202 {
		t.Fatalf("edit: %d", code)
	}
	fedtest.Eventually(t, "the new options", func() (bool, error) {
		got, err := a.DB.GetPoll(ctx, p.ID)
		return err == nil && slices.Equal(got.Options, []string{"Weekly", "Monthly"}) && !got.Multiple && slices.Equal(got.Tallies, []int64{0, 0}) && !got.Expired(time.Now()), nil
	})
	if views, err := a.DB.PollsOf(ctx, []int64{p.ObjectID}, ana.ID); err != nil || len(views[p.ObjectID].OwnVotes) != 0 {
		t.Fatalf("ana's votes after the edit: %+v %v", views[p.ObjectID], err)
	}
	if _, _, err := a.Service.Vote(ctx, ana, p.ID, []int{1}); err != nil {
		t.Fatalf("ana's vote on the edited poll: %v", err)
	}
	m.WaitFor("ana's vote for Monthly", func(r fedtest.Received) bool {
		n, _ := r.Doc["object"].(map[string]any)
		return r.Type == "Create" && n["name"] == "Monthly"
	})
}

// Several votes in one Create (a list of Notes) are each counted.
func TestPollVotesInOneCreate(t *testing.T) {
	ctx := context.Background()
	a := fedtest.StartWith(t, storage.SQLite, totalsAtOnce)
	ana := a.Member("ana")
	a.Community("practice", false, "ana")
	m := fedtest.NewMastodon(t)
	post, err := a.Service.Post(ctx, ana, federation.NewPost{Community: "practice", Text: "What do you check first?",
		Poll: &federation.NewPoll{Options: []string{"Airway", "Breathing", "Circulation"}, ExpiresIn: time.Hour, Multiple: true}})
	if err != nil {
		t.Fatal(err)
	}
	if code := m.VoteInOne(ana.InboxURI, post.URI, ana.URI, []string{"Airway", "Circulation"}, 1); code != 202 {
		t.Fatalf("votes: %d", code)
	}
	a.Settled()
	p, err := a.DB.GetPollByObject(ctx, post.ID)
	if err != nil || !slices.Equal(p.Tallies, []int64{1, 0, 1}) || *p.VotersCount != 1 {
		t.Fatalf("after two votes in one Create: %+v %v", p, err)
	}
}

// A vote counts only from someone the poll is for: a stranger's vote on a
// followers-only poll is dropped, a follower's counted.
func TestPollVotesOnlyFromReaders(t *testing.T) {
	ctx := context.Background()
	a := fedtest.StartWith(t, storage.SQLite, totalsAtOnce)
	ana := a.Member("ana")
	stranger, follower := fedtest.NewMastodon(t), fedtest.NewMastodon(t)
	if _, code := follower.Follow(ana.URI, ana.InboxURI); code != 202 {
		t.Fatalf("Follow: %d", code)
	}
	follower.WaitFor("Accept of the follow", func(r fedtest.Received) bool { return r.Type == "Accept" })
	post, err := a.Service.Post(ctx, ana, federation.NewPost{Visibility: storage.VisibilityPrivate, Text: "Followers: which rota suits you?",
		Poll: &federation.NewPoll{Options: []string{"Early", "Late"}, ExpiresIn: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if code := stranger.Vote(ana.InboxURI, post.URI, ana.URI, "Early", 1); code != 202 {
		t.Fatalf("stranger's vote: %d", code)
	}
	if code := follower.Vote(ana.InboxURI, post.URI, ana.URI, "Late", 1); code != 202 {
		t.Fatalf("follower's vote: %d", code)
	}
	a.Settled()
	p, err := a.DB.GetPollByObject(ctx, post.ID)
	if err != nil || !slices.Equal(p.Tallies, []int64{0, 1}) || *p.VotersCount != 1 {
		t.Fatalf("votes on a followers-only poll: %+v %v", p, err)
	}
	follower.WaitFor("the totals at the follower's server", func(r fedtest.Received) bool {
		q, _ := r.Doc["object"].(map[string]any)
		return r.Type == "Update" && q["votersCount"] == 1.0
	})
	for _, r := range stranger.Received() {
		t.Errorf("the stranger's server got %s", r.Raw)
	}
}

func totalItems(option any) float64 {
	o, _ := option.(map[string]any)
	r, _ := o["replies"].(map[string]any)
	n, _ := r["totalItems"].(float64)
	return n
}

func audienceOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
