package web_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

const blocksCSV = `#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate
spam.example,suspend,false,false,Spam,false
noisy.example,silence,false,false,,false
`

// TestAdminPages: an admin switches to allowlist mode, adds an allow,
// imports a block list (refused whole when a line is bad), exports it,
// sees a failing host and retries it, disables an account and makes
// another admin, creates a community; members who are not admins get
// none of it; every change is in the audit log as web:NAME.
func TestAdminPages(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		s := startSite(t, db, func(c *config.Config) { c.Registrations = "approval" })
		ctx := context.Background()
		for _, in := range []federation.NewAccount{
			{Username: "ada", Email: "ada@example.org", Password: pw, Admin: true},
			{Username: "bob", Email: "bob@example.org", Password: pw},
		} {
			if _, err := s.svc.CreateAccount(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		ada, bob := s.signedIn(t, "ada"), s.signedIn(t, "bob")
		for _, path := range []string{"/admin", "/admin/federation", "/admin/accounts", "/admin/deliveries", "/admin/reports", "/admin/communities", "/admin/settings", "/admin/federation/export"} {
			bob.get(path).must(t, http.StatusForbidden)
			s.browser().get(path).must(t, http.StatusSeeOther)
		}
		bob.submit("/settings", "/admin/federation/mode", url.Values{"mode": {"allowlist"}}).must(t, http.StatusForbidden)

		ada.get("/admin").must(t, 200, "Federation mode: <strong>blocklist</strong>")
		ada.submit("/admin/federation", "/admin/federation/rules", url.Values{"kind": {"allow"}, "domain": {"Partner.Example"}, "comment": {"Regional network"}}).must(t, 303)
		ada.submit("/admin/federation", "/admin/federation/mode", url.Values{"mode": {"allowlist"}}).must(t, 303)
		ada.submit("/admin/federation", "/admin/federation/mode", url.Values{"mode": {"everyone"}}).must(t, 422, "Mode must be allowlist or blocklist")
		if m, _ := s.svc.Policy.Mode(ctx); m != storage.ModeAllowlist {
			t.Fatalf("mode %q after the form", m)
		}

		// A bad line refuses the whole file.
		bad := blocksCSV + "not a domain!,suspend,false,false,,false\n"
		ada.upload("/admin/federation", "/admin/federation/import", "blocks.csv", bad, nil).must(t, 422, "Nothing was imported", "line 4")
		if rules, _ := s.svc.Policy.Rules(ctx, storage.RuleBlock); len(rules) != 0 {
			t.Fatalf("%d blocks after a refused import", len(rules))
		}
		ada.upload("/admin/federation", "/admin/federation/import", "blocks.csv", blocksCSV, nil).must(t, 303)
		page := ada.get("/admin/federation")
		page.must(t, 200, "Blocked servers (2)", "spam.example", "noisy.example", "limit", "Allowed servers (1)", "partner.example", "Regional network")
		export := ada.get("/admin/federation/export")
		export.must(t, 200, "spam.example,suspend", "noisy.example,silence")
		ada.submit("/admin/federation", "/admin/federation/rules/delete", url.Values{"kind": {"block"}, "domain": {"noisy.example"}}).must(t, 303)

		// A host that keeps failing, with a delivery waiting.
		alice, err := s.svc.CreateAccount(ctx, federation.NewAccount{Username: "alice", Email: "alice@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		act := &storage.Activity{URI: s.url + "/activities/x", Type: "Create", ActorURI: alice.Actor.URI, Raw: "{}"}
		if err := db.PutLocalActivity(ctx, act); err != nil {
			t.Fatal(err)
		}
		if _, err := db.EnqueueDeliveries(ctx, act.ID, alice.ActorID, []string{"https://partner.example/inbox"}); err != nil {
			t.Fatal(err)
		}
		claimed, err := db.ClaimDeliveries(ctx, time.Now(), time.Minute, 1, nil)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim %v %d", err, len(claimed))
		}
		if err := db.MarkRetry(ctx, claimed[0].ID, 503, "503 Service Unavailable", time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.RecordHostFailure(ctx, "partner.example", time.Now()); err != nil {
			t.Fatal(err)
		}
		ada.get("/admin/deliveries").must(t, 200, "partner.example", "503 Service Unavailable", "Retry now")
		ada.submit("/admin/deliveries", "/admin/deliveries/retry", url.Values{"host": {"partner.example"}}).must(t, 303)
		if st, _ := db.QueueStats(ctx, time.Now().Add(time.Second)); st.Delivery.Due != 1 {
			t.Errorf("due after retry: %d", st.Delivery.Due)
		}

		// Accounts: disable bob (signed out at once), make alice an admin;
		// ada cannot disable herself.
		ada.submit("/admin/accounts", "/admin/accounts/bob", url.Values{"action": {"disable"}}).must(t, 303)
		// Signed out: in allowlist mode the gate answers before the page.
		if p := bob.get("/settings"); p.status != http.StatusUnauthorized {
			t.Errorf("disabled bob's session: %d", p.status)
		}
		ada.submit("/admin/accounts", "/admin/accounts/ada", url.Values{"action": {"disable"}}).must(t, 422, "cannot disable your own")
		ada.submit("/admin/accounts", "/admin/accounts/alice", url.Values{"action": {"admin"}}).must(t, 303)
		if a, _ := db.GetAccountByUsername(ctx, "alice"); !a.Admin {
			t.Error("alice is not an admin")
		}
		ada.get("/admin/accounts").must(t, 200, "disabled", "(you)")
		ada.submit("/admin/accounts", "/admin/accounts/alice", url.Values{"action": {"reset"}}).must(t, 200, "Send this link to alice", "/auth/password/reset?token=")

		ada.submit("/admin/communities", "/admin/communities", url.Values{"name": {"Bad Name"}, "title": {"X"}}).must(t, 422)
		ada.submit("/admin/communities", "/admin/communities", url.Values{"name": {"sepsis"}, "title": {"Sepsis care"}, "owner": {"alice"}, "closed": {"1"}}).must(t, 303)
		ada.get("/admin/communities").must(t, 200, "Sepsis care", "by approval")
		ada.submit("/admin/communities", "/admin/communities/partners", url.Values{"community": {"sepsis"}, "domain": {"partner.example"}}).must(t, 303)
		ada.get("/admin/communities").must(t, 200, "partner.example<br>")
		ada.submit("/admin/communities", "/admin/communities/partners", url.Values{"community": {"nope"}, "domain": {"partner.example"}}).must(t, 422, "No community is called nope")
		ada.submit("/admin/communities", "/admin/communities/partners", url.Values{"community": {"sepsis"}, "domain": {"partner.example"}, "remove": {"1"}}).must(t, 303)
		ada.get("/admin/communities").must(t, 200, "any server")
		ada.submit("/admin/communities", "/admin/communities/transfer", url.Values{"community": {"sepsis"}, "owner": {"ada"}}).must(t, 422, "must join")
		sepsis, _ := db.GetLocalActor(ctx, "sepsis")
		adaActor0, _ := db.GetLocalActor(ctx, "ada")
		if _, err := s.svc.Join(ctx, adaActor0, "sepsis"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.svc.Decide(ctx, "sepsis", adaActor0.URI, true); err != nil {
			t.Fatal(err)
		}
		ada.submit("/admin/communities", "/admin/communities/transfer", url.Values{"community": {"sepsis"}, "owner": {"ada"}}).must(t, 303)
		if m, err := db.GetMembership(ctx, sepsis.ID, adaActor0.ID); err != nil || m.Role != storage.RoleOwner {
			t.Errorf("ada after the transfer: %+v %v", m, err)
		}

		ada.submit("/admin/communities", "/admin/communities/delete", url.Values{"community": {"sepsis"}, "confirm": {"sepsi"}}).must(t, 422, "type its name again")
		ada.submit("/admin/communities", "/admin/communities/delete", url.Values{"community": {"sepsis"}, "confirm": {"sepsis"}}).must(t, 303)
		ada.get("/c/sepsis").must(t, 410, "this community was deleted")

		ada.submit("/admin/settings", "/admin/settings", url.Values{"title": {"North practice"}, "contact": {"nope"}}).must(t, 422, "not an e-mail address", `value="North practice"`)
		ada.submit("/admin/settings", "/admin/settings", url.Values{"title": {"North practice"}, "rules": {"Be kind\r\nNo patient data\r\n"}, "contact": {"admins@example.org"}}).must(t, 303)
		// Registrations: closed from the browser, and back to the configuration.
		ada.submit("/admin/settings", "/admin/settings/registrations", url.Values{"mode": {"closed"}}).must(t, 303)
		s.browser().get("/auth/sign_up").must(t, 403)
		ada.submit("/admin/settings", "/admin/settings/registrations", url.Values{"mode": {"everyone"}}).must(t, 422, "Registrations must be closed, invite, approval or open")
		ada.submit("/admin/settings", "/admin/settings/registrations", url.Values{"mode": {"config"}}).must(t, 303)
		s.browser().get("/auth/sign_up").must(t, 200)
		if st, _ := s.svc.InstanceSettings(ctx); st.Title != "North practice" || len(st.Rules) != 2 || st.Rules[1] != "No patient data" {
			t.Errorf("settings %+v", st)
		}

		// A report for the admins, resolved from /admin/reports.
		ada.get("/admin/reports").must(t, 200, "No open reports")
		adaActor, _ := db.GetLocalActor(ctx, "ada")
		rep, err := s.svc.Report(ctx, adaActor, federation.NewReport{Account: alice.Actor.URI, Comment: "Impersonation"})
		if err != nil {
			t.Fatal(err)
		}
		ada.get("/admin/reports").must(t, 200, "Impersonation", "for the admins")
		ada.submit("/admin/reports", "/admin/reports/"+itoa(rep.ID), url.Values{"decision": {"dismiss"}}).must(t, 303)
		if r, _ := db.GetReport(ctx, rep.ID); r.State != storage.ReportDismissed {
			t.Errorf("report state %q", r.State)
		}

		audit := ada.get("/admin/federation").body
		for _, want := range []string{"web:ada", "mode", "disable_account", "make_admin", "create_community", "retry_deliveries", "close_report", "transfer_community", "instance_settings", "delete_community", "reset_link", "registration_mode"} {
			if !strings.Contains(audit, want) {
				t.Errorf("audit log lacks %q", want)
			}
		}
	})
}

// upload posts a multipart form with a file, with the CSRF token of the
// page at from.
func (b *browser) upload(from, action, filename, content string, fields url.Values) page {
	b.t.Helper()
	p := b.get(from)
	m := csrfRe.FindStringSubmatch(p.body)
	if m == nil {
		b.t.Fatalf("%s has no form with a CSRF token", from)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("authenticity_token", m[1])
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		b.t.Fatal(err)
	}
	fw.Write([]byte(content))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, b.s.url+action, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", acceptHTML)
	return b.do(req)
}
