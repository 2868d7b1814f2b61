package web

import (
	"bytes"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
)

// Every page renders from its typed struct, escapes what it is given and
// carries no script.
func TestEveryPageRenders(t *testing.T) {
	pages, err := parseTemplates()
	if err != nil {
		t.Fatal(err)
	}
	page := Page{Title: "T<", Domain: "example.org", CSRF: "tok"}
	withViewer := page
	withViewer.Viewer = &Viewer{Name: "n", Handle: "@n@example.org", Admin: true}
	data := map[string]any{
		"home":       Home{Page: page, Communities: []Community{{Name: "a", Title: "A", Summary: []string{"<b>x</b>"}}}},
		"community":  CommunityPage{Page: page, Community: Community{Name: "a", Title: "A", Closed: true, Members: 1}},
		"questions":  QuestionsPage{Page: page, Community: Community{Name: "a", Title: "<b>x</b>"}, Posts: []Post{{ID: 1, Title: "<b>x</b>", Kind: "question", Answered: true}}},
		"repertoire": RepertoirePage{Page: withViewer, Community: Community{Name: "a", Title: "<b>x</b>"}, CanCurate: true, Sections: []RepertoireSection{{Title: "<b>x</b>", Entries: []RepertoireEntry{{Post: Post{ID: 1, Title: "<b>x</b>"}, Ops: []CurateOp{{"up", "<b>x</b>"}}}}}}},
		"community_search": CommunitySearchPage{Page: page, Community: Community{Name: "a", Title: "<b>x</b>"}, Query: "<b>x</b>", Tag: "<b>x</b>", Kinds: []KindOption{{"", "<b>x</b>"}},
			Hits: []Hit{{Post: Post{ID: 1, Title: "<b>x</b>"}, Snippet: highlight("<b>x</b> \x01found\x02 \x01open")}}},
		"start": NewcomerPage{Page: withViewer, Community: Community{Name: "a", Title: "<b>x</b>"}, Welcome: []string{"<b>x</b>"}, Joined: true, CanModerate: true, WelcomeText: "<b>x</b>",
			Sections: []RepertoireSection{{Title: "<b>x</b>", Entries: []RepertoireEntry{{Post: Post{ID: 1, Title: "<b>x</b>"}}}}}, Questions: []Post{{ID: 2, Title: "<b>x</b>"}},
			Active: []Post{{ID: 3, Title: "<b>x</b>"}}, Answerers: []Answerer{{Person: Person{Name: "<b>x</b>"}, Accepted: 1, Replies: 2}}, Listed: true, Introductions: &Post{ID: 9, Title: "<b>x</b>"}},
		"member":          MemberPage{Page: page, Name: "m"},
		"error":           ErrorPage{Page: page, Status: 404, Message: "not found"},
		"oauth_authorize": OAuthAuthorize{Page: page, AppName: "<b>x</b>", Params: map[string]string{"state": `"><b>x</b>`}, Password: true, OIDCName: "<b>x</b>", ReturnTo: `"><b>x</b>`},
		"oauth_code":      OAuthCode{Page: page, AppName: "A", Code: "c"},
		"thread": ThreadPage{Page: withViewer, Post: Post{ID: 1, Title: "<b>x</b>", Mine: true, Attachments: []Attachment{
			{URL: "/media/a/b.png", Preview: "/media/a/c.jpg", Width: 640, Height: 360, Alt: `"><b>x</b>`},
			{URL: "/media/a/d.pdf", Name: "<b>x</b>", Type: "application/pdf", Size: "1.5 MB", Alt: "<b>x</b>"}}}, Editing: true, Replies: []*Reply{{Post: Post{ID: 2, AuthorName: "<b>x</b>", Accepted: true}, More: 3, CanAccept: true, CSRF: "tok"}},
			Question: true, CanAccept: true, Answer: &Post{ID: 2, AuthorName: "<b>x</b>", Accepted: true}, Curate: &CurateForm{Sections: []string{"<b>x</b>"}, Moderator: true}, Related: []Post{{ID: 4, Title: "<b>x</b>"}, {ID: 5, KindLabel: "<b>x</b>", AuthorName: "<b>x</b>"}}},
		"tag":                 TagPage{Page: page, Tag: "x", Posts: []Post{{ID: 1, Title: "<b>x</b>", Attachments: []Attachment{{URL: "https://remote.example/f", Name: "f"}}}}},
		"interact":            InteractPage{Page: withViewer, Target: &Person{Name: "<b>x</b>"}},
		"communities":         Home{Page: page, Communities: []Community{{Name: "a", Title: "<b>x</b>"}}},
		"search":              SearchPage{Page: page, Query: "<b>x</b>", Remote: &Person{Name: "<b>x</b>"}},
		"sign_in":             SignInPage{Page: page, Username: "<b>x</b>", Error: "<b>x</b>", Password: true, OIDCName: "<b>x</b>", ReturnTo: `"><b>x</b>`},
		"sign_up":             SignUpPage{Page: page, Mode: "approval", Reason: "<b>x</b>"},
		"notice":              NoticePage{Page: page, Heading: "h", Lines: []string{"<b>x</b>"}},
		"forgot":              ForgotPage{Page: page, CanMail: true},
		"reset":               ResetPage{Page: page, Token: `"><b>x</b>`},
		"settings":            SettingsPage{Page: withViewer, Bio: "<b>x</b>", Sessions: []SessionView{{ID: 1, Browser: "<b>x</b>", Current: true}}},
		"admin_registrations": RegistrationsPage{Page: withViewer, Pending: []PendingAccount{{Name: "n", Reason: "<b>x</b>"}}},
		"moderation": ModerationPage{Page: withViewer, Community: Community{Name: "a", Title: "<b>x</b>"}, Member: `"><b>x</b>`,
			Requests: []JoinRequest{{Person: Person{Name: "<b>x</b>"}, Ref: `"><b>x</b>`}},
			Reports: []ReportView{{ID: 1, Reporter: &Person{Name: "<b>x</b>"}, Target: &Person{Name: "<b>x</b>"}, Comment: "<b>x</b>",
				Posts: []ReportedPost{{Path: "/o/1", Excerpt: "<b>x</b>"}, {URI: "<b>x</b>"}}}},
			Bans: []BanView{{Person: Person{Name: "<b>x</b>"}, Reason: "<b>x</b>"}}, Held: []HeldView{{ID: 1, Title: "<b>x</b>", Author: Person{Name: "<b>x</b>"}, Why: "<b>x</b>"}},
			Settings: CommunityForm{Title: "<b>x</b>", Summary: "<b>x</b>", Tags: "<b>x</b>"}, Owner: true,
			Moderators: []ModeratorView{{Person: Person{Name: "<b>x</b>"}, Ref: `"><b>x</b>`}, {Person: Person{Name: "o"}, Owner: true}},
			Members:    []BanLink{{Person: Person{Name: "<b>x</b>"}, Ban: "/c/a/moderation?member=x"}}, MoreMembers: true},
		"modlog": ModlogPage{Page: page, Community: Community{Name: "a", Title: "<b>x</b>"}, Next: "/c/a/modlog?before=1",
			Entries: []ModlogEntry{{Action: "banned", Moderator: &Person{Name: "<b>x</b>"}, Target: &Person{Name: "<b>x</b>"}, Reason: "<b>x</b>"}, {Action: "removed a post", ReasonPrivate: true, PostPath: "/o/1"}}},
		"admin": AdminHomePage{Page: withViewer, Mode: "<b>x</b>"},
		"admin_federation": AdminFederationPage{Page: withViewer, Mode: "allowlist", Notice: "<b>x</b>", Error: "<b>x</b>", ImportErrors: []string{"<b>x</b>"},
			Allows: []storage.DomainRule{{Domain: "<b>x</b>", PublicComment: "<b>x</b>"}}, Blocks: []storage.DomainRule{{Domain: "<b>x</b>", Reason: "<b>x</b>"}},
			Audit: []storage.PolicyAudit{{Actor: "<b>x</b>", Detail: "<b>x</b>"}}},
		"admin_accounts":    AdminAccountsPage{Page: withViewer, Accounts: []AdminAccount{{Name: "<b>x</b>", Email: "<b>x</b>"}, {Name: "n", Self: true, Admin: true}}, More: true},
		"admin_communities": AdminCommunitiesPage{Page: withViewer, Communities: []Community{{Name: "a", Title: "<b>x</b>"}}, Partners: map[string][]string{"a": {"<b>x</b>"}}, Form: federation.NewCommunity{Title: "<b>x</b>", Summary: "<b>x</b>"}},
		"admin_reports":     AdminReportsPage{Page: withViewer, Reports: []ReportView{{ID: 1, Comment: "<b>x</b>", Community: "<b>x</b>"}}},
		"admin_settings":    AdminSettingsPage{Page: withViewer, Settings: federation.InstanceSettings{Title: "<b>x</b>", Description: "<b>x</b>", ContactEmail: "<b>x</b>"}, RulesText: "<b>x</b>", Registrations: "open", Configured: "closed", Modes: []string{"closed", "open"}},
		"admin_deliveries":  AdminDeliveriesPage{Page: withViewer, Hosts: []storage.HostHealth{{Domain: "<b>x</b>", Queued: 1, Failures: 2, LastError: "<b>x</b>"}}},
		"oidc_choose":       OIDCChoosePage{Page: page, Token: `"><b>x</b>`, Username: "<b>x</b>", Error: "<b>x</b>"},
	}
	for name := range pageFiles {
		d, ok := data[name]
		if !ok {
			t.Errorf("no test data for page %q", name)
			continue
		}
		var buf bytes.Buffer
		if err := pages.execute(&buf, name, d); err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		out := buf.String()
		if !strings.Contains(out, "<title>T&lt; · example.org</title>") {
			t.Errorf("%s: no escaped title:\n%s", name, out)
		}
		if strings.Contains(out, "<b>x</b>") || strings.Contains(out, "<script") {
			t.Errorf("%s: unescaped HTML:\n%s", name, out)
		}
	}
	if err := pages.execute(&bytes.Buffer{}, "nope", nil); err == nil {
		t.Error("rendering an unknown page succeeded")
	}
}
