package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/commonplace/commonplace/storage"
	"github.com/commonplace/commonplace/storage/storagetest"
)

func checkHTMLHeaders(t *testing.T, res response) {
	t.Helper()
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Errorf("%s: Content-Type %q", res.Request.URL.Path, res.Header.Get("Content-Type"))
	}
	csp := res.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("%s: CSP %q does not forbid scripts", res.Request.URL.Path, csp)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"Referrer-Policy":        "same-origin",
	} {
		if got := res.Header.Get(h); got != want {
			t.Errorf("%s: %s %q, want %q", res.Request.URL.Path, h, got, want)
		}
	}
	body := string(res.body)
	if !strings.Contains(body, "<title>") || !strings.Contains(body, `<html lang="en">`) {
		t.Errorf("%s: page lacks a title or language", res.Request.URL.Path)
	}
}

func TestPages(t *testing.T) {
	t.Parallel()
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		t.Parallel()
		f := seeded(t, db)
		ctx := t.Context()
		hidden, err := f.svc.CreateCommunity(ctx, federationCommunity("hidden", false))
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Gorm(ctx).Model(hidden).Update("visibility", storage.VisibilityUnlisted).Error; err != nil {
			t.Fatal(err)
		}

		home := f.get("/", acceptHTML)
		mustStatus(t, home, http.StatusOK)
		checkHTMLHeaders(t, home)
		body := string(home.body)
		for _, want := range []string{
			"<title>Communities · community.example</title>",
			`<a href="/c/practice">Practice</a>`,
			"@practice@community.example",
			"Early-years literacy: cases, tools &amp; stories.",
			"All practitioners &lt;welcome&gt;.",
			`<a href="/tags/literacy">#literacy</a>`, `<a href="/tags/early_years">#early_years</a>`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("home page lacks %q", want)
			}
		}
		if strings.Contains(body, "/c/hidden") {
			t.Error("home page lists an unlisted community")
		}
		if strings.Contains(body, "<welcome>") {
			t.Error("home page does not escape the summary")
		}

		page := f.get("/c/practice", acceptHTML)
		mustStatus(t, page, http.StatusOK)
		checkHTMLHeaders(t, page)
		body = string(page.body)
		for _, want := range []string{
			"<title>Practice · community.example</title>",
			"<h1>Practice</h1>",
			"1 member",
			"membership by approval",
			"<p>All practitioners &lt;welcome&gt;.</p>",
			`<a href="/tags/literacy">#literacy</a>`,
			"search there for <code>@practice@community.example</code>",
			"A moderator approves each request to join.",
			`<link rel="alternate" type="application/activity+json" href="https://community.example/c/practice">`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("community page lacks %q", want)
			}
		}
		// An unlisted community still has its page.
		mustStatus(t, f.get("/c/hidden", acceptHTML), http.StatusOK)

		member := f.get("/u/alice", acceptHTML)
		mustStatus(t, member, http.StatusOK)
		checkHTMLHeaders(t, member)
		if !strings.Contains(string(member.body), "<h1>Alice Example</h1>") || !strings.Contains(string(member.body), "@alice@community.example") {
			t.Errorf("member page:\n%s", member.body)
		}

		// Browsers get an error page, not JSON.
		missing := f.get("/c/nobody", acceptHTML)
		mustStatus(t, missing, http.StatusNotFound)
		checkHTMLHeaders(t, missing)
		if !strings.Contains(string(missing.body), "<h1>Not Found</h1>") {
			t.Errorf("error page:\n%s", missing.body)
		}
	})
}

func TestStatic(t *testing.T) {
	t.Parallel()
	f := newFixture(t, storagetest.Open(t, storage.SQLite))
	res := f.get("/static/style.css", "")
	mustStatus(t, res, http.StatusOK)
	if !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Errorf("Content-Type %q", res.Header.Get("Content-Type"))
	}
	if res.Header.Get("Cache-Control") == "" {
		t.Error("no Cache-Control on a static file")
	}
	mustStatus(t, f.get("/static/", ""), http.StatusNotFound)
	mustStatus(t, f.get("/static/nothing.css", ""), http.StatusNotFound)
}
