package policy_test

import (
	"context"
	"testing"

	"github.com/commonplace/commonplace/federation/policy"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// CheckMany gives the decision Check gives, for every domain, in both
// modes, whether the decisions come from the database or its cache.
func TestCheckManyAgreesWithCheck(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		admin := policy.New(db, "local.example", nil)
		for _, in := range []policy.BlockInput{
			{Domain: "bad.example"}, {Domain: "loud.example", Severity: "limit"},
			{Domain: "127.0.0.1:5002"}, {Domain: "sub.partner.example"},
			{Domain: "quiet.partner.example", Severity: "limit"}, {Domain: "allowed.example", Severity: "limit"},
		} {
			if _, err := admin.Block(ctx, "t", in); err != nil {
				t.Fatal(err)
			}
		}
		for _, d := range []string{"partner.example", "127.0.0.1", "allowed.example", "bad.example"} {
			if _, err := admin.Allow(ctx, "t", d, ""); err != nil {
				t.Fatal(err)
			}
		}
		domains := []string{
			"", "local.example", "bad.example", "a.b.bad.example", "bad.example:8443", "notbad.example",
			"loud.example", "x.loud.example", "127.0.0.1:5001", "127.0.0.1:5002", "127.0.0.1",
			"partner.example", "x.partner.example", "sub.partner.example", "y.sub.partner.example",
			"quiet.partner.example", "allowed.example", "other.example", "[::1]:8080",
			"bad.example", "notbad.example", // repeated
		}
		for _, mode := range []string{storage.ModeBlocklist, storage.ModeAllowlist} {
			if _, err := admin.SetMode(ctx, "t", mode); err != nil {
				t.Fatal(err)
			}
			single := policy.New(db, "local.example", nil)
			single.SetTTL(0)
			many := policy.New(db, "local.example", nil)
			for round := range 2 { // the second round reads the cache
				got, err := many.CheckMany(ctx, db, domains)
				if err != nil {
					t.Fatal(err)
				}
				for _, d := range domains {
					want, err := single.Check(ctx, d)
					if err != nil {
						t.Fatal(err)
					}
					g, ok := got[d]
					if !ok {
						t.Errorf("%s, round %d: %q missing", mode, round, d)
						continue
					}
					if g.Allowed != want.Allowed || g.Limited != want.Limited || g.Mode != want.Mode || g.Domain != want.Domain ||
						ruleID(g.Rule) != ruleID(want.Rule) {
						t.Errorf("%s, round %d, %q: CheckMany %+v, Check %+v", mode, round, d, g, want)
					}
					if c, err := many.Check(ctx, d); err != nil || c.Allowed != want.Allowed || ruleID(c.Rule) != ruleID(want.Rule) {
						t.Errorf("%s, %q: Check after CheckMany %+v, %v; want %+v", mode, d, c, err, want)
					}
				}
			}
		}
	})
}

func ruleID(r *storage.DomainRule) int64 {
	if r == nil {
		return 0
	}
	return r.ID
}
