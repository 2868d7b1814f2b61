package fedtest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// gtsInterop is one Commonplace instance and one real GoToSocial, each on
// port 80 under its own name.
type gtsInterop struct {
	t   *testing.T
	gts *fedtest.GoToSocial
	cp  *fedtest.Node
}

// relationship is GoToSocial's view of gina's follow of account id.
func (x *gtsInterop) relationship(u *fedtest.GTSUser, id string) (following, requested bool, err error) {
	var rels []struct {
		Following bool `json:"following"`
		Requested bool `json:"requested"`
	}
	if err := u.Call(http.MethodGet, "/api/v1/accounts/relationships?id[]="+id, nil, &rels); err != nil || len(rels) != 1 {
		return false, false, err
	}
	return rels[0].Following, rels[0].Requested, nil
}

// join makes u follow the community name on Commonplace and returns the
// community's GoToSocial account.
func (x *gtsInterop) join(u *fedtest.GTSUser, name string) fedtest.GTSAccount {
	x.t.Helper()
	acct := u.Lookup(x.t, x.cp.Handle(name))
	u.API(x.t, http.MethodPost, "/api/v1/accounts/"+acct.ID+"/follow", nil, nil)
	return acct
}

// A member of a real GoToSocial joins communities on Commonplace and takes
// part in them through GoToSocial's client API, as from an app.
func TestGoToSocialInterop(t *testing.T) {
	x := &gtsInterop{t: t, gts: fedtest.StartGoToSocial(t, "gina")}
	x.cp = fedtest.StartNamed(t, storage.SQLite)
	cp, gina := x.cp, x.gts.User
	cp.Member("olga")
	open := cp.Community("practice", false, "olga").Actor
	closed := cp.Community("board", true, "olga").Actor

	t.Run("join an open community", func(t *testing.T) {
		acct := x.join(gina, "practice")
		fedtest.Eventually(t, "gina's join accepted on Commonplace", accepted(cp, open.URI, gina.ActorURI()))
		fedtest.Eventually(t, "GoToSocial records the follow as accepted", func() (bool, error) {
			following, _, err := x.relationship(gina, acct.ID)
			return following, err
		})
	})

	t.Run("join a closed community", func(t *testing.T) {
		acct := x.join(gina, "board")
		fedtest.Eventually(t, "gina's request waits on Commonplace", func() (bool, error) {
			m, err := membership(cp, closed.URI, gina.ActorURI())
			return err == nil && m.State == storage.StatePending, nil
		})
		if following, requested, err := x.relationship(gina, acct.ID); err != nil || following || !requested {
			t.Fatalf("before approval GoToSocial says following=%v requested=%v (%v), want a pending request", following, requested, err)
		}
		if _, err := cp.Service.Decide(context.Background(), "board", gina.ActorURI(), true); err != nil {
			t.Fatal(err)
		}
		fedtest.Eventually(t, "GoToSocial records the approval", func() (bool, error) {
			following, _, err := x.relationship(gina, acct.ID)
			return following, err
		})
	})

	// What GoToSocial complained of while talking to us.
	cp.Settled()
	for _, w := range x.gts.Warnings() {
		if strings.Contains(w, cp.Domain) || strings.Contains(w, "empty url host") {
			t.Errorf("GoToSocial logged: %s", w)
		}
	}
}
