// Package web renders Commonplace's server-side HTML: the home page, the
// public page of a community and of a member, and error pages. Templates
// and the stylesheet are embedded, so the binary is the whole site.
//
// The page types below are view models: the server fills them from storage,
// so nothing here knows about the database or ActivityPub.
package web

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Page is what every page shows: its title and the instance it is on.
type Page struct {
	Title string
	// Domain is the instance's public host[:port].
	Domain string
	// Alternate is the ActivityPub id of the actor the page shows, offered
	// as <link rel="alternate"> so that tools can find the JSON.
	Alternate string
}

// Community is a community as listed on the home page and shown on its own.
type Community struct {
	Name  string
	Title string
	// Handle is @name@domain, what to search for on Mastodon to join.
	Handle string
	// Path is the local path of the community's page.
	Path string
	// Summary is the statement of the community's domain as paragraphs of
	// plain text; the template escapes them.
	Summary []string
	Tags    []string
	Members int64
	Closed  bool
}

// Home is the instance's front page.
type Home struct {
	Page
	Communities []Community
}

// CommunityPage is a community's public page.
type CommunityPage struct {
	Page
	Community Community
	// Posts are the latest top-level posts, newest first, so that people
	// can read before they join.
	Posts []Post
}

// Post is a post as listed on a community's page.
type Post struct {
	Title string
	// Author is @user@domain; AuthorURL links to their profile.
	Author, AuthorURL string
	Published         time.Time
	// Content is sanitised HTML, safe to insert as it is.
	Content template.HTML
	URL     string
}

// MemberPage is a member's public page.
type MemberPage struct {
	Page
	Name        string
	DisplayName string
	Handle      string
	Summary     []string
}

// ErrorPage is shown to browsers when a request fails.
type ErrorPage struct {
	Page
	Status  int
	Message string
}

// pages maps each page name to its template file; every page is rendered
// inside layout.html.
var pages = map[string]string{
	"home":      "templates/home.html",
	"community": "templates/community.html",
	"member":    "templates/member.html",
	"error":     "templates/error.html",

	"oauth_authorize": "templates/oauth_authorize.html",
	"oauth_code":      "templates/oauth_code.html",
}

// OAuthAuthorize is the client API's login and consent page: an app asks
// for a member's permission.
type OAuthAuthorize struct {
	Page
	AppName, AppWebsite string
	Scopes              []string
	Username            string
	Error               string
	// CSRF is the token the form sends back; Hidden are the authorization
	// request's parameters, sent back with the form.
	CSRF   string
	Hidden map[string]string
}

// OAuthCode shows an authorization code to paste into an app that has no
// redirect URI (urn:ietf:wg:oauth:2.0:oob).
type OAuthCode struct {
	Page
	AppName, Code string
}

// Templates holds the parsed pages. It is safe for concurrent use.
type Templates struct {
	pages map[string]*template.Template
}

// New parses the embedded templates.
func New() (*Templates, error) {
	t := &Templates{pages: make(map[string]*template.Template, len(pages))}
	for name, file := range pages {
		tmpl, err := template.New(name).ParseFS(templateFS, "templates/layout.html", file)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", file, err)
		}
		t.pages[name] = tmpl
	}
	return t, nil
}

// Render writes the page called name (home, community, member, error) with
// data, which must be the matching page type. Render into a buffer if a
// half-written page must not reach the client.
func (t *Templates) Render(w io.Writer, name string, data any) error {
	tmpl, ok := t.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	if err := tmpl.ExecuteTemplate(w, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	return nil
}

// Static is the file system served under /static/.
func Static() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	return sub
}

// Paragraphs splits plain text into paragraphs at blank lines, so that a
// template can show them as <p> elements while escaping their text.
func Paragraphs(text string) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	var out []string
	for _, p := range strings.Split(text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
