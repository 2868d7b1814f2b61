package fedtest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/federation/transport"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

const admin = "test:admin"

// traffic counts what from's instance ever delivered to or stored about
// to: deliveries queued for to's host on from, activities of from's
// actors in to's database, and actors of to's host in from's database.
func traffic(t *testing.T, from, to *fedtest.Node) (deliveries, received, actorsKnown int64) {
	t.Helper()
	ctx := context.Background()
	if err := from.DB.Gorm(ctx).Model(&storage.Delivery{}).Where("host = ?", to.Domain).Count(&deliveries).Error; err != nil {
		t.Fatal(err)
	}
	if err := to.DB.Gorm(ctx).Model(&storage.Activity{}).Where("actor_uri LIKE ?", from.URL+"/%").Count(&received).Error; err != nil {
		t.Fatal(err)
	}
	if err := from.DB.Gorm(ctx).Model(&storage.Actor{}).Where("uri LIKE ?", to.URL+"/%").Count(&actorsKnown).Error; err != nil {
		t.Fatal(err)
	}
	return
}

// postFollow delivers a signed Follow of community from member on from,
// straight to the community's inbox, and returns the status.
func postFollow(t *testing.T, from *fedtest.Node, member *storage.Actor, communityURI string) int {
	t.Helper()
	body := `{"@context":"https://www.w3.org/ns/activitystreams","id":"` + from.URL + `/a/` + uuid.NewString() +
		`","type":"Follow","actor":"` + member.URI + `","object":"` + communityURI + `"}`
	signer, err := from.Service.SignerFor(member)
	if err != nil {
		t.Fatal(err)
	}
	err = from.Service.Client.Post(context.Background(), communityURI+"/inbox", []byte(body), signer)
	var se *transport.StatusError
	switch {
	case err == nil:
		return http.StatusAccepted
	case errors.As(err, &se):
		return se.Code
	}
	t.Fatalf("post follow: %v", err)
	return 0
}

