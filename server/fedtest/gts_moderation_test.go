package fedtest_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// A moderator on B removes a post in a community on A, and the real
// GoToSocial peer, where gina is a member, stops showing it; then the
// moderator bans gina with her posts, and her boosted post goes too, and
// a post she writes to the community afterwards is not taken in.
func TestGoToSocialSeesRemovalAndBan(t *testing.T) {
	ctx := context.Background()
	gts := fedtest.StartGoToSocial(t, "gina")
	a := fedtest.StartNamed(t, storage.SQLite)
	b := fedtest.Start(t, storage.SQLite)
	x := &gtsInterop{t: t, gts: gts, cp: a}
	gina := gts.User
	a.Member("olga")
	cai := a.Member("cai")
	group := a.Community("practice", false, "olga").Actor
	olga, err := a.DB.GetLocalActor(ctx, "olga")
	if err != nil {
		t.Fatal(err)
	}
	bea := b.Member("bea")
	if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "bea's join accepted", accepted(b, group.URI, bea.URI))
	if err := a.Service.SetModerator(ctx, olga, "practice", bea.URI, true); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "B knows bea moderates the community", isModerator(b, group.URI, bea.URI))
	x.join(gina, "practice")
	fedtest.Eventually(t, "gina's join accepted", accepted(a, group.URI, gina.ActorURI()))
	a.WaitSoftware(gts.Name)
	defer func() {
		if t.Failed() {
			t.Logf("GoToSocial warnings:\n%s", strings.Join(gts.Warnings(), "\n"))
		}
	}()

	spam, err := a.Service.Post(ctx, cai, federation.NewPost{Community: "practice", Text: "Buy cheap watches"})
	if err != nil {
		t.Fatal(err)
	}
	x.waitHome(gina, "cai's post in gina's home", withURI(spam.URI))
	// bea moderates from B: B must hold the post first (GoToSocial may
	// have it before B does).
	fedtest.Eventually(t, "cai's post on B", func() (bool, error) {
		_, err := object(b, spam.URI)
		return err == nil, nil
	})
	if err := b.Service.RemovePost(ctx, bea, spam.URI, federation.Reason{Text: "spam"}); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "the removed post gone from gina's home", func() (bool, error) {
		st, err := x.inHome(gina, withURI(spam.URI))
		return st == nil, err
	})

	// gina posts; bea bans her and removes her posts.
	var own fedtest.GTSStatus
	gina.API(t, http.MethodPost, "/api/v1/statuses", url.Values{
		"status": {"@" + a.Handle("practice") + " Handover tips, anyone?"}, "visibility": {"public"},
	}, &own)
	fedtest.Eventually(t, "gina's post in the community", func() (bool, error) {
		o, err := object(a, own.URI)
		return err == nil && o.CommunityActorID != nil, nil
	})
	if err := b.Service.BanMember(ctx, bea, a.Handle("practice"), gina.ActorURI(), federation.Ban{
		Reason: federation.Reason{Text: "abuse"}, RemovePosts: true,
	}); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "gina banned on A, her post out of the community", func() (bool, error) {
		o, err := object(a, own.URI)
		if err != nil {
			return false, err
		}
		_, merr := membership(a, group.URI, gina.ActorURI())
		return merr != nil && (o.RemovedAt != nil || o.DeletedAt != nil || o.CommunityActorID == nil), nil
	})
	fedtest.Eventually(t, "gina's removed post gone from her home's boosts", func() (bool, error) {
		var home []fedtest.GTSStatus
		err := gina.Call(http.MethodGet, "/api/v1/timelines/home", url.Values{"limit": {"40"}}, &home)
		for _, st := range home {
			if st.Reblog != nil && st.Reblog.URI == own.URI {
				return false, err
			}
		}
		return err == nil, err
	})
	var after fedtest.GTSStatus
	gina.API(t, http.MethodPost, "/api/v1/statuses", url.Values{
		"status": {"@" + a.Handle("practice") + " Still here?"}, "visibility": {"public"},
	}, &after)
	fedtest.Eventually(t, "A got gina's post after the ban", func() (bool, error) {
		var n int64
		// (Processing that changes nothing drops the body: the object's
		// id stays.)
		err := a.DB.Gorm(ctx).Model(&storage.Activity{}).Where("object_uri = ?", after.URI).Count(&n).Error
		return n > 0, err
	})
	a.Settled()
	if o, err := object(a, after.URI); err == nil && o.CommunityActorID != nil {
		t.Error("a banned member's post entered the community")
	}
	for _, w := range gts.Warnings() {
		if strings.Contains(w, a.Domain) {
			t.Errorf("GoToSocial logged: %s", w)
		}
	}
}
