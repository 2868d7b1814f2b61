package fedtest_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// gtsPoll is a poll as GoToSocial's client API shows it.
type gtsPoll struct {
	ID         string `json:"id"`
	Expired    bool   `json:"expired"`
	Multiple   bool   `json:"multiple"`
	VotesCount int    `json:"votes_count"`
	Options    []struct {
		Title      string `json:"title"`
		VotesCount *int   `json:"votes_count"`
	} `json:"options"`
}

func (p gtsPoll) votes() []int {
	var out []int
	for _, o := range p.Options {
		n := -1
		if o.VotesCount != nil {
			n = *o.VotesCount
		}
		out = append(out, n)
	}
	return out
}

// Polls with a real GoToSocial, both ways. olga's poll in the community
// reaches gina, whose vote Commonplace counts; at the end GoToSocial
// shows it closed with the final totals (a local member's vote among
// them). gina's poll reaches olga, whose vote GoToSocial counts. It runs
// inside TestGoToSocialInterop, once gina is a member and olga follows
// her.
func (x *gtsInterop) polls(t *testing.T, olga *storage.Actor) {
	ctx := context.Background()
	cp, gina := x.cp, x.gts.User
	quinn := cp.Member("quinn")

	post, err := cp.Service.Post(ctx, olga, federation.NewPost{Community: "practice", Text: "Which handover format do you use?",
		Poll: &federation.NewPoll{Options: []string{"SBAR", "I-PASS"}, ExpiresIn: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	x.waitHome(gina, "olga's poll in gina's home", withURI(post.URI))
	var st struct {
		Poll *gtsPoll `json:"poll"`
	}
	gina.API(t, http.MethodGet, "/api/v1/statuses/"+x.statusID(gina, post.URI), nil, &st)
	if st.Poll == nil || len(st.Poll.Options) != 2 || st.Poll.Options[1].Title != "I-PASS" || st.Poll.Expired || st.Poll.Multiple {
		t.Fatalf("GoToSocial shows olga's poll as %+v", st.Poll)
	}
	gina.API(t, http.MethodPost, "/api/v1/polls/"+st.Poll.ID+"/votes", url.Values{"choices[]": {"1"}}, nil)
	cpPoll, err := cp.DB.GetPollByObject(ctx, post.ID)
	if err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "gina's vote counted on Commonplace", func() (bool, error) {
		p, err := cp.DB.GetPoll(ctx, cpPoll.ID)
		return err == nil && slices.Equal(p.Tallies, []int64{0, 1}) && *p.VotersCount == 1, err
	})
	if n, err := cp.DB.CountObjects(ctx, storage.ObjectFilter{InReplyToID: post.ID}); err != nil || n != 0 {
		t.Fatalf("gina's vote stored as a reply: %d %v", n, err)
	}
	if _, _, err := cp.Service.Vote(ctx, quinn, cpPoll.ID, []int{0}); err != nil {
		t.Fatal(err)
	}
	if err := cp.DB.Gorm(ctx).Model(&storage.Poll{}).Where("id = ?", cpPoll.ID).Update("expires_at", time.Now().UTC().Add(-time.Second)).Error; err != nil {
		t.Fatal(err)
	}
	var last *gtsPoll
	defer func() {
		if t.Failed() {
			t.Logf("GoToSocial's last view of olga's poll: %+v; its warnings:\n%s", last, strings.Join(x.gts.Warnings(), "\n"))
		}
	}()
	fedtest.Eventually(t, "GoToSocial shows the poll closed with the final totals", func() (bool, error) {
		var now struct {
			Poll *gtsPoll `json:"poll"`
		}
		err := gina.Call(http.MethodGet, "/api/v1/statuses/"+x.statusID(gina, post.URI), nil, &now)
		last = now.Poll
		return err == nil && now.Poll != nil && now.Poll.Expired && slices.Equal(now.Poll.votes(), []int{1, 1}), err
	})

	// gina's poll: olga votes from Commonplace.
	var ginas struct {
		URI  string   `json:"uri"`
		Poll *gtsPoll `json:"poll"`
	}
	gina.API(t, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"Handovers at the bedside?"}, "visibility": {"public"},
		"poll[options][]": {"Yes", "No", "Sometimes"}, "poll[expires_in]": {"3600"}}, &ginas)
	if ginas.Poll == nil {
		t.Fatal("GoToSocial made no poll")
	}
	var p *storage.Poll
	fedtest.Eventually(t, "gina's poll on Commonplace", func() (bool, error) {
		o, err := object(cp, ginas.URI)
		if err != nil {
			return false, nil
		}
		p, err = cp.DB.GetPollByObject(ctx, o.ID)
		return err == nil, nil
	})
	if !slices.Equal(p.Options, []string{"Yes", "No", "Sometimes"}) || p.Multiple || p.ExpiresAt == nil {
		t.Fatalf("gina's poll as Commonplace keeps it: %+v", p)
	}
	if _, _, err := cp.Service.Vote(ctx, olga, p.ID, []int{2}); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "olga's vote counted on GoToSocial", func() (bool, error) {
		var got gtsPoll
		err := gina.Call(http.MethodGet, "/api/v1/polls/"+ginas.Poll.ID, nil, &got)
		return err == nil && slices.Equal(got.votes(), []int{0, 0, 1}), err
	})
}
