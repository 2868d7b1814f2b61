package web_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/server/fedtest"
	"github.com/commonplace/commonplace/storage"
)

// Browser tests drive Debian's Chromium through chromedp as a person
// would: by labels, button names and link text, never CSS classes. Every
// page they visit is checked by axe-core in the light and the dark
// scheme. Locally they are skipped with a message when Chromium or
// axe-core is missing; in CI (CI=true) that is a failure.
//
//	go test ./web -run TestBrowser -update   # also rewrites docs/screenshots

var update = flag.Bool("update", false, "rewrite the screenshots in docs/screenshots")

// axePath is where .ci/run installs axe-core from npm.
func axePath() string {
	if p := os.Getenv("COMMONPLACE_AXE"); p != "" {
		return p
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "commonplace-axe", "node_modules", "axe-core", "axe.min.js")
}

func chromiumPath() string {
	for _, p := range []string{os.Getenv("COMMONPLACE_CHROMIUM"), "/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if p != "" {
			if _, err := exec.LookPath(p); err == nil {
				return p
			}
		}
	}
	return ""
}

func needBrowser(t *testing.T) (chromium string, axe []byte) {
	t.Helper()
	chromium = chromiumPath()
	axe, err := os.ReadFile(axePath())
	if chromium == "" || err != nil {
		msg := fmt.Sprintf("browser tests need Debian's chromium (found %q) and axe-core from npm at %s (%v); .ci/run installs both", chromium, axePath(), err)
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return chromium, axe
}

// tab is one browser tab with what the checks need.
type tab struct {
	t   *testing.T
	ctx context.Context
	axe string
	// seen counts the pages checked by axe.
	seen map[string]bool
}

func newBrowser(t *testing.T) *tab {
	t.Helper()
	chromium, axe := needBrowser(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// The first run starts the browser; it must not carry a timeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return &tab{t: t, ctx: ctx, axe: string(axe), seen: map[string]bool{}}
}

func run[T any](b *tab, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		b.t.Fatalf("%s (at %s): %v", what, loc, err)
	}
	return v
}

func (b *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	run(b, what, chromedp.Steps(steps...))
}

func (b *tab) location() string { return run(b, "location", chromedp.Location()) }

// XPath queries by what a person sees.
func byLabel(label string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//*[@id=//label[normalize-space(.)=%q]/@for]`, label))
}
func button(name string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//button[normalize-space(.)=%q or @aria-label=%q]`, name, name))
}
func link(text string) chromedp.Search {
	return chromedp.Search(fmt.Sprintf(`//a[normalize-space(.)=%q]`, text))
}

func (b *tab) open(u string) {
	b.t.Helper()
	b.do("open "+u, chromedp.Navigate(u))
	b.check()
}

func (b *tab) fill(label, value string) {
	b.t.Helper()
	b.do("fill "+label, chromedp.SetValue(byLabel(label), value, chromedp.NodeVisible))
}

// click clicks and waits for the next page to have loaded: the old page
// is marked, and the click is done when a page without the mark is ready.
func (b *tab) click(sel chromedp.Search) {
	b.t.Helper()
	run(b, "mark page", chromedp.Evaluate[bool](`window.__old = true`))
	b.do("click "+string(sel), chromedp.Click(sel, chromedp.NodeVisible))
	// While the page changes, evaluation may fail for lack of a context:
	// ask again until the new page answers.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
		ready, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__old === undefined && document.readyState === "complete"`))
		cancel()
		if err == nil && ready {
			break
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no new page after clicking %s (at %s): %v", sel, b.location(), err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.check()
}

func (b *tab) text() string {
	b.t.Helper()
	return run(b, "read page", chromedp.Text(chromedp.CSS("main")))
}

func (b *tab) sees(want ...string) {
	b.t.Helper()
	got := b.text()
	for _, w := range want {
		if !strings.Contains(got, w) {
			b.t.Fatalf("%s does not show %q:\n%s", b.location(), w, got)
		}
	}
}

func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// check runs axe-core on the page in the light and the dark scheme and
// fails the test on any violation. The page's CSP forbids scripts; the
// DevTools protocol's evaluation is not bound by it, as with a browser
// extension.
func (b *tab) check() {
	b.t.Helper()
	loc := b.location()
	u, _ := url.Parse(loc)
	key := u.Path
	if b.seen[key] {
		return
	}
	b.seen[key] = true
	for _, scheme := range []string{"light", "dark"} {
		b.do("scheme "+scheme, colorScheme(scheme))
		run(b, "load axe", chromedp.Evaluate[bool](b.axe+";true"))
		raw := run(b, "axe "+scheme, chromedp.Evaluate[string](
			`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.html + " :: " + n.failureSummary)}))))`,
			chromedp.EvalAwaitPromise))
		var violations []struct {
			ID, Help string
			Nodes    []string
		}
		if err := json.Unmarshal([]byte(raw), &violations); err != nil {
			b.t.Fatalf("axe on %s: %v (%s)", loc, err, raw)
		}
		for _, v := range violations {
			b.t.Errorf("axe on %s (%s scheme): %s: %s\n  %s", key, scheme, v.ID, v.Help, strings.Join(v.Nodes, "\n  "))
		}
	}
	b.do("light again", colorScheme("light"))
}

// screenshot saves the page at phone and desktop widths with -update.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	if !*update {
		return
	}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"phone", 390, 844}, {"desktop", 1280, 900}} {
		b.do("viewport", chromedp.EmulateViewport(size.w, size.h))
		img := run(b, "screenshot", chromedp.FullScreenshot(75))
		path := filepath.Join("..", "docs", "screenshots", name+"-"+size.name+".jpg")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.t.Fatal(err)
		}
		if err := os.WriteFile(path, img, 0o644); err != nil {
			b.t.Fatal(err)
		}
	}
	b.do("desktop again", chromedp.ResetViewport())
}

// TestBrowser walks the flows in Chromium on both databases.
func TestBrowser(t *testing.T) {
	needBrowser(t)
	for _, d := range []storage.Dialect{storage.SQLite, storage.Postgres} {
		t.Run(string(d), func(t *testing.T) {
			if d == storage.Postgres && os.Getenv("COMMONPLACE_TEST_POSTGRES") == "" {
				t.Skip("set COMMONPLACE_TEST_POSTGRES to run against PostgreSQL")
			}
			browserFlows(t, d)
		})
	}
}

func browserFlows(t *testing.T, d storage.Dialect) {
	box := startMailbox(t)
	host, port, _ := net.SplitHostPort(box.Addr)
	a := fedtest.StartWith(t, d, func(c *config.Config) {
		c.Registrations = "approval"
		c.SMTPHost, c.SMTPTLS, c.SMTPFrom, c.SMTPPort = host, "none", "Commonplace <noreply@example.org>", atoi(t, port)
	})
	b := fedtest.Start(t, d)
	ctx := t.Context()
	if _, err := a.Service.CreateAccount(ctx, federation.NewAccount{Username: "ada", Email: "ada@example.org", Password: pw, Admin: true, DisplayName: "Ada Admin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.CreateCommunity(ctx, federation.NewCommunity{Name: "literacy", Title: "Early-years literacy",
		Summary: "Cases, tools and stories about teaching young children to read.", Tags: []string{"literacy", "phonics"}, Owner: "ada"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Service.CreateCommunity(ctx, federation.NewCommunity{Name: "sepsis", Title: "Sepsis care", Closed: true, Owner: "ada"}); err != nil {
		t.Fatal(err)
	}
	ada, _ := a.DB.GetLocalActor(ctx, "ada")
	if _, err := a.Service.Post(ctx, ada, federation.NewPost{Community: "literacy", Title: "Welcome", Text: "Say hello and tell us what you teach.", Markdown: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Service.CreateAccount(ctx, federation.NewAccount{Username: "bob", Email: "bob@example.org", Password: pw}); err != nil {
		t.Fatal(err)
	}

	tb := newBrowser(t)

	// A visitor reads a public community without an account.
	tb.open(a.URL + "/")
	tb.sees("Communities on", "Early-years literacy")
	tb.screenshot("communities")
	tb.click(link("Early-years literacy"))
	tb.sees("What this community is about", "Welcome", "Say hello", "Moderators", "Ada Admin")
	tb.screenshot("community")
	tb.click(link("Welcome"))
	tb.sees("Say hello and tell us what you teach.", "0 replies")

	// Sign up in approval mode and confirm by the e-mail.
	tb.open(a.URL + "/auth/sign_up")
	tb.screenshot("sign-up")
	tb.fill("Username", "nina")
	tb.fill("E-mail address", "nina@school.example")
	tb.fill("Password", pw)
	tb.fill("Password again", pw)
	tb.fill("Why do you want to join?", "I teach reading to five-year-olds.")
	tb.click(button("Sign up"))
	tb.sees("We sent a link to nina@school.example", "An administrator will look")
	mail := box.next(t)
	tb.open(mail.link(t))
	tb.sees("Your address is confirmed")

	// The admin approves.
	signIn := func(name string) {
		tb.open(a.URL + "/auth/sign_in")
		tb.fill("Username or e-mail address", name)
		tb.fill("Password", pw)
		tb.click(button("Sign in"))
	}
	signIn("ada")
	tb.open(a.URL + "/admin/registrations")
	tb.sees("nina@school.example", "I teach reading to five-year-olds.")
	tb.click(button("Approve nina"))
	tb.sees("Approved")
	tb.click(button("Sign out"))

	// Nina signs in, joins an open community and asks to join a closed one.
	signIn("nina")
	tb.sees("Home")
	tb.open(a.URL + "/c/sepsis")
	tb.click(button("Request to join"))
	tb.sees("Your request to join waits for a moderator")
	tb.open(a.URL + "/c/literacy")
	tb.click(button("Join"))
	tb.sees("You are a member", "New post")

	// A post with Markdown and a hashtag.
	tb.fill("Title (optional)", "Phonics kits")
	tb.fill("Your post", "Which **phonics** kit works for you? #phonics\n\n- sounds first\n- then words")
	tb.click(button("Post"))
	tb.sees("Phonics kits", "Which phonics kit works for you?", "sounds first")
	strong := run(tb, "bold text", chromedp.Text(chromedp.Search(`//main//article//strong`)))
	tagHref := run(tb, "tag link", chromedp.AttributeValue(chromedp.Search(`//main//article//a[normalize-space(.)="#phonics"]`), "href")).Value
	if strong != "phonics" || !strings.HasSuffix(tagHref, "/tags/phonics") {
		t.Fatalf("Markdown: strong %q, tag link %q", strong, tagHref)
	}
	tb.screenshot("thread")

	// Reply, edit, like.
	tb.fill("Your reply", "We use *Letters and Sounds*.")
	tb.click(button("Reply"))
	tb.sees("1 reply", "We use Letters and Sounds.")
	tb.click(link("Edit"))
	tb.fill("Edit your post", "Which **phonics** kit works for you, and why? #phonics")
	tb.click(button("Save changes"))
	tb.sees("and why?", "edited")
	tb.click(button("Like (0)"))
	tb.sees("Liked (1)", "Liked by")

	// The tag page and search.
	// Links in posts open in a new tab (the sanitiser marks them so).
	tb.open(tagHref)
	tb.sees("#phonics", "Phonics kits")
	tb.open(a.URL + "/search")
	tb.fill("Communities, people, posts or an address like name@server", "literacy")
	tb.click(button("Search"))
	tb.sees("Early-years literacy")
	tb.open(a.URL + "/settings")
	tb.sees("Signed-in browsers", "(this browser)")
	tb.screenshot("settings")
	tb.click(button("Sign out"))
	tb.sees("Communities on")

	// A remote follow: a visitor from B is sent to B's interaction page.
	tb.open(a.URL + "/c/literacy")
	tb.fill("Or follow from your own server: your address", "bob@"+b.Domain)
	tb.click(button("Follow from my server"))
	tb.click(link("Continue on " + b.Domain))
	loc := tb.location()
	if !strings.HasPrefix(loc, b.URL+"/auth/sign_in") || !strings.Contains(loc, "authorize_interaction") {
		t.Fatalf("remote follow went to %s, want %s's sign-in on the way to its interaction page", loc, b.URL)
	}
	tb.fill("Username or e-mail address", "bob")
	tb.fill("Password", pw)
	tb.click(button("Sign in"))
	tb.sees("Follow from "+b.Domain, "@literacy@"+a.Domain)
	tb.click(button("Join"))
	tb.sees("You follow @literacy@" + a.Domain)
	fedtest.Eventually(t, "bob to join literacy on A", func() (bool, error) {
		g, err := a.DB.GetLocalActor(ctx, "literacy")
		if err != nil {
			return false, err
		}
		n, err := a.DB.CountMembers(ctx, g.ID, storage.StateAccepted)
		return n == 3, err // ada, nina, bob
	})

	hostileRemotePost(t, tb, a)
}