func getJSON(t *testing.T, url string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func auditHas(t *testing.T, n *fedtest.Node, action, domain, detail string) bool {
	t.Helper()
	recs, err := n.Service.Policy.Audit(context.Background(), 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Action == action && r.Domain == domain && strings.Contains(r.Detail, detail) {
			return true
		}
	}
	return false
}

// A in allowlist mode allowing B: B's member joins and posts; C's follow
// is refused with 403 before A does any work, A never sends C anything
// and C cannot fetch A's community. Switching A to blocklist lets C in;
// blocking B then removes B's memberships (audited) and stops delivery.
func TestPolicyAllowlistBlocklist(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b, c := fedtest.Start(t, d), fedtest.Start(t, d), fedtest.Start(t, d)
			a.Member("olga")
			group := a.Community("practice", false, "olga").Actor
			bea, cai := b.Member("bea"), c.Member("cai")
			pol := a.Service.Policy
			if _, err := pol.SetMode(ctx, admin, storage.ModeAllowlist); err != nil {
				t.Fatal(err)
			}
			if _, err := pol.Allow(ctx, admin, b.Domain, "partner hospital"); err != nil {
				t.Fatal(err)
			}

			// B's member joins and posts.
			if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B's join accepted", accepted(b, group.URI, bea.URI))
			post, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("practice"), Text: "Allowed and posting"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A stores B's post", func() (bool, error) {
				_, err := object(a, post.URI)
				return err == nil, nil
			})

			// C is refused at the door: 403 on a signed Follow, and A never
			// asks C for the signing key.
			if code := postFollow(t, c, cai, group.URI); code != http.StatusForbidden {
				t.Fatalf("C's follow: status %d, want 403", code)
			}
			// C cannot fetch A's community: its signed fetch is refused,
			// an unsigned fetch is unauthorized (secure mode), and so
			// joining through the service fails.
			if _, err := c.Service.FetchActor(ctx, group.URI); err == nil {
				t.Fatal("C fetched A's community actor")
			}
			for _, u := range []string{group.URI, group.URI + "/outbox", group.URI + "/followers"} {
				if code := getJSON(t, u); code != http.StatusUnauthorized {
					t.Errorf("unsigned GET %s: %d, want 401", u, code)
				}
			}
			if _, err := b.Service.FetchActor(ctx, group.URI); err != nil {
				t.Errorf("B, allowed, cannot fetch the community: %v", err)
			}
			if _, err := c.Service.Join(ctx, cai, a.Handle("practice")); err == nil {
				t.Error("C joined A's community in allowlist mode")
			}
			// A's own fetches and deliveries never reach C.
			if _, err := a.Service.FetchActor(ctx, cai.URI); !errors.Is(err, federation.ErrForbidden) {
				t.Errorf("A fetching C's actor: %v, want ErrForbidden", err)
			}
			a.Settled()
			c.Settled()
			if dl, rcv, known := traffic(t, a, c); dl+rcv+known != 0 {
				t.Fatalf("A talked to C: %d deliveries, %d activities received by C, %d C actors known to A", dl, rcv, known)
			}
			if m, _ := membership(a, group.URI, cai.URI); m != nil && m.ID != 0 {
				t.Fatalf("A stored C's membership: %+v", m)
			}

			// Blocklist mode lets C in.
			if _, err := pol.SetMode(ctx, admin, storage.ModeBlocklist); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Service.Join(ctx, cai, a.Handle("practice")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "C's join accepted", accepted(c, group.URI, cai.URI))

			// Blocking B removes B's membership with an audit record, and
			// A stops delivering to B.
			res, err := pol.Block(ctx, admin, policy.BlockInput{Domain: b.Domain, Reason: "left the network"})
			if err != nil {
				t.Fatal(err)
			}
			if res.RemovedMemberships != 1 {
				t.Errorf("block removed %d memberships, want 1", res.RemovedMemberships)
			}
			if _, err := membership(a, group.URI, bea.URI); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("B's membership on A after the block: %v", err)
			}
			if !auditHas(t, a, policy.ActionMembershipRemoved, b.Domain, "bea@") || !auditHas(t, a, policy.ActionBlock, b.Domain, "left the network") {
				t.Error("no audit record of the block and the removed membership")
			}
			before, _, _ := traffic(t, a, b)
			reply, err := c.Service.Post(ctx, cai, federation.NewPost{Community: a.Handle("practice"), Text: "C is in now"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A stores C's reply", func() (bool, error) {
				_, err := object(a, reply.URI)
				return err == nil, nil
			})
			a.Settled()
			b.Settled()
			if after, _, _ := traffic(t, a, b); after != before {
				t.Errorf("A queued %d deliveries to blocked B", after-before)
			}
			if _, err := object(b, reply.URI); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("B received C's reply after being blocked: %v", err)
			}
			// And B's inbox POSTs are now refused.
			if code := postFollow(t, b, bea, group.URI); code != http.StatusForbidden {
				t.Errorf("B's follow after the block: %d, want 403", code)
			}
		})
	}
}

