package fedtest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/server/mastoapi"
	"github.com/commonplace/commonplace/storage"
)

// A community on A holds posts from servers it has not seen: bea's first
// post from B waits, is neither stored nor redistributed (the Mastodon
// stand-in and C get nothing) until olga approves it; then every member's
// server gets it, and bea's next post enters at once. A local newcomer's
// post is held and rejected; a member beyond the hourly limit is refused.
// Only moderators see and decide the queue, and the modlog records it.
func TestPremoderationAcrossInstances(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b, c := fedtest.Start(t, d), fedtest.Start(t, d), fedtest.Start(t, d)
			olga, ned := a.Member("olga"), a.Member("ned")
			group := a.Community("practice", false, "olga").Actor
			bea, cai := b.Member("bea"), c.Member("cai")
			for _, j := range []struct {
				n *fedtest.Node
				m *storage.Actor
			}{{b, bea}, {c, cai}, {a, ned}} {
				if _, err := j.n.Service.Join(ctx, j.m, a.Handle("practice")); err != nil {
					t.Fatal(err)
				}
				fedtest.Eventually(t, j.m.Username+"'s join accepted", accepted(j.n, group.URI, j.m.URI))
			}
			m := fedtest.NewMastodon(t)
			if _, code := m.Follow(group.URI, group.InboxURI); code != http.StatusAccepted {
				t.Fatalf("Follow answered %d", code)
			}
			fedtest.Eventually(t, "alice is a member", accepted(a, group.URI, m.ActorURI()))
			// C is known: cai has posted before the rules.
			first, err := c.Service.Post(ctx, cai, federation.NewPost{Community: a.Handle("practice"), Text: "Hello from C"})
			if err != nil {
				t.Fatal(err)
			}
			m.WaitFor("the boost of cai's post", isAnnounceOf(first.URI))

			rules := storage.PostingRules{HoldNewMembers: true, HoldNewInstances: true, MemberPostsPerHour: 2}
			caiOnA, err := a.DB.GetActorByURI(ctx, cai.URI)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Service.SetPostingRules(ctx, caiOnA, "practice", rules); !errors.Is(err, federation.ErrForbidden) {
				t.Fatalf("a member setting the rules: %v", err)
			}
			if err := a.Service.SetPostingRules(ctx, olga, "practice", rules); err != nil {
				t.Fatal(err)
			}

			held, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("practice"), Text: "First words from B"})
			if err != nil {
				t.Fatal(err)
			}
			var queue []storage.HeldPost
			fedtest.Eventually(t, "bea's post held on A", func() (bool, error) {
				queue, err = a.Service.HeldPosts(ctx, olga, "practice", 0, 10)
				return len(queue) == 1, err
			})
			if q := queue[0]; q.ObjectURI != held.URI || q.Reason != storage.HoldNewInstance || q.AuthorActor.URI != bea.URI {
				t.Errorf("held %+v", q)
			}
			a.Settled()
			if _, err := object(a, held.URI); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a held post is stored on A: %v", err)
			}
			c.Settled()
			if _, err := object(c, held.URI); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a held post reached C: %v", err)
			}
			for _, r := range m.Received() {
				if isAnnounceOf(held.URI)(r) {
					t.Error("a held post was announced to Mastodon")
				}
			}
			// olga, who moderates, is told on the web (not in the apps,
			// which have no moderation queue); cai is not.
			for _, c := range []struct {
				who  *storage.Actor
				want int
			}{{olga, 1}, {ned, 0}} {
				list, err := a.DB.ListNotifications(ctx, storage.NotificationFilter{RecipientActorID: c.who.ID, Types: []string{storage.NotifyHeldPost}, Page: storage.Page{Limit: 10}})
				if err != nil || len(list) != c.want || c.want > 0 && list[0].FromActorID != group.ID {
					t.Errorf("%s told of held posts: %d (%v), want %d", c.who.Username, len(list), err, c.want)
				}
			}
			tok, err := mastoapi.IssueToken(ctx, a.DB, "olga", "read")
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest(http.MethodGet, a.URL+"/api/v1/notifications", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || strings.Contains(string(body), storage.NotifyHeldPost) {
				t.Errorf("the apps' notifications: %d %s", res.StatusCode, body)
			}
			if _, err := a.Service.HeldPosts(ctx, caiOnA, "practice", 0, 10); !errors.Is(err, federation.ErrForbidden) {
				t.Errorf("a member reading the queue: %v", err)
			}
			if err := a.Service.DecideHeldPost(ctx, caiOnA, queue[0].ID, true, federation.Reason{}); !errors.Is(err, federation.ErrForbidden) {
				t.Errorf("a member deciding: %v", err)
			}

			if err := a.Service.DecideHeldPost(ctx, olga, queue[0].ID, true, federation.Reason{Text: "welcome"}); err != nil {
				t.Fatal(err)
			}
			if err := a.Service.DecideHeldPost(ctx, olga, queue[0].ID, false, federation.Reason{}); !errors.Is(err, federation.ErrInvalid) {
				t.Errorf("decided twice: %v", err)
			}
			m.WaitFor("the boost of bea's approved post", isAnnounceOf(held.URI))
			fedtest.Eventually(t, "C has bea's approved post", func() (bool, error) {
				o, err := object(c, held.URI)
				return err == nil && o.CommunityActorID != nil, nil
			})
			// B is known now, and bea with it: her next post enters.
			next, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("practice"), Text: "And again"})
			if err != nil {
				t.Fatal(err)
			}
			m.WaitFor("the boost of bea's next post", isAnnounceOf(next.URI))

			// A local newcomer is held too, and told so.
			if _, err := a.Service.Post(ctx, ned, federation.NewPost{Community: "practice", Text: "Buy my course"}); !errors.Is(err, federation.ErrHeld) {
				t.Fatalf("ned's first post: %v", err)
			}
			queue, err = a.Service.HeldPosts(ctx, olga, "practice", 0, 10)
			if err != nil || len(queue) != 1 || queue[0].Reason != storage.HoldNewMember {
				t.Fatalf("queue %+v (%v)", queue, err)
			}
			if err := a.Service.DecideHeldPost(ctx, olga, queue[0].ID, false, federation.Reason{Text: "spam", Private: true}); err != nil {
				t.Fatal(err)
			}
			if _, err := object(a, queue[0].ObjectURI); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a rejected post is stored: %v", err)
			}
			log, err := a.DB.ModLog(ctx, group.ID, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			actions := map[string]int{}
			for _, e := range log {
				actions[e.Action]++
			}
			if actions[storage.ModApprovePost] != 1 || actions[storage.ModRejectPost] != 1 || actions[storage.ModPostingRules] != 1 {
				t.Errorf("modlog %v", actions)
			}

			// Two posts an hour from one member; olga, a moderator, is
			// never limited.
			second, err := c.Service.Post(ctx, cai, federation.NewPost{Community: a.Handle("practice"), Text: "Second"})
			if err != nil {
				t.Fatal(err)
			}
			localRules := rules
			localRules.HoldNewMembers = false
			if err := a.Service.SetPostingRules(ctx, olga, "practice", localRules); err != nil {
				t.Fatal(err)
			}
			// ned's rejected post counts: one more, then no more.
			if _, err := a.Service.Post(ctx, ned, federation.NewPost{Community: "practice", Text: "Note"}); err != nil {
				t.Fatalf("ned's second post: %v", err)
			}
			if _, err := a.Service.Post(ctx, ned, federation.NewPost{Community: "practice", Text: "One too many"}); !errors.Is(err, federation.ErrTooManyAttempts) {
				t.Errorf("ned's third post in the hour: %v", err)
			}
			for range 3 {
				if _, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "practice", Text: "From the moderator"}); err != nil {
					t.Fatalf("the moderator limited: %v", err)
				}
			}

			// From other servers: with two posts this hour, cai's third
			// is refused for now (it waits in A's inbound queue, to be
			// retried); with three an hour from C, cid's second is too.
			fedtest.Eventually(t, "cai's second post on A", func() (bool, error) {
				_, err := object(a, second.URI)
				return err == nil, nil
			})
			if err := a.Service.SetPostingRules(ctx, olga, "practice", storage.PostingRules{MemberPostsPerHour: 2, InstancePostsPerHour: 3}); err != nil {
				t.Fatal(err)
			}
			cid := c.Member("cid")
			if _, err := c.Service.Join(ctx, cid, a.Handle("practice")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "cid's join accepted", accepted(c, group.URI, cid.URI))
			refused := func(uri, why string) func() (bool, error) {
				return func() (bool, error) {
					var acts []storage.Activity
					err := a.DB.Gorm(ctx).Where("object_uri = ?", uri).Find(&acts).Error
					for _, act := range acts {
						if strings.Contains(act.LastError, why) {
							return true, err
						}
					}
					return false, err
				}
			}
			third, err := c.Service.Post(ctx, cai, federation.NewPost{Community: a.Handle("practice"), Text: "Third"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "cai's third post refused for now", refused(third.URI, "from one member"))
			cidFirst, err := c.Service.Post(ctx, cid, federation.NewPost{Community: a.Handle("practice"), Text: "Hello"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "cid's first post on A", func() (bool, error) {
				_, err := object(a, cidFirst.URI)
				return err == nil, nil
			})
			cidSecond, err := c.Service.Post(ctx, cid, federation.NewPost{Community: a.Handle("practice"), Text: "Again"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "cid's second post refused for now", refused(cidSecond.URI, "from one server"))
			for _, uri := range []string{third.URI, cidSecond.URI} {
				if _, err := object(a, uri); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("a post beyond the limit is stored: %v", err)
				}
			}
		})
	}
}
