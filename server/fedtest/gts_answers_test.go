package fedtest_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A question asked in a community on A reaches a member on a real
// GoToSocial, who answers it through GoToSocial's client API; the answer
// arrives on A, the asker accepts it, and A shows the question answered
// with it, while GoToSocial keeps both posts and logs no complaint about
// A (issue 15).
func TestGoToSocialQuestionAnswered(t *testing.T) {
	ctx := context.Background()
	x := &gtsInterop{t: t, gts: fedtest.StartGoToSocial(t, "gina")}
	x.cp = fedtest.StartNamed(t, storage.SQLite)
	a, gina := x.cp, x.gts.User
	olga := a.Member("olga")
	group := a.Community("practice", false, "olga").Actor
	x.join(gina, "practice")
	fedtest.Eventually(t, "gina's join accepted", accepted(a, group.URI, gina.ActorURI()))
	a.WaitSoftware(x.gts.Name)
	defer func() {
		if t.Failed() {
			t.Logf("GoToSocial warnings:\n%s", strings.Join(x.gts.Warnings(), "\n"))
		}
	}()

	q, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "practice",
		Text: "#question How do you hand over at night?\n\nWe lose details between shifts."})
	if err != nil {
		t.Fatal(err)
	}
	if q.Kind != federation.KindQuestion {
		t.Fatalf("olga's post has kind %q", q.Kind)
	}
	seen := x.waitHome(gina, "olga's question in gina's home", withURI(q.URI))
	if !strings.Contains(seen.Content, "hand over at night") {
		t.Fatalf("GoToSocial shows the question as %q", seen.Content)
	}

	var answer fedtest.GTSStatus
	gina.API(t, http.MethodPost, "/api/v1/statuses", url.Values{
		"status": {"@" + olga.Username + "@" + a.Domain + " We use SBAR on a card."}, "visibility": {"public"},
		"in_reply_to_id": {x.statusID(gina, q.URI)},
	}, &answer)
	fedtest.Eventually(t, "gina's answer on A, in reply to the question", func() (bool, error) {
		o, err := object(a, answer.URI)
		return err == nil && o.InReplyToID != nil && *o.InReplyToID == q.ID, nil
	})

	got, err := a.Service.AcceptAnswer(ctx, olga, answer.URI)
	if err != nil {
		t.Fatal(err)
	}
	if got.AcceptedAnswerURI != answer.URI || got.AnsweredAt == nil {
		t.Fatalf("A's question after accepting: %q %v", got.AcceptedAnswerURI, got.AnsweredAt)
	}
	stored, err := object(a, q.URI)
	if err != nil {
		t.Fatal(err)
	}
	if stored.AcceptedAnswerURI != answer.URI || stored.AnsweredAt == nil {
		t.Fatalf("A stores the question with answer %q at %v", stored.AcceptedAnswerURI, stored.AnsweredAt)
	}

	// GoToSocial keeps both posts and refused nothing the community sent.
	a.Settled()
	for _, uri := range []string{q.URI, answer.URI} {
		var st fedtest.GTSStatus
		gina.API(t, http.MethodGet, "/api/v1/statuses/"+x.statusID(gina, uri), nil, &st)
		if st.URI != uri {
			t.Errorf("GoToSocial shows %q for %s", st.URI, uri)
		}
	}
	for _, w := range x.gts.Warnings() {
		if strings.Contains(w, a.Domain) {
			t.Errorf("GoToSocial logged: %s", w)
		}
	}
}
