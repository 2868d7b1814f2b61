package web_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// TestBrowserModerationAndAdmin walks, in Chromium and on both databases,
// a moderator working the queue (a request to join, a report, a removal
// in place, the public modlog) and an admin approving a sign-up, seeing
// the delivery health of a host that fails, switching to allowlist mode
// and importing a block list in Mastodon's CSV. axe-core checks every page.
func TestBrowserModerationAndAdmin(t *testing.T) {
	needBrowser(t)
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			if d == storage.Postgres && os.Getenv("COMMONPLACE_TEST_POSTGRES") == "" {
				t.Skip("set COMMONPLACE_TEST_POSTGRES to run against PostgreSQL")
			}
			moderationAdminFlows(t, d)
		})
	}
}

func moderationAdminFlows(t *testing.T, d storage.Dialect) {
	a := fedtest.StartWith(t, d, func(c *config.Config) { c.Registrations = "approval" })
	ctx := t.Context()
	svc := a.Service
	for _, in := range []federation.NewAccount{
		{Username: "ada", Email: "ada@example.org", Password: pw, Admin: true, DisplayName: "Ada Admin"},
		{Username: "carol", Email: "carol@example.org", Password: pw},
		{Username: "dave", Email: "dave@example.org", Password: pw},
		{Username: "erin", Email: "erin@example.org", Password: pw},
	} {
		if _, err := svc.CreateAccount(ctx, in); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.CreateCommunity(ctx, federation.NewCommunity{Name: "sepsis", Title: "Sepsis care", Closed: true, Owner: "ada"}); err != nil {
		t.Fatal(err)
	}
	actor := func(name string) *storage.Actor {
		act, err := a.DB.GetLocalActor(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return act
	}
	for _, name := range []string{"carol", "dave"} {
		if _, err := svc.Join(ctx, actor(name), "sepsis"); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Decide(ctx, "sepsis", actor(name).URI, true); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.Join(ctx, actor("erin"), "sepsis"); err != nil {
		t.Fatal(err)
	}
	post, err := svc.Post(ctx, actor("carol"), federation.NewPost{Community: "sepsis", Title: "Miracle cure", Text: "Buy my miracle cure for sepsis."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Report(ctx, actor("dave"), federation.NewReport{Objects: []string{post.URI}, Comment: "Selling quack remedies", Category: "spam"}); err != nil {
		t.Fatal(err)
	}

	tb := newBrowser(t)
	signIn := func(name string) {
		tb.open(a.URL + "/auth/sign_in")
		tb.fill("Username or e-mail address", name)
		tb.fill("Password", pw)
		tb.click(button("Sign in"))
	}

	// The moderator works the queue.
	signIn("ada")
	tb.open(a.URL + "/c/sepsis")
	tb.click(link("Moderation queue"))
	tb.sees("Requests to join (1)", "@erin@"+a.Domain, "Open reports (1)", "Selling quack remedies", "Miracle cure")
	tb.screenshot("moderation-queue")
	tb.click(button("Approve @erin@" + a.Domain))
	tb.sees("Approved: they are a member now.", "No one is waiting to join")
	tb.fill("Note for the log (private)", "Warned the author")
	tb.click(button("Resolve"))
	tb.sees("Report resolved", "No open reports")

	// On the thread: remove the post in place, with a public reason.
	tb.open(post.URI)
	tb.do("open the moderation form", chromedp.Click(chromedp.Search(`//summary[normalize-space(.)="Moderate this thread"]`), chromedp.NodeVisible))
	tb.fill("Reason", "Advertising")
	tb.click(button("Remove from the community"))
	if !strings.HasSuffix(tb.location(), "/c/sepsis") {
		t.Fatalf("after removal at %s", tb.location())
	}
	tb.click(link("Moderation log"))
	tb.sees("removed a post", "Reason: Advertising")
	if strings.Contains(tb.text(), "Warned the author") {
		t.Error("the modlog shows a private note")
	}

	// The admin: a sign-up waits, a host fails.
	tb.click(button("Sign out"))
	tb.open(a.URL + "/auth/sign_up")
	tb.fill("Username", "nina")
	tb.fill("E-mail address", "nina@school.example")
	tb.fill("Password", pw)
	tb.fill("Password again", pw)
	tb.fill("Why do you want to join?", "I run the sepsis team at St Mary's.")
	tb.click(button("Sign up"))
	tb.sees("An administrator will look")

	dead := deadInbox(t)
	queueDelivery(t, a, actor("ada"), dead)
	fedtest.Eventually(t, "the delivery to the dead host to fail", func() (bool, error) {
		h, err := a.DB.GetHost(ctx, storage.DeliveryHost(dead))
		if err != nil {
			return false, nil
		}
		return h.ConsecutiveFailures > 0, nil
	})
	deadHost := storage.DeliveryHost(dead)

	signIn("ada")
	tb.open(a.URL + "/admin")
	tb.click(link("Sign-ups"))
	tb.sees("nina@school.example", "I run the sepsis team")
	tb.click(button("Approve nina"))
	tb.sees("Approved")

	tb.click(link("Delivery health"))
	tb.sees(deadHost, "connection refused")
	tb.screenshot("admin-deliveries")
	tb.click(button("Retry now: " + deadHost))
	tb.sees("are being sent now")

	tb.click(link("Federation"))
	tb.do("choose allowlist", chromedp.Click(byLabel("allowed servers only (allowlist)"), chromedp.NodeVisible))
	tb.click(button("Save mode"))
	tb.sees("The federation mode is allowlist.")
	csv := filepath.Join(t.TempDir(), "domain_blocks.csv")
	if err := os.WriteFile(csv, []byte(blocksCSV), 0o600); err != nil {
		t.Fatal(err)
	}
	tb.do("choose the file", chromedp.SetUploadFiles(byLabel("File to import"), []string{csv}))
	tb.click(button("Import"))
	tb.sees("Imported: 2 added", "Blocked servers (2)", "spam.example", "noisy.example")
	tb.screenshot("admin-federation")
	if m, _ := svc.Policy.Mode(ctx); m != storage.ModeAllowlist {
		t.Fatalf("mode %q", m)
	}
	tb.sees("web:ada")

	// The other admin pages, checked by axe-core as they are opened.
	for path, want := range map[string]string{
		"/admin": "Federation mode", "/admin/accounts": "nina", "/admin/communities": "Sepsis care",
		"/admin/reports": "No open reports", "/admin/settings": "Registrations",
	} {
		tb.open(a.URL + path)
		tb.sees(want)
	}
}

// deadInbox is an inbox on a loopback port where nothing listens.
func deadInbox(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/inbox"
}

// queueDelivery queues an activity of signer's to inbox and wakes the
// node's delivery worker.
func queueDelivery(t *testing.T, n *fedtest.Node, signer *storage.Actor, inbox string) {
	t.Helper()
	ctx := context.Background()
	act := &storage.Activity{URI: signer.URI + "#test-delivery", Type: "Update", ActorURI: signer.URI, Raw: `{"type":"Update"}`}
	if err := n.DB.PutLocalActivity(ctx, act); err != nil {
		t.Fatal(err)
	}
	if _, err := n.DB.EnqueueDeliveries(ctx, act.ID, signer.ID, []string{inbox}); err != nil {
		t.Fatal(err)
	}
	n.Service.Wake()
}
