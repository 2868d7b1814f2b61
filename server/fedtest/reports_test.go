package fedtest_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

func openReports(n *fedtest.Node, communityURI string) func() ([]storage.Report, error) {
	return func() ([]storage.Report, error) {
		ctx := context.Background()
		g, err := n.DB.GetActorByURI(ctx, communityURI)
		if err != nil {
			return nil, err
		}
		return n.DB.Reports(ctx, storage.ReportFilter{CommunityActorIDs: []int64{g.ID}, State: storage.ReportOpen})
	}
}

func hasReport(list func() ([]storage.Report, error), match func(storage.Report) bool) func() (bool, error) {
	return func() (bool, error) {
		rs, err := list()
		return slices.ContainsFunc(rs, match), err
	}
}

// Reports from everywhere land in the community's queue: Mastodon's Flag
// from its instance actor, Lemmy's Flag to the community, a member's
// report here and one from another Commonplace about a post in a
// community on this one; forwarded reports reach the author's server;
// closing one tells the reporter.
func TestReports(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b := fedtest.Start(t, d), fedtest.Start(t, d)
			olga := a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			dan := a.Member("dan")
			if _, err := a.Service.Join(ctx, dan, "practice"); err != nil {
				t.Fatal(err)
			}
			bea := b.Member("bea")
			if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "bea's join accepted", accepted(b, group.URI, bea.URI))
			m := fedtest.NewMastodon(t)
			m.Follow(group.URI, group.InboxURI)
			fedtest.Eventually(t, "alice is a member", accepted(a, group.URI, m.ActorURI()))
			l := fedtest.NewLemmyGroup(t)
			l.Join(group.URI, group.InboxURI)
			fedtest.Eventually(t, "lem is a member", accepted(a, group.URI, l.UserURI()))

			post, err := a.Service.Post(ctx, dan, federation.NewPost{Community: "practice", Text: "Cheap pills"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B receives dan's post", func() (bool, error) {
				_, err := object(b, post.URI)
				return err == nil, nil
			})

			// Mastodon: a Flag from the server, the account and the post
			// as objects, the comment in content.
			flagID := m.NewID("flags")
			code := m.Send(a.URL+"/inbox", map[string]any{
				"@context": "https://www.w3.org/ns/activitystreams", "id": flagID, "type": "Flag",
				"actor": m.ActorURI(), "content": "Spam, see the post", "object": []string{dan.URI, post.URI},
			})
			if code != http.StatusAccepted {
				t.Fatalf("Flag answered %d", code)
			}
			fedtest.Eventually(t, "Mastodon's report in the queue", hasReport(openReports(a, group.URI), func(r storage.Report) bool {
				return r.URI == flagID && r.Comment == "Spam, see the post" && r.TargetActor != nil && r.TargetActor.URI == dan.URI &&
					slices.Equal(r.Objects(), []string{post.URI}) && r.ReporterActor.URI == m.ActorURI()
			}))

			// Lemmy: a Flag to the community, one post, the reason in summary.
			lemFlag := l.NewID("flag")
			l.SendAsUser(group.InboxURI, map[string]any{
				"@context": []string{"https://join-lemmy.org/context.json", "https://www.w3.org/ns/activitystreams"},
				"id":       lemFlag, "type": "Flag", "actor": l.UserURI(), "to": []string{group.URI},
				"object": post.URI, "summary": "report this post", "audience": group.URI,
			})
			fedtest.Eventually(t, "Lemmy's report in the queue", hasReport(openReports(a, group.URI), func(r storage.Report) bool {
				return r.URI == lemFlag && r.Comment == "report this post" && r.TargetActor != nil && r.TargetActor.URI == dan.URI
			}))

			// From B, about a post in A's community: Lemmy's Flag to it.
			if _, err := b.Service.Report(ctx, bea, federation.NewReport{Objects: []string{post.URI}, Comment: "from B"}); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B's report in A's queue", hasReport(openReports(a, group.URI), func(r storage.Report) bool {
				return r.Comment == "from B" && r.ReporterActor != nil && r.ReporterActor.URI == bea.URI
			}))

			// A member here reports alice's post and forwards it to her server.
			note, _ := m.PostToGroup(group.URI, a.Handle("practice"), group.InboxURI, "Rude words")
			fedtest.Eventually(t, "A stores alice's post", func() (bool, error) {
				_, err := object(a, note)
				return err == nil, nil
			})
			local, err := a.Service.Report(ctx, olga, federation.NewReport{Objects: []string{note}, Comment: "rude", Category: "violation", Forward: true})
			if err != nil {
				t.Fatal(err)
			}
			if local.CommunityActorID == nil || *local.CommunityActorID != group.ID || !local.Forwarded {
				t.Fatalf("local report: %+v", local)
			}
			fwd := m.WaitFor("the forwarded Flag", func(r fedtest.Received) bool { return r.Type == "Flag" })
			objs, _ := fwd.Doc["object"].([]any)
			if fwd.Doc["actor"] != a.URL+"/actor" || len(objs) != 2 || objs[0] != m.ActorURI() || objs[1] != note || fwd.Doc["content"] != "rude" {
				t.Fatalf("forwarded Flag: %s", fwd.Raw)
			}

			// Closing: only moderators and admins; the reporter is told.
			danOnA := dan
			if _, err := a.Service.CloseReport(ctx, danOnA, local.ID, false, "x"); err == nil {
				t.Fatal("a member closed a report")
			}
			if _, err := a.Service.CloseReport(ctx, olga, local.ID, false, "removed it"); err != nil {
				t.Fatal(err)
			}
			ns, err := a.DB.ListNotifications(ctx, storage.NotificationFilter{RecipientActorID: olga.ID, Types: []string{storage.NotifyReportResolved}, Page: storage.Page{Limit: 10}})
			if err != nil || len(ns) != 1 {
				t.Fatalf("reporter's notifications: %v %v", ns, err)
			}
			rs, _ := openReports(a, group.URI)()
			var lemReport *storage.Report
			for i := range rs {
				if rs[i].URI == lemFlag {
					lemReport = &rs[i]
				}
			}
			if _, err := a.Service.CloseReport(ctx, olga, lemReport.ID, true, "not spam"); err != nil {
				t.Fatal(err)
			}
			l.WaitFor("Lemmy's reporter gets the Resolve", func(r fedtest.Received) bool {
				inner, _ := r.Doc["object"].(map[string]any)
				return r.Type == "Resolve" && inner["id"] == lemFlag
			})
			log, _ := a.DB.ModLog(ctx, group.ID, 0, 5)
			if len(log) < 2 || log[0].Action != storage.ModDismissReport || !log[0].ReasonPrivate || log[1].Action != storage.ModResolveReport {
				t.Fatalf("modlog: %+v", log)
			}
		})
	}
}
