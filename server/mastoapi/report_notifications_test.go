package mastoapi_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Each new report tells those who handle it: a report about a post in a
// community here (from a member here through the apps, or a Lemmy-style
// Flag from another Commonplace) notifies the community's moderators; a
// Mastodon Flag about an account in no community notifies the admins.
// Nobody else hears of it, the reporter included; closing it tells the
// reporter.
func TestReportNotifications(t *testing.T) {
	for _, d := range dialects {
		t.Run(string(d), func(t *testing.T) { testReportNotifications(t, d) })
	}
}

func testReportNotifications(t *testing.T, d storage.Dialect) {
	ctx := context.Background()
	a, b := fedtest.Start(t, d), fedtest.Start(t, d)
	if _, err := a.Service.CreateAccount(ctx, federation.NewAccount{Username: "ada", Email: "ada@example.org", Password: password, Admin: true}); err != nil {
		t.Fatal(err)
	}
	olga, mo, dan, cy := member(t, a, "olga"), member(t, a, "mo"), member(t, a, "dan"), member(t, a, "cy")
	group := a.Community("practice", false, "olga").Actor
	for _, who := range []*storage.Actor{mo, dan, cy} {
		if _, err := a.Service.Join(ctx, who, "practice"); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Service.SetModerator(ctx, olga, "practice", mo.URI, true); err != nil {
		t.Fatal(err)
	}
	bea := member(t, b, "bea")
	if _, err := b.Service.Join(ctx, bea, a.Handle("practice")); err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "bea is a member", func() (bool, error) {
		g, err := b.DB.GetActorByURI(ctx, group.URI)
		if err != nil {
			return false, nil
		}
		m, err := b.DB.GetMembership(ctx, g.ID, bea.ID)
		return err == nil && m.State == storage.StateAccepted, nil
	})
	post, err := a.Service.Post(ctx, dan, federation.NewPost{Community: "practice", Text: "Cheap pills"})
	if err != nil {
		t.Fatal(err)
	}
	fedtest.Eventually(t, "B has dan's post", func() (bool, error) {
		_, err := b.DB.GetObjectByURI(ctx, post.URI)
		return err == nil, nil
	})
	tokens := map[string]string{}
	for _, name := range []string{"ada", "olga", "mo", "dan", "cy"} {
		tokens[name] = tokenFor(t, a, name, "read write")
	}
	// reportsFor lists the reports someone was told of, by report id,
	// with who reported.
	reportsFor := func(name string) map[string]string {
		t.Helper()
		r := newClient(t, a, tokens[name]).do("GET", "/api/v1/notifications?types[]=admin.report", nil)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("notifications of %s: %d %s", name, r.StatusCode, r.body)
		}
		out := map[string]string{}
		for _, n := range r.list(t) {
			n := n.(map[string]any)
			rep, _ := n["report"].(map[string]any)
			acct, _ := n["account"].(map[string]any)
			if n["type"] != "admin.report" || rep == nil || acct == nil {
				t.Fatalf("notification of %s: %v", name, n)
			}
			out[rep["id"].(string)] = acct["acct"].(string)
		}
		return out
	}

	// cy reports dan's post through the apps.
	r := newClient(t, a, tokens["cy"]).do("POST", "/api/v1/reports", map[string]any{
		"account_id": strconv.FormatInt(dan.ID, 10), "status_ids": []string{strconv.FormatInt(post.ID, 10)}, "comment": "spam"})
	if r.StatusCode != http.StatusOK {
		t.Fatalf("report: %d %s", r.StatusCode, r.body)
	}
	local := r.object(t)["id"].(string)
	// bea reports it from B: Lemmy's Flag to the community.
	if _, err := b.Service.Report(ctx, bea, federation.NewReport{Objects: []string{post.URI}, Comment: "spam too"}); err != nil {
		t.Fatal(err)
	}
	var fromB string
	fedtest.Eventually(t, "bea's report on A", func() (bool, error) {
		for id, who := range reportsFor("olga") {
			if who == b.Handle("bea") {
				fromB = id
			}
		}
		return fromB != "", nil
	})
	// A Mastodon server reports dan, in no community: for the admins.
	m := fedtest.NewMastodon(t)
	if code := m.Send(a.URL+"/inbox", map[string]any{"@context": "https://www.w3.org/ns/activitystreams",
		"id": m.NewID("flags"), "type": "Flag", "actor": m.ActorURI(), "object": []string{dan.URI}, "content": "abuse"}); code != http.StatusAccepted {
		t.Fatalf("Flag: %d", code)
	}
	var fromMastodon string
	fedtest.Eventually(t, "the Mastodon report on A", func() (bool, error) {
		for id := range reportsFor("ada") {
			fromMastodon = id
		}
		return fromMastodon != "", nil
	})

	for _, c := range []struct {
		name string
		want []string
	}{
		{"olga", []string{local, fromB}},
		{"mo", []string{local, fromB}},
		{"ada", []string{fromMastodon}},
		{"dan", nil},
		{"cy", nil},
	} {
		got := reportsFor(c.name)
		if len(got) != len(c.want) {
			t.Errorf("%s was told of reports %v, want %v", c.name, got, c.want)
			continue
		}
		for _, id := range c.want {
			if _, ok := got[id]; !ok {
				t.Errorf("%s was told of reports %v, want %v", c.name, got, c.want)
			}
		}
	}
	if got := reportsFor("olga")[local]; got != "cy" {
		t.Errorf("the report names its reporter as %q", got)
	}

	// Closing it tells cy.
	if r := newClient(t, a, tokens["mo"]).do("POST", "/api/v1/reports/"+local+"/resolve", map[string]any{"note": "removed"}); r.StatusCode != http.StatusOK {
		t.Fatalf("resolve: %d %s", r.StatusCode, r.body)
	}
	got := newClient(t, a, tokens["cy"]).do("GET", "/api/v1/notifications?types[]="+storage.NotifyReportResolved, nil).list(t)
	if len(got) != 1 {
		t.Errorf("cy was told %d times of the resolution", len(got))
	}
}