// A partner community on A restricted to B refuses C's members, while the
// instance itself federates with C; its posts reach partners only.
func TestPartnerCommunity(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			a, b, c := fedtest.Start(t, d), fedtest.Start(t, d), fedtest.Start(t, d)
			a.Member("olga")
			network := a.Community("network", false, "olga").Actor
			open := a.Community("open", false, "olga").Actor
			bea, cai := b.Member("bea"), c.Member("cai")

			// C joins before the community is restricted; restricting it
			// removes C's membership, with an audit record.
			if _, err := c.Service.Join(ctx, cai, a.Handle("network")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "C's early join accepted", accepted(a, network.URI, cai.URI))
			_, eff, err := a.Service.Policy.AddPartner(ctx, admin, network, b.Domain)
			if err != nil {
				t.Fatal(err)
			}
			if eff.RemovedMemberships != 1 || !auditHas(t, a, policy.ActionMembershipRemoved, c.Domain, "cai@") {
				t.Errorf("adding the partner removed %d memberships, want C's, audited", eff.RemovedMemberships)
			}

			if _, err := b.Service.Join(ctx, bea, a.Handle("network")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "B's join accepted", accepted(b, network.URI, bea.URI))
			// C's new follow is rejected; C learns it.
			cid := c.Member("cid")
			if _, err := c.Service.Join(ctx, cid, a.Handle("network")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "C told its join was rejected", func() (bool, error) {
				_, err := membership(c, network.URI, cid.URI)
				return errors.Is(err, storage.ErrNotFound), nil
			})
			if _, err := membership(a, network.URI, cid.URI); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("A keeps C's membership of the partner community: %v", err)
			}
			// The instance itself federates with C: its open community
			// takes C's member.
			if _, err := c.Service.Join(ctx, cid, a.Handle("open")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "C joins the open community", accepted(c, open.URI, cid.URI))

			// C's post to the partner community is refused; B's is
			// delivered to partners only (C, no longer a member, gets
			// nothing).
			cpost, err := c.Service.Post(ctx, cai, federation.NewPost{Community: a.Handle("network"), Text: "From outside"})
			if err != nil {
				t.Fatal(err)
			}
			bpost, err := b.Service.Post(ctx, bea, federation.NewPost{Community: a.Handle("network"), Text: "From a partner"})
			if err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "A stores B's post", func() (bool, error) {
				_, err := object(a, bpost.URI)
				return err == nil, nil
			})
			for _, n := range []*fedtest.Node{c, a, b, a, c} {
				n.Settled()
			}
			if _, err := object(a, cpost.URI); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("A stored C's post to the partner community: %v", err)
			}
			if _, err := object(c, bpost.URI); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("C received the partner community's post: %v", err)
			}
			var toC int64
			a.DB.Gorm(ctx).Model(&storage.Delivery{}).Joins("JOIN activities ON activities.id = deliveries.activity_id").
				Where("deliveries.host = ? AND activities.actor_uri = ? AND activities.type = ?", c.Domain, network.URI, "Announce").Count(&toC)
			if toC != 0 {
				t.Errorf("the partner community queued %d Announces to C", toC)
			}

			// A member followed from C: their posts in the partner
			// community, public or followers-only replies in its
			// threads, reach partners only, not C through the follow.
			olga, err := a.DB.GetLocalActor(ctx, "olga")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Service.Follow(ctx, cai, a.Handle("olga")); err != nil {
				t.Fatal(err)
			}
			fedtest.Eventually(t, "C follows olga", accepted(c, olga.URI, cai.URI))
			opost, err := a.Service.Post(ctx, olga, federation.NewPost{Community: a.Handle("network"), Text: "Partners only"})
			if err != nil {
				t.Fatal(err)
			}
			oreply, err := a.Service.Post(ctx, olga, federation.NewPost{InReplyTo: bpost.URI, Text: "Followers-only reply", Visibility: storage.VisibilityPrivate})
			if err != nil {
				t.Fatal(err)
			}
			elsewhere, err := a.Service.Post(ctx, olga, federation.NewPost{Community: a.Handle("open"), Text: "Open to all"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Service.Reblog(ctx, olga, bpost.URI); err != nil {
				t.Fatal(err)
			}
			for _, n := range []*fedtest.Node{a, b, c, a, c} {
				n.Settled()
			}
			var boosts int64
			a.DB.Gorm(ctx).Model(&storage.Delivery{}).Joins("JOIN activities ON activities.id = deliveries.activity_id").
				Where("deliveries.host = ? AND activities.actor_uri = ? AND activities.type = ?", c.Domain, olga.URI, "Announce").Count(&boosts)
			if boosts != 0 {
				t.Errorf("olga's boost of a partner post queued to C: %d", boosts)
			}
			for _, uri := range []string{opost.URI, oreply.URI} {
				if _, err := object(c, uri); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("C received %s through the follow: %v", uri, err)
				}
			}
			var creates int64
			a.DB.Gorm(ctx).Model(&storage.Delivery{}).Joins("JOIN activities ON activities.id = deliveries.activity_id").
				Where("deliveries.host = ? AND activities.actor_uri = ? AND activities.type = ?", c.Domain, olga.URI, "Create").Count(&creates)
			if creates != 1 {
				t.Errorf("olga's Creates queued to C: %d, want 1 (the open community's post)", creates)
			}
			if _, err := object(b, oreply.URI); err != nil {
				t.Errorf("the partner did not receive the followers-only reply to its member: %v", err)
			}
			fedtest.Eventually(t, "C gets the open community's post", func() (bool, error) {
				_, err := object(c, elsewhere.URI)
				return err == nil, nil
			})
		})
	}
}