// hostileRemotePost stores a post as a remote server might send it, with
// script, event handlers and javascript: links, and checks that the thread
// page shows it inert.
func hostileRemotePost(t *testing.T, tb *tab, a *fedtest.Node) {
	ctx := t.Context()
	g, _ := a.DB.GetLocalActor(ctx, "literacy")
	remote := &storage.Actor{URI: "https://evil.example/users/mallory", Type: storage.TypePerson, Username: "mallory", Domain: "evil.example",
		InboxURI: "https://evil.example/users/mallory/inbox"}
	if err := a.DB.UpsertRemoteActor(ctx, remote); err != nil {
		t.Fatal(err)
	}
	o := &storage.Object{URI: "https://evil.example/notes/1", Type: "Note", AuthorActorID: remote.ID, CommunityActorID: &g.ID,
		ContextURI: "https://evil.example/notes/1", Visibility: storage.VisibilityPublic,
		Content:     `<p>Hello<script>window.pwned=1</script><img src=x onerror="window.pwned=2"><a href="javascript:window.pwned=3" onclick="window.pwned=4">click me</a><iframe src="javascript:parent.pwned=5"></iframe></p>`,
		PublishedAt: time.Now()}
	if err := a.DB.CreateObject(ctx, o); err != nil {
		t.Fatal(err)
	}
	tb.open(fmt.Sprintf("%s/posts/%d", a.URL, o.ID))
	tb.sees("Hello", "click me")
	hrefs := run(tb, "link targets", chromedp.Evaluate[string](`Array.from(document.querySelectorAll('main a')).filter(a => a.textContent.includes('click me')).map(a => a.getAttribute('href') || '').join(' ')`))
	pwned := run(tb, "inspect", chromedp.Evaluate[bool](`window.pwned !== undefined`))
	dangerous := run(tb, "count", chromedp.Evaluate[int](`document.querySelectorAll('main script, main iframe, main img[onerror], main [onclick], main a[href^="javascript:"]').length`))
	if strings.Contains(hrefs, "javascript") {
		t.Errorf("the hostile link kept its target: %q", hrefs)
	}
	if pwned || dangerous != 0 {
		t.Fatalf("a remote post ran or kept active content: pwned=%v, %d dangerous nodes", pwned, dangerous)
	}
}
