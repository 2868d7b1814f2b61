package policy_test

import (
	"context"
	"testing"
	"time"

	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"Example.ORG.": "example.org", "*.example.org": "example.org", "127.0.0.1:5001": "127.0.0.1:5001",
		"bücher.example": "xn--bcher-kva.example", "[::1]:8080": "[::1]:8080", "a_b.example": "a_b.example",
		"evil.example:019093": "evil.example:19093", "[::ffff:192.0.2.1]": "192.0.2.1", "%C3%A9vil.example.": "xn--vil-9la.example",
	} {
		if got, err := policy.Normalize(in); err != nil || got != want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "https://example.org", "example.org/x", "a@example.org", "example.org:0", "example.org:99999", "-a.example", "a..example", "2130706433", "evil.example..", "[fe80::1%25eth0]"} {
		if got, err := policy.Normalize(in); err == nil {
			t.Errorf("Normalize(%q) = %q, want an error", in, got)
		}
	}
}

func TestDecisions(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		p := policy.New(db, "local.example", nil)
		p.SetTTL(0)
		must := func(_ any, err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(p.Block(ctx, "t", policy.BlockInput{Domain: "bad.example"}))
		must(p.Block(ctx, "t", policy.BlockInput{Domain: "loud.example", Severity: "limit"}))
		must(p.Block(ctx, "t", policy.BlockInput{Domain: "127.0.0.1:5002"}))
		check := func(domain string, allowed, limited bool) {
			t.Helper()
			d, err := p.Check(ctx, domain)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed != allowed || d.Limited != limited {
				t.Errorf("%s: allowed=%v limited=%v, want %v %v", domain, d.Allowed, d.Limited, allowed, limited)
			}
		}
		check("bad.example", false, false)
		check("a.b.bad.example", false, false)
		check("bad.example:8443", false, false)
		check("notbad.example", true, false)
		check("loud.example", true, true)
		check("127.0.0.1:5002", false, false)
		check("127.0.0.1:5001", true, false)
		check("local.example", true, false)

		must(p.SetMode(ctx, "t", storage.ModeAllowlist))
		must(p.Allow(ctx, "t", "partner.example", ""))
		must(p.Allow(ctx, "t", "127.0.0.1", ""))
		check("partner.example", true, false)
		check("x.partner.example", true, false)
		check("other.example", false, false)
		check("127.0.0.1:5001", true, false)
		check("127.0.0.1:5002", false, false) // the suspend wins over the allow
		check("local.example", true, false)
	})
}

// A change drops pending deliveries to newly refused hosts and removes
// memberships with them, with audit records; all on the database, so a
// second Policy (another replica) sees it within its TTL.
func TestChangeEnforced(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		group := &storage.Actor{URI: "https://local.example/c/g", Type: storage.TypeGroup, Username: "g", Domain: "local.example", Local: true, InboxURI: "https://local.example/c/g/inbox"}
		remote := &storage.Actor{URI: "https://far.example/u/r", Type: storage.TypePerson, Username: "r", Domain: "far.example", InboxURI: "https://far.example/u/r/inbox"}
		for _, a := range []*storage.Actor{group, remote} {
			if err := db.CreateActor(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.PutMembership(ctx, &storage.Membership{CommunityActorID: group.ID, MemberActorID: remote.ID, State: storage.StateAccepted}); err != nil {
			t.Fatal(err)
		}
		act := &storage.Activity{URI: "https://local.example/a/1", Type: "Announce", ActorURI: group.URI, Raw: "{}"}
		if err := db.PutLocalActivity(ctx, act); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EnqueueDeliveries(ctx, act.ID, group.ID, []string{remote.InboxURI, "https://near.example/inbox"}); err != nil {
			t.Fatal(err)
		}
		replica := policy.New(db, "local.example", nil)
		if d, _ := replica.Check(ctx, "far.example"); !d.Allowed {
			t.Fatal("far.example refused before the block")
		}
		p := policy.New(db, "local.example", nil)
		res, err := p.Block(ctx, "cli:ops", policy.BlockInput{Domain: "far.example", Reason: "r"})
		if err != nil {
			t.Fatal(err)
		}
		if res.DroppedDeliveries != 1 || res.RemovedMemberships != 1 {
			t.Errorf("effects %+v", res.Effects)
		}
		if n, _ := db.CountMembers(ctx, group.ID, storage.StateAccepted); n != 0 {
			t.Errorf("%d members left", n)
		}
		if n, _ := db.PendingDeliveries(ctx); n != 1 {
			t.Errorf("%d pending deliveries, want the one to near.example", n)
		}
		time.Sleep(policy.DefaultTTL + 100*time.Millisecond)
		if d, _ := replica.Check(ctx, "far.example"); d.Allowed {
			t.Error("the other replica still allows far.example after its TTL")
		}
		recs, _ := p.Audit(ctx, 0, 100)
		var actions []string
		for _, r := range recs {
			actions = append(actions, r.Action)
			if r.Actor != "cli:ops" {
				t.Errorf("audit actor %q", r.Actor)
			}
		}
		if len(actions) != 3 {
			t.Errorf("audit: %v", actions)
		}
	})
}

// Rules and judged hosts share one canonical form (issue 9 item 2): a
// refused host is refused in every spelling that reaches it, and an
// allowed one is allowed in the spelling ids carry.
func TestRespelledHostsJudgedAsOne(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		p := policy.New(db, "local.example", nil)
		p.SetTTL(0)
		for _, d := range []string{"evil.example", "bücher.example", "192.0.2.1", "ported.example:19093"} {
			if _, err := p.Block(ctx, "t", policy.BlockInput{Domain: d}); err != nil {
				t.Fatal(err)
			}
		}
		for _, uri := range []string{
			"https://evil.example./users/a", "https://EVIL.example/users/a", "https://evil.example:443/users/a",
			"https://%C3%BC.evil.example/users/a", "https://b%C3%BCcher.example/users/a", "https://BÜCHER.example./users/a",
			"https://xn--bcher-kva.example/users/a", "http://[::ffff:192.0.2.1]/users/a", "http://[::ffff:c000:201]:8080/users/a",
			"http://ported.example:019093/users/a", "http://ported.example.:19093/users/a",
			"http://2130706433/users/a", "http://evil.example%00/users/a",
		} {
			d, err := p.CheckURL(ctx, uri)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed {
				t.Errorf("%s is allowed", uri)
			}
		}
		for _, domain := range []string{"Evil.Example.", "evil.example:0443", "[::ffff:192.0.2.1]:443", "bücher.example"} {
			if d, err := p.Check(ctx, domain); err != nil || d.Allowed {
				t.Errorf("Check(%q): allowed=%v, %v", domain, d.Allowed, err)
			}
		}

		if _, err := p.SetMode(ctx, "t", storage.ModeAllowlist); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Allow(ctx, "t", "Partner.Example.", ""); err != nil {
			t.Fatal(err)
		}
		if _, err := p.Allow(ctx, "t", "[::ffff:198.51.100.7]:08443", ""); err != nil {
			t.Fatal(err)
		}
		for _, uri := range []string{"https://partner.example/u/a", "https://198.51.100.7:8443/u/a", "http://198.51.100.7:8443/u/a"} {
			if d, err := p.CheckURL(ctx, uri); err != nil || !d.Allowed {
				t.Errorf("%s: allowed=%v, %v", uri, d.Allowed, err)
			}
		}
	})
}
