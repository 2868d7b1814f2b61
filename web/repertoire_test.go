package web_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

// In the browser: the owner files posts under sections from their pages,
// the repertoire page shows them in order and reorders them; a member
// is offered nothing and refused until the community lets trusted
// members curate and trusts them.
func TestRepertoirePages(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s := startSite(t, db, nil)
		ctx := t.Context()
		for _, name := range []string{"asa", "bo"} {
			if _, err := s.svc.CreateAccount(ctx, federation.NewAccount{Username: name, Email: name + "@example.org", Password: pw}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.svc.CreateCommunity(ctx, federation.NewCommunity{Name: "wards", Title: "Wards", Owner: "asa"}); err != nil {
			t.Fatal(err)
		}
		asa, _ := db.GetLocalActor(ctx, "asa")
		bo, _ := db.GetLocalActor(ctx, "bo")
		if _, err := s.svc.Join(ctx, bo, "wards"); err != nil {
			t.Fatal(err)
		}
		newPost := func(by *storage.Actor, kind, title string) (*storage.Object, string) {
			o, err := s.svc.Post(ctx, by, federation.NewPost{Community: "wards", Kind: kind, Title: title, Text: "About " + title})
			if err != nil {
				t.Fatal(err)
			}
			return o, "/posts/" + strconv.FormatInt(o.ID, 10)
		}
		_, tmplPath := newPost(asa, federation.KindResource, "Handover card")
		_, casePath := newPost(bo, federation.KindCase, "Lost chart")
		_, storyPath := newPost(bo, federation.KindStory, "First night shift")

		asaB, boB := s.browser(), s.browser()
		asaB.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"asa"}, "password": {pw}}).must(t, 303)
		boB.submit("/auth/sign_in", "/auth/sign_in", url.Values{"username": {"bo"}, "password": {pw}}).must(t, 303)

		if p := boB.get(casePath); strings.Contains(p.body, "Add to the repertoire") {
			t.Fatal("a member is offered to curate")
		}
		boB.submit(casePath, casePath+"/repertoire", url.Values{"op": {"add"}, "section": {"Cases"}}).must(t, 403)

		asaB.get(tmplPath).must(t, 200, "Add to the repertoire", `<label for="section">Section</label>`)
		for _, c := range []struct{ path, section string }{{tmplPath, "Start here"}, {casePath, "Cases"}, {storyPath, "Start here"}} {
			asaB.submit(c.path, c.path+"/repertoire", url.Values{"op": {"add"}, "section": {c.section}}).must(t, 303)
		}
		asaB.get(casePath).must(t, 200, "In the community's repertoire, under Cases.")
		order := func(want ...string) {
			t.Helper()
			p := s.browser().get("/c/wards/repertoire")
			p.must(t, 200, want...)
			last := -1
			for _, w := range want {
				at := strings.Index(p.body, w)
				if at < last {
					t.Fatalf("repertoire page not in the order %q:\n%s", want, p.body)
				}
				last = at
			}
		}
		// The story joins its section, before the later section.
		order("<h2 id=\"section-0\">Start here</h2>", "Handover card", "First night shift", "<h2 id=\"section-1\">Cases</h2>", "Lost chart")
		asaB.submit("/c/wards/repertoire", storyPath+"/repertoire", url.Values{"op": {"up"}, "return_to": {"/c/wards/repertoire"}}).must(t, 303)
		asaB.submit("/c/wards/repertoire", casePath+"/repertoire", url.Values{"op": {"section_up"}, "return_to": {"/c/wards/repertoire"}}).must(t, 303)
		order("Cases</h2>", "Lost chart", "Start here</h2>", "First night shift", "Handover card")
		asaB.get("/c/wards/repertoire").must(t, 200, "Move this section down", "Remove from the repertoire")

		// Trusted members curate where the community lets them.
		if err := s.svc.TrustCurator(ctx, asa, "wards", "bo", true); err != nil {
			t.Fatal(err)
		}
		boB.submit(tmplPath, tmplPath+"/repertoire", url.Values{"op": {"remove"}}).must(t, 403)
		if err := s.svc.SetCuration(ctx, bo, "wards", true); err == nil {
			t.Fatal("a member changed the curation setting")
		}
		if err := s.svc.SetCuration(ctx, asa, "wards", true); err != nil {
			t.Fatal(err)
		}
		boB.submit(tmplPath, tmplPath+"/repertoire", url.Values{"op": {"remove"}}).must(t, 303)
		if p := s.browser().get("/c/wards/repertoire"); strings.Contains(p.body, "Handover card") {
			t.Fatalf("removed post still in the repertoire:\n%s", p.body)
		}
	})
}
