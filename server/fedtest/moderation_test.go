package fedtest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// isUndoOfBoost matches Undo{Announce of id}, which makes Mastodon drop a
// boost.
func isUndoOfBoost(id string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		inner, ok := r.Doc["object"].(map[string]any)
		return ok && r.Type == "Undo" && inner["type"] == "Announce" && inner["object"] == id
	}
}

// announces matches a community's Announce of an activity of type typ
// whose object is id.
func announces(typ, id string) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		inner, ok := r.Doc["object"].(map[string]any)
		return ok && r.Type == "Announce" && inner["type"] == typ && inner["object"] == id
	}
}

func isModerator(n *fedtest.Node, communityURI, who string) func() (bool, error) {
	return func() (bool, error) {
		ctx := context.Background()
		g, err := n.DB.GetActorByURI(ctx, communityURI)
		if err != nil {
			return false, nil
		}
		a, err := n.DB.GetActorByURI(ctx, who)
		if err != nil {
			return false, nil
		}
		return n.DB.IsModerator(ctx, g.ID, a.ID)
	}
}

// A moderator on B of a community on A removes a post written on C. A,
// B, the Mastodon and Lemmy stand-ins all see it go; C, the author's
// server, keeps the post as its author's, outside the community. Then a
// lock, a ban that stops redistribution, and an announcement community.
func TestModerationAcrossInstances(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b, c := fedtest.Start(t, d), fedtest.Start(t, d), fedtest.Start(t, d)
			olga := a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			bea, cai := b.Member("bea"), c.Member("cai")
			for _, j := range []struct {
				n *fedtest.Node
				m *storage.Actor
			}{{b, bea}, {c, cai}} {
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
			a.WaitSoftware(m.Domain)
			l := fedtest.NewLemmyGroup(t)
			l.Join(group.URI, group.InboxURI)
			fedtest.Eventually(t, "lem is a member", accepted(a, group.URI, l.UserURI()))
			a.WaitSoftware(l.Domain)

			// The owner appoints bea; B learns it from A's Announce of the Add.
			if err := a.Service.SetModerator(ctx, olga, "practice", bea.URI, true); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B knows bea moderates the community", isModerator(b, group.URI, bea.URI))
			if ok, _ := isModerator(c, group.URI, bea.URI)(); !ok {
				fedtest.Eventually(t, "C knows bea moderates the community", isModerator(c, group.URI, bea.URI))
			}
			// Someone else cannot appoint.
			caiOnA, err := a.DB.GetActorByURI(ctx, cai.URI)
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Service.SetModerator(ctx, caiOnA, "practice", cai.URI, true); !errors.Is(err, federation.ErrForbidden) {
				t.Fatalf("a member appointing: %v", err)
			}

			post, err := c.Service.Post(ctx, cai, federation.NewPost{Community: a.Handle("practice"), Text: "Buy cheap watches"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B receives the post", func() (bool, error) {
				_, err := object(b, post.URI)
				return err == nil, nil
			})
			m.WaitFor("boost of the post", isAnnounceOf(post.URI))

			// A non-moderator cannot remove it.
			if err := c.Service.RemovePost(ctx, cai, post.URI, federation.Reason{Text: "mine"}); !errors.Is(err, federation.ErrForbidden) {
				t.Fatalf("a member removing: %v", err)
			}
			if err := b.Service.RemovePost(ctx, bea, post.URI, federation.Reason{Text: "spam"}); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A and B tombstone the removed post", func() (bool, error) {
				oa, err := object(a, post.URI)
				if err != nil {
					return false, err
				}
				ob, err := object(b, post.URI)
				return err == nil && oa.DeletedAt != nil && ob.DeletedAt != nil, err
			})
			fedtest.Eventually(t, "C keeps cai's post, outside the community", func() (bool, error) {
				o, err := object(c, post.URI)
				return err == nil && o.DeletedAt == nil && o.CommunityActorID == nil && o.RemovedAt != nil, err
			})
			m.WaitFor("the boost undone for Mastodon", isUndoOfBoost(post.URI))
			del := l.WaitFor("Lemmy gets the moderator's Delete", announces("Delete", post.URI))
			if inner := del.Doc["object"].(map[string]any); inner["summary"] != "spam" || inner["actor"] != bea.URI {
				t.Fatalf("Lemmy's Delete: %s", del.Raw)
			}
			log, err := a.DB.ModLog(ctx, group.ID, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(log) == 0 || log[0].Action != storage.ModRemovePost || log[0].Reason != "spam" ||
				log[0].ModeratorActor == nil || log[0].ModeratorActor.URI != bea.URI || log[0].ObjectURI != post.URI {
				t.Fatalf("modlog: %+v", log)
			}

			// A locked thread takes no replies, from here or anywhere.
			top, err := a.Service.Post(ctx, olga, federation.NewPost{Community: "practice", Text: "Rules of the community"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B and C receive the rules", func() (bool, error) {
				_, errB := object(b, top.URI)
				_, errC := object(c, top.URI)
				return errB == nil && errC == nil, nil
			})
			if err := b.Service.LockPost(ctx, bea, top.URI, true, federation.Reason{Text: "read only"}); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A and C lock the thread", func() (bool, error) {
				oa, err := object(a, top.URI)
				if err != nil {
					return false, err
				}
				oc, err := object(c, top.URI)
				return err == nil && oa.LockedAt != nil && oc.LockedAt != nil, err
			})
			if _, err := c.Service.Post(ctx, cai, federation.NewPost{InReplyTo: top.URI, Text: "But..."}); !errors.Is(err, federation.ErrForbidden) {
				t.Fatalf("reply to a locked thread on C: %v", err)
			}
			if _, err := a.Service.Post(ctx, olga, federation.NewPost{InReplyTo: top.URI, Text: "Me too"}); !errors.Is(err, federation.ErrForbidden) {
				t.Fatalf("reply to a locked thread on A: %v", err)
			}
			l.WaitFor("Lemmy gets the Lock", announces("Lock", top.URI))
			if err := b.Service.LockPost(ctx, bea, top.URI, false, federation.Reason{}); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "C unlocks the thread", func() (bool, error) {
				o, err := object(c, top.URI)
				return err == nil && o.LockedAt == nil, err
			})

			// A ban: the Mastodon member is banned with their posts
			// removed; what they post next is neither stored nor
			// redistributed.
			earlier, code := m.PostToGroup(group.URI, a.Handle("practice"), group.InboxURI, "First")
			if code != http.StatusAccepted {
				t.Fatalf("Create answered %d", code)
			}
			fedtest.Eventually(t, "B receives alice's post", func() (bool, error) {
				_, err := object(b, earlier)
				return err == nil, nil
			})
			until := time.Now().Add(24 * time.Hour)
			if err := b.Service.BanMember(ctx, bea, a.Handle("practice"), m.ActorURI(), federation.Ban{
				Reason: federation.Reason{Text: "spam"}, Until: until, RemovePosts: true,
			}); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A bans alice and removes her post", func() (bool, error) {
				alice, err := a.DB.GetActorByURI(ctx, m.ActorURI())
				if err != nil {
					return false, err
				}
				banned, err := a.DB.IsBanned(ctx, group.ID, alice.ID)
				if err != nil || !banned {
					return false, err
				}
				o, err := object(a, earlier)
				return err == nil && o.DeletedAt != nil, err
			})
			fedtest.Eventually(t, "B and C remove alice's post", func() (bool, error) {
				ob, err := object(b, earlier)
				if err != nil {
					return false, err
				}
				oc, err := object(c, earlier)
				return err == nil && ob.DeletedAt != nil && oc.DeletedAt != nil, err
			})
			block := l.WaitFor("Lemmy gets the ban", announces("Block", m.ActorURI()))
			if inner := block.Doc["object"].(map[string]any); inner["target"] != group.URI || inner["removeData"] != true || inner["endTime"] == nil {
				t.Fatalf("Lemmy's Block: %s", block.Raw)
			}
			m.WaitFor("alice's server is told of the ban", func(r fedtest.Received) bool { return r.Type == "Block" })
			later, _ := m.PostToGroup(group.URI, a.Handle("practice"), group.InboxURI, "Second")
			a.Settled()
			if _, err := object(a, later); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("A stored a banned member's post: %v", err)
			}
			if _, err := membership(a, group.URI, m.ActorURI()); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("the banned member is still a member: %v", err)
			}

			// An announcement community: only moderators start threads.
			if err := a.Service.RestrictPosting(ctx, olga, "practice", true); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "C re-reads the Group", func() (bool, error) {
				g, err := c.DB.GetActorByURI(ctx, group.URI)
				return err == nil && g.PostingRestrictedToMods, err
			})
			if _, err := c.Service.Post(ctx, cai, federation.NewPost{Community: a.Handle("practice"), Text: "News!"}); !errors.Is(err, federation.ErrForbidden) {
				t.Fatalf("a member's new thread in an announcement community: %v", err)
			}
			news, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("practice"), Text: "Announcement"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "the moderator's announcement reaches C", func() (bool, error) {
				_, err := object(c, news.URI)
				return err == nil, nil
			})
			if _, err := c.Service.Post(ctx, cai, federation.NewPost{InReplyTo: news.URI, Text: "Thanks"}); err != nil {
				t.Fatalf("members still reply: %v", err)
			}
			if failed := l.AnnounceFailures(); len(failed) > 0 {
				t.Fatalf("Announces Lemmy could not read: %v", failed)
			}
			if refused := m.Refused(); len(refused) > 0 {
				t.Fatalf("the Mastodon stand-in refused deliveries: %v", refused)
			}
		})
	}
}
