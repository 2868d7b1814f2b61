package fedtest_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Followers-only and direct posts between Commonplace and a real
// GoToSocial, both ways. GoToSocial shows olga's followers-only post to
// gina (who follows her) and her DM to gina, with their visibilities, and
// neither to hugo; Commonplace shows gina's DM to olga and her
// followers-only post to olga (who follows her), and neither to pia.
// It runs inside TestGoToSocialInterop (one GoToSocial for both), once
// olga follows gina.
func (x *gtsInterop) privatePosts(t *testing.T, olga *storage.Actor) {
	ctx := context.Background()
	cp, gina := x.cp, x.gts.User
	hugo := x.gts.NewUser("hugo")
	pia := cp.Member("pia")

	// gina follows olga too.
	acct := gina.Lookup(t, cp.Handle("olga"))
	gina.API(t, http.MethodPost, "/api/v1/accounts/"+acct.ID+"/follow", nil, nil)
	fedtest.Eventually(t, "gina follows olga", accepted(cp, olga.URI, gina.ActorURI()))

	priv, err := cp.Service.Post(ctx, olga, federation.NewPost{Visibility: storage.VisibilityPrivate, Text: "For my followers: the night rota."})
	if err != nil {
		t.Fatal(err)
	}
	dm, err := cp.Service.Post(ctx, olga, federation.NewPost{Visibility: storage.VisibilityDirect, Text: "@" + gina.Handle() + " can we talk about the incident?"})
	if err != nil {
		t.Fatal(err)
	}
	got := x.waitHome(gina, "olga's followers-only post in gina's home", withURI(priv.URI))
	if got.Visibility != "private" {
		t.Errorf("GoToSocial shows olga's followers-only post as %q", got.Visibility)
	}
	fedtest.Eventually(t, "gina notified of olga's DM", func() (bool, error) {
		var notes []struct {
			Type   string             `json:"type"`
			Status *fedtest.GTSStatus `json:"status"`
		}
		err := gina.Call(http.MethodGet, "/api/v1/notifications", nil, &notes)
		for _, n := range notes {
			if n.Type == "mention" && n.Status != nil && n.Status.URI == dm.URI {
				if n.Status.Visibility != "direct" {
					t.Errorf("GoToSocial shows olga's DM as %q", n.Status.Visibility)
				}
				return true, nil
			}
		}
		return false, err
	})
	cp.Settled()
	// hugo neither has them nor can look them up.
	for _, o := range []*storage.Object{priv, dm} {
		if st, err := x.inHome(hugo, withURI(o.URI)); err != nil || st != nil {
			t.Errorf("hugo's home has %s (%v)", o.URI, err)
		}
		var res struct {
			Statuses []fedtest.GTSStatus `json:"statuses"`
		}
		hugo.Call(http.MethodGet, "/api/v2/search", url.Values{"q": {o.URI}, "resolve": {"true"}, "type": {"statuses"}}, &res)
		if len(res.Statuses) != 0 {
			t.Errorf("hugo finds %s by search", o.URI)
		}
	}

	// The other way round.
	var ginaDM, ginaPriv fedtest.GTSStatus
	gina.API(t, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"@" + cp.Handle("olga") + " yes, tomorrow"}, "visibility": {"direct"}}, &ginaDM)
	gina.API(t, http.MethodPost, "/api/v1/statuses", url.Values{"status": {"Followers: I am on nights this week."}, "visibility": {"private"}}, &ginaPriv)
	for _, c := range []struct {
		st         fedtest.GTSStatus
		visibility string
	}{{ginaDM, storage.VisibilityDirect}, {ginaPriv, storage.VisibilityPrivate}} {
		var o *storage.Object
		fedtest.Eventually(t, "gina's "+c.visibility+" post stored", func() (bool, error) {
			var err error
			o, err = object(cp, c.st.URI)
			return err == nil, nil
		})
		if o.Visibility != c.visibility || o.CommunityActorID != nil {
			t.Errorf("gina's %s post stored as %q (community %v)", c.visibility, o.Visibility, o.CommunityActorID)
		}
		for _, v := range []struct {
			who  *storage.Actor
			want bool
		}{{olga, true}, {pia, false}, {nil, false}} {
			if ok, err := cp.DB.CanSee(ctx, v.who, o); err != nil || ok != v.want {
				t.Errorf("gina's %s post seen by %v: %v (%v)", c.visibility, v.who, ok, err)
			}
		}
	}
}
