package fedtest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// answeredWith reports whether n's copy of question has answer ("":
// none) as its accepted answer.
func answeredWith(n *fedtest.Node, question, answer string) func() (bool, error) {
	return func() (bool, error) {
		o, err := object(n, question)
		return err == nil && o.AcceptedAnswerURI == answer, err
	}
}

// Accepted answers (issue 15, item 2) across two Commonplace instances
// with real signatures: a question asked on A, answered from B, accepted
// on A by its asker, shows as answered on both; a moderator on B withdraws
// it and accepts another reply; nobody else may, whether through the
// service or with a forged Accept from a Mastodon account.
func TestAcceptedAnswerAcrossInstances(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b := fedtest.Start(t, d), fedtest.Start(t, d)
			olga := a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			bea, ben := b.Member("bea"), b.Member("ben")
			for _, who := range []*storage.Actor{bea, ben} {
				if _, err := b.Service.Join(ctx, who, a.Handle("practice")); err != nil {
					t.Fatal(err)
				}
				fedtest.Eventually(t, who.Username+"'s join accepted", accepted(b, group.URI, who.URI))
			}
			m := fedtest.NewMastodon(t)
			if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
				t.Fatalf("Follow answered %d", code)
			}
			fedtest.Eventually(t, "alice is a member", accepted(a, group.URI, m.ActorURI()))

			q, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "practice",
				Text: "#question How do you hand over at night?\n\nWe lose details between shifts."})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B has the question", func() (bool, error) {
				o, err := object(b, q.URI)
				return err == nil && o.Kind == federation.KindQuestion, nil
			})
			answer, err := b.Service.Post(ctx, bea, federation.NewPost{InReplyTo: q.URI, Text: "We use SBAR on a card."})
			if err != nil {
				t.Fatal(err)
			}
			mine, err := a.Service.Post(ctx, olga, federation.NewPost{InReplyTo: q.URI, Text: "Thanks! Any template?"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A has bea's answer", func() (bool, error) {
				_, err := object(a, answer.URI)
				return err == nil, nil
			})
			fedtest.Eventually(t, "B has olga's reply", func() (bool, error) {
				_, err := object(b, mine.URI)
				return err == nil, nil
			})

			// Neither a member who did not ask nor the question itself.
			if _, err := b.Service.AcceptAnswer(ctx, ben, answer.URI); !errors.Is(err, federation.ErrForbidden) {
				t.Fatalf("ben accepting: %v", err)
			}
			if _, err := a.Service.AcceptAnswer(ctx, olga, q.URI); !errors.Is(err, federation.ErrInvalid) {
				t.Fatalf("accepting the question itself: %v", err)
			}

			// A forged Accept from a Mastodon member is refused by A.
			forged := m.NewID("accept")
			if code := m.Send(group.InboxURI, map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams", "id": forged, "type": "Accept",
				"actor": m.ActorURI(), "object": answer.URI, "target": q.URI,
			}); code != http.StatusAccepted {
				t.Fatalf("forged Accept answered %d", code)
			}
			fedtest.Eventually(t, "A refuses the forged Accept", func() (bool, error) {
				act, err := a.DB.GetActivityByURI(ctx, forged)
				return err == nil && act.State == storage.ActivityFailed, nil
			})
			if o, _ := object(a, q.URI); o.AcceptedAnswerURI != "" {
				t.Fatalf("the forged Accept was applied: %q", o.AcceptedAnswerURI)
			}

			// The asker accepts bea's answer on A; B hears of it.
			got, err := a.Service.AcceptAnswer(ctx, olga, answer.URI)
			if err != nil {
				t.Fatal(err)
			}
			if got.AcceptedAnswerURI != answer.URI || got.AnsweredAt == nil {
				t.Fatalf("A's question after accepting: %q %v", got.AcceptedAnswerURI, got.AnsweredAt)
			}
			fedtest.Eventually(t, "B shows the question answered", answeredWith(b, q.URI, answer.URI))
			if note := servedNote(t, q.URI); string(note.AcceptedAnswer) != answer.URI {
				t.Fatalf("the question's Note names %q as its answer", note.AcceptedAnswer)
			}

			// bea, a moderator on B, withdraws it and accepts olga's reply.
			if err := a.Service.SetModerator(ctx, olga, "practice", bea.URI, true); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B knows bea moderates", isModerator(b, group.URI, bea.URI))
			if _, err := b.Service.UnacceptAnswer(ctx, bea, q.URI); err != nil {
				t.Fatal(err)
			}
			if o, _ := object(b, q.URI); o.AcceptedAnswerURI != "" {
				t.Fatalf("B still shows an answer after unaccepting: %q", o.AcceptedAnswerURI)
			}
			fedtest.Eventually(t, "A shows the question unanswered", answeredWith(a, q.URI, ""))
			if _, err := b.Service.AcceptAnswer(ctx, bea, mine.URI); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A shows olga's reply accepted", answeredWith(a, q.URI, mine.URI))
			fedtest.Eventually(t, "B shows olga's reply accepted", answeredWith(b, q.URI, mine.URI))

			// Deleting the accepted answer opens the question again.
			if err := a.Service.Delete(ctx, olga, mine.URI); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A shows the question open", answeredWith(a, q.URI, ""))
			fedtest.Eventually(t, "B shows the question open", answeredWith(b, q.URI, ""))
		})
	}
}
