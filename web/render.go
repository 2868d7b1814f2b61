package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/federation"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Page is what every page shows: its title and the instance it is on.
// Each page's struct embeds it.
type Page struct {
	Title string
	// Domain is the instance's public host[:port].
	Domain string
	// Alternate is the ActivityPub id of the actor the page shows, offered
	// as <link rel="alternate"> so that tools can find the JSON.
	Alternate string
	// CSRF is the token that the page's forms send back.
	CSRF string
	// Viewer is the signed-in member, nil for visitors.
	Viewer *Viewer
}

// page fills the common part of a page.
func (w *Web) page(c echo.Context, title string) Page {
	return Page{Title: title, Domain: w.domain, CSRF: csrfToken(c), Viewer: w.viewer(c)}
}

// pageFiles maps each page to its template file; every page is rendered
// inside layout.html with the shared pieces of layout.html and parts.html.
var pageFiles = map[string]string{
	"home":             "templates/home.html",
	"communities":      "templates/communities.html",
	"thread":           "templates/thread.html",
	"tag":              "templates/tag.html",
	"search":           "templates/search.html",
	"interact":         "templates/interact.html",
	"community":        "templates/community.html",
	"questions":        "templates/questions.html",
	"repertoire":       "templates/repertoire.html",
	"community_search": "templates/community_search.html",
	"start":            "templates/start.html",
	"member":           "templates/member.html",
	"error":            "templates/error.html",

	"oauth_authorize": "templates/oauth_authorize.html",
	"oauth_code":      "templates/oauth_code.html",

	"sign_in":             "templates/sign_in.html",
	"sign_up":             "templates/sign_up.html",
	"notice":              "templates/notice.html",
	"forgot":              "templates/forgot.html",
	"reset":               "templates/reset.html",
	"settings":            "templates/settings.html",
	"admin_registrations": "templates/admin_registrations.html",
	"moderation":          "templates/moderation.html",
	"admin":               "templates/admin.html",
	"admin_federation":    "templates/admin_federation.html",
	"admin_accounts":      "templates/admin_accounts.html",
	"admin_communities":   "templates/admin_communities.html",
	"admin_reports":       "templates/admin_reports.html",
	"admin_deliveries":    "templates/admin_deliveries.html",
	"admin_settings":      "templates/admin_settings.html",
	"modlog":              "templates/modlog.html",
	"oidc_choose":         "templates/oidc_choose.html",
}

// templates holds the parsed pages, parsed once at start. It is safe for
// concurrent use.
type templates struct {
	pages map[string]*template.Template
}

func parseTemplates() (*templates, error) {
	t := &templates{pages: make(map[string]*template.Template, len(pageFiles))}
	for name, file := range pageFiles {
		tmpl, err := template.New(name).ParseFS(templateFS, "templates/layout.html", "templates/parts.html", file)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", file, err)
		}
		t.pages[name] = tmpl
	}
	return t, nil
}

// execute writes the page called name with data, which must be the
// matching page struct.
func (t *templates) execute(w io.Writer, name string, data any) error {
	tmpl, ok := t.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	if err := tmpl.ExecuteTemplate(w, "layout", data); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	return nil
}

// render renders a page into a buffer first, so that a template error
// becomes a clean error page rather than half a page.
func (w *Web) render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := w.pages.execute(&buf, name, data); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// staticFiles is the file system served under /static/.
func staticFiles() fs.FS {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	return sub
}

// static serves the embedded stylesheet. Directory listings are refused;
// files may be cached for a day since they change only with a release.
func (w *Web) static() echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServerFS(staticFiles()))
	return func(c echo.Context) error {
		p := c.Param("*")
		if p == "" || p[len(p)-1] == '/' {
			return echo.NewHTTPError(http.StatusNotFound, "not found")
		}
		c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// paragraphs is plain text as paragraphs for a template to escape.
func paragraphs(text string) []string { return federation.Paragraphs(text) }
