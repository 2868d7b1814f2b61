package fedtest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

var dialects = []storage.Dialect{storage.SQLite, storage.Postgres}

// membership reads n's view of member's membership in community.
func membership(n *fedtest.Node, communityURI, memberURI string) (*storage.Membership, error) {
	ctx := context.Background()
	c, err := n.DB.GetActorByURI(ctx, communityURI)
	if err != nil {
		return nil, err
	}
	m, err := n.DB.GetActorByURI(ctx, memberURI)
	if err != nil {
		return nil, err
	}
	return n.DB.GetMembership(ctx, c.ID, m.ID)
}

func accepted(n *fedtest.Node, communityURI, memberURI string) func() (bool, error) {
	return func() (bool, error) {
		m, err := membership(n, communityURI, memberURI)
		return err == nil && m.State == storage.StateAccepted, err
	}
}

func object(n *fedtest.Node, uri string) (*storage.Object, error) {
	return n.DB.GetObjectByURI(context.Background(), uri)
}

// Members of B and C join a community on A; a member of B posts, edits and
// deletes; C follows every step through A's Announces.
func TestThreeInstances(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b, c := fedtest.Start(t, d), fedtest.Start(t, d), fedtest.Start(t, d)
			owner := a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			bea := b.Member("bea")
			cai := c.Member("cai")

			if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Service.Join(ctx, cai, a.Handle("practice")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B's join accepted on B", accepted(b, group.URI, bea.URI))
			fedtest.Eventually(t, "C's join accepted on C", accepted(c, group.URI, cai.URI))
			fedtest.Eventually(t, "both members on A", func() (bool, error) {
				n, err := a.DB.CountMembers(ctx, group.ID, storage.StateAccepted)
				return n == 3, err // owner, bea, cai
			})

			post, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("practice"), Text: "How do you run handovers?"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A stores the post", func() (bool, error) {
				o, err := object(a, post.URI)
				return err == nil && o.CommunityActorID != nil && *o.CommunityActorID == group.ID, err
			})
			fedtest.Eventually(t, "C receives the post through A", func() (bool, error) {
				o, err := object(c, post.URI)
				return err == nil && strings.Contains(o.Content, "handovers") && o.CommunityActor != nil && o.CommunityActor.URI == group.URI, err
			})

			// A reply on C reaches A's thread and, through A, B.
			reply, err := c.Service.Post(ctx, cai, federation.NewPost{InReplyTo: post.URI, Text: "With a checklist."})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B receives C's reply", func() (bool, error) {
				o, err := object(b, reply.URI)
				return err == nil && o.InReplyToURI == post.URI, err
			})

			if _, err := b.Service.Edit(ctx, bea, post.URI, "How do you run safe handovers?"); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "C sees the edit", func() (bool, error) {
				o, err := object(c, post.URI)
				return err == nil && strings.Contains(o.Content, "safe handovers") && o.EditedAt != nil, err
			})

			if err := b.Service.Delete(ctx, bea, post.URI); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A and C tombstone the post", func() (bool, error) {
				oa, err := object(a, post.URI)
				if err != nil {
					return false, err
				}
				oc, err := object(c, post.URI)
				return err == nil && oa.DeletedAt != nil && oc.DeletedAt != nil && oc.Content == "", err
			})
			_ = owner
		})
	}
}

// A closed community holds a follow until an owner approves it.
func TestClosedCommunityApproval(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b := fedtest.Start(t, d), fedtest.Start(t, d)
			a.Member("olga")
			group := a.Community("council", true, "olga").Actor
			bea := b.Member("bea")
			if _, err := b.Service.Join(ctx, bea, a.Handle("council")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "request pending on A", func() (bool, error) {
				m, err := membership(a, group.URI, bea.URI)
				return err == nil && m.State == storage.StatePending, nil
			})
			a.Settled()
			b.Settled()
			if m, err := membership(b, group.URI, bea.URI); err != nil || m.State != storage.StatePending {
				t.Fatalf("on B before approval: %+v %v", m, err)
			}
			// A non-member's post to the closed community is refused.
			if _, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("council"), Text: "Let me in"}); err != nil {
				t.Fatal(err)
			}
			b.Settled()
			a.Settled()
			if n, _ := a.DB.CountObjects(ctx, storage.ObjectFilter{CommunityActorID: group.ID}); n != 0 {
				t.Fatalf("closed community stored %d posts from a non-member", n)
			}

			if _, err := a.Service.Decide(ctx, "council", b.Handle("bea"), true); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B learns it was accepted", accepted(b, group.URI, bea.URI))

			// Rejection: a second member is turned away and forgotten.
			ben := b.Member("ben")
			if _, err := b.Service.Join(ctx, ben, a.Handle("council")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "second request pending on A", func() (bool, error) {
				_, err := membership(a, group.URI, ben.URI)
				return err == nil, nil
			})
			if _, err := a.Service.Decide(ctx, "council", ben.URI, false); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B forgets the rejected request", func() (bool, error) {
				_, err := membership(b, group.URI, ben.URI)
				return errors.Is(err, storage.ErrNotFound), nil
			})
		})
	}
}
