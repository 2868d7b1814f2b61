package fedtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A poll in a members-only community: its new totals go to the members'
// servers, never to the author's followers elsewhere (N, where nia
// follows olga and is no member).
func TestMembersOnlyPoll(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b, n := fedtest.StartWith(t, d, totalsAtOnce), fedtest.StartWith(t, d, totalsAtOnce), fedtest.Start(t, d)
			olga := a.Member("olga")
			if _, err := a.Service.CreateCommunity(ctx, federation.NewCommunity{Name: "circle", Title: "Circle", MembersOnly: true, Owner: "olga"}); err != nil {
				t.Fatal(err)
			}
			group := a.URL + "/c/circle"
			bea, nia := b.Member("bea"), n.Member("nia")
			if _, err := b.Service.Join(ctx, bea, a.Handle("circle")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "bea's request on A", func() (bool, error) {
				_, err := membership(a, group, bea.URI)
				return err == nil, nil
			})
			if _, err := a.Service.Decide(ctx, "circle", bea.URI, true); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "bea is a member", accepted(b, group, bea.URI))
			if _, err := n.Service.Follow(ctx, nia, a.Handle("olga")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "nia follows olga", accepted(n, olga.URI, nia.URI))

			post, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "circle", Text: "Which format?",
				Poll: &federation.NewPoll{Options: []string{"SBAR", "I-PASS"}, ExpiresIn: time.Hour}})
			if err != nil {
				t.Fatal(err)
			}
			if post.Visibility != storage.VisibilityMembers {
				t.Fatalf("poll stored as %q", post.Visibility)
			}
			var onB *storage.Object
			fedtest.Eventually(t, "the poll on B", func() (bool, error) {
				onB, err = object(b, post.URI)
				return err == nil, nil
			})
			bPoll, err := b.DB.GetPollByObject(ctx, onB.ID)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := b.Service.Vote(ctx, bea, bPoll.ID, []int{0}); err != nil {
				t.Fatal(err)
			}
			aPoll, err := a.DB.GetPollByObject(ctx, post.ID)
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A counts bea's vote", func() (bool, error) {
				p, err := a.DB.GetPoll(ctx, aPoll.ID)
				return err == nil && p.VotesCount == 1, err
			})
			fedtest.Eventually(t, "A sends the new totals", func() (bool, error) {
				p, err := a.DB.GetPoll(ctx, aPoll.ID)
				return err == nil && p.UpdateDueAt == nil, err
			})
			a.Settled()
			var sent int64
			if err := a.DB.Gorm(ctx).Table("deliveries").Joins("JOIN activities ON activities.id = deliveries.activity_id").
				Where("deliveries.host = ? AND (activities.raw LIKE ? OR activities.object_uri = ?)", n.Domain, "%"+post.URI+"%", post.URI).
				Count(&sent).Error; err != nil {
				t.Fatal(err)
			}
			if sent != 0 {
				t.Errorf("A sent N, where nobody is a member, %d activities about the poll", sent)
			}
			var updates int64
			if err := a.DB.Gorm(ctx).Table("deliveries").Joins("JOIN activities ON activities.id = deliveries.activity_id").
				Where("deliveries.host = ? AND activities.raw LIKE ? AND activities.raw LIKE ?", b.Domain, "%"+post.URI+"%", `%"type":"Update"%`).
				Count(&updates).Error; err != nil {
				t.Fatal(err)
			}
			if updates == 0 {
				t.Error("the member's server got no new totals")
			}
		})
	}
}
