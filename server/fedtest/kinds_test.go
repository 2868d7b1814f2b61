package fedtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
)

// Kinds of post (issue 15, item 1) cross servers: a question written by
// the client-API convention on B and a resource chosen in the composer on
// A are read back as the same kinds by the other Commonplace instance,
// Mastodon renders each boost with its kind and title in the content, and
// a Mastodon user's "#question" post is a question.
func TestKindsOfPost(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b := fedtest.Start(t, d), fedtest.Start(t, d)
			olga := a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			bea := b.Member("bea")
			if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "bea's join accepted", accepted(b, group.URI, bea.URI))
			m := fedtest.NewMastodon(t)
			if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
				t.Fatalf("Follow answered %d", code)
			}
			fedtest.Eventually(t, "alice is a member on A", accepted(a, group.URI, m.ActorURI()))
			a.WaitSoftware(m.Domain)

			q, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("practice"),
				Text: "#question How do you hand over at night?\n\nWe lose details between shifts."})
			if err != nil {
				t.Fatal(err)
			}
			if q.Kind != federation.KindQuestion || q.Name != "How do you hand over at night?" || strings.Contains(q.Content, "#question How") {
				t.Fatalf("B's own copy: kind %q name %q content %s", q.Kind, q.Name, q.Content)
			}
			fedtest.Eventually(t, "A reads the question as a question", func() (bool, error) {
				o, err := object(a, q.URI)
				return err == nil && o.Kind == federation.KindQuestion && o.Name == "How do you hand over at night?", err
			})
			boost := m.WaitFor("boost of the question", isAnnounceOf(q.URI))
			if boost.BoostErr != nil {
				t.Fatalf("Mastodon could not render the boost: %v", boost.BoostErr)
			}
			content, _ := boost.Boost["content"].(string)
			if !strings.Contains(content, "<strong>Question: How do you hand over at night?</strong>") || !strings.Contains(content, "details between shifts") {
				t.Fatalf("Mastodon shows no kind and title: %s", content)
			}
			if !hasHashtag(boost.Boost, "#question") || boost.Boost["postKind"] != "question" {
				t.Fatalf("boosted note lacks the #question tag or postKind: %v", boost.Boost)
			}

			res, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "practice", Kind: "resource",
				Title: "Night handover template", Text: "Use **SBAR**: situation, background, assessment.", Markdown: true})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B reads the resource as a resource", func() (bool, error) {
				o, err := object(b, res.URI)
				return err == nil && o.Kind == federation.KindResource && o.Name == "Night handover template", err
			})

			// Replies have no kind, whatever they start with.
			reply, err := b.Service.Post(ctx, bea, federation.NewPost{InReplyTo: res.URI, Text: "#question does it fit ICU?"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A stores the reply as a discussion", func() (bool, error) {
				o, err := object(a, reply.URI)
				return err == nil && o.Kind == federation.KindDiscussion, err
			})

			noteID, code := m.PostToGroup(group.URI, a.Handle("practice"), group.InboxURI, "#question Where is the sepsis bundle kept?")
			if code != http.StatusAccepted {
				t.Fatalf("Create answered %d", code)
			}
			fedtest.Eventually(t, "A reads alice's #question as a question", func() (bool, error) {
				o, err := object(a, noteID)
				return err == nil && o.Kind == federation.KindQuestion, err
			})
			fedtest.Eventually(t, "B reads it as a question too", func() (bool, error) {
				o, err := object(b, noteID)
				return err == nil && o.Kind == federation.KindQuestion, err
			})

			// An edit from an app re-reads the convention.
			if _, err := b.Service.Edit(ctx, bea, q.URI, "#case Night handover\n\nWhat we tried and what happened."); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A reads the edit as a case", func() (bool, error) {
				o, err := object(a, q.URI)
				return err == nil && o.Kind == federation.KindCase && o.Name == "Night handover" && strings.Contains(o.Content, "Case: Night handover"), err
			})
		})
	}
}

func hasHashtag(note map[string]any, name string) bool {
	tags, _ := note["tag"].([]any)
	for _, t := range tags {
		if tm, ok := t.(map[string]any); ok && tm["type"] == "Hashtag" && tm["name"] == name {
			return true
		}
	}
	return false
}
