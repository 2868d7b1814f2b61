// Package web is Commonplace's front end for browsers: server-rendered
// pages, the forms behind them and their sessions, one file per family of
// pages (home.go, community.go, member.go, oauth.go, ...). Templates and
// the stylesheet are embedded, so the binary is the whole site.
//
// Server hands web its Echo instance (Mount) and asks it for the HTML side
// of the URLs that also serve ActivityPub JSON (Member, Community) and for
// error pages (Error): web never imports server. Pages read through
// storage's query methods; every write goes through federation.Service.
package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/openid"
	"github.com/commonplace/commonplace/storage"
)

// Options is what New needs.
type Options struct {
	Config  config.Config
	Service *federation.Service
	Logger  *slog.Logger
}

// Web holds what the page handlers share.
type Web struct {
	cfg   config.Config
	svc   *federation.Service
	db    *storage.DB
	log   *slog.Logger
	pages *templates
	// domain is the configured host[:port], lower-cased: the domain part
	// of every handle on this instance.
	domain string
	now    func() time.Time
	// public are the routes anyone may use in allowlist mode.
	public []string
	// mail sends account e-mails; nil without SMTP settings.
	mail *mailer
	// oidc signs people in through the institution's OpenID provider;
	// nil when none is configured.
	oidc *openid.Client
}

// New parses the templates and returns the front end, ready to Mount.
func New(opts Options) (*Web, error) {
	if opts.Service == nil || opts.Service.DB == nil {
		return nil, errors.New("web: Options.Service with a DB is required")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	w := &Web{
		cfg: opts.Config, svc: opts.Service, db: opts.Service.DB, log: log.With("component", "web"),
		pages: pages, domain: strings.ToLower(opts.Config.Domain), now: time.Now,
		mail: newMailer(opts.Config),
	}
	if cfg := opts.Config; cfg.OIDCEnabled() {
		w.oidc = openid.New(openid.Config{
			Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, Secret: cfg.OIDCClientSecret,
			RedirectURL: cfg.OIDCRedirectURL(), Scopes: cfg.OIDCScopes, UsernameClaim: cfg.OIDCUsernameClaim,
			GroupsClaim: cfg.OIDCGroupsClaim,
		})
	}
	return w, nil
}

// Access of a route in allowlist mode: members only (the default), or
// anyone (what it takes to sign in, and static files).
type access bool

const (
	members access = false
	public  access = true
)

// Mount adds the pages' own routes to e. The actor pages (/u/NAME,
// /c/NAME) are routed by server, which negotiates them, and rendered by
// Member and Community.
func (w *Web) Mount(e *echo.Echo) {
	get := func(a access, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		e.Match([]string{http.MethodGet, http.MethodHead}, path, h, m...)
		if a == public {
			w.public = append(w.public, "GET "+path)
		}
	}
	post := func(a access, path string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) {
		e.POST(path, h, m...)
		if a == public {
			w.public = append(w.public, "POST "+path)
		}
	}
	form := w.csrf()

	get(members, "/", w.home, form)
	get(members, "/about", w.communities, form)
	get(members, "/communities", w.communities, form)
	get(members, "/tags/:name", w.tag, form)
	get(members, "/search", w.search, form)
	get(members, "/posts/:id", w.postByID, form)
	post(members, "/posts/:id/reply", w.reply, form, w.signedIn)
	post(members, "/posts/:id/like", w.like, form, w.signedIn)
	post(members, "/posts/:id/vote", w.vote, form, w.signedIn)
	post(members, "/posts/:id/edit", w.edit, form, w.signedIn)
	post(members, "/posts/:id/delete", w.remove, form, w.signedIn)
	post(members, "/posts/:id/accept", w.accept, form, w.signedIn)
	post(members, "/posts/:id/repertoire", w.curate, form, w.signedIn)
	post(members, "/c/:name/join", w.join, form, w.signedIn)
	post(members, "/c/:name/leave", w.leave, form, w.signedIn)
	post(members, "/c/:name/posts", w.post, form, w.signedIn)
	get(members, "/c/:name/questions", w.questions, form)
	get(members, "/c/:name/repertoire", w.repertoire, form)
	get(members, "/c/:name/search", w.communitySearch, form)
	get(members, "/c/:name/start", w.start, form)
	post(members, "/c/:name/welcome", w.setWelcome, form, w.signedIn)
	post(members, "/c/:name/answerers", w.listAsAnswerer, form, w.signedIn)
	post(members, "/c/:name/remote_follow", w.remoteFollow, form)
	w.mountModeration(get, post, form)
	get(members, "/authorize_interaction", w.interact, form, w.signedIn)
	post(members, "/authorize_interaction", w.interactSubmit, form, w.signedIn)
	get(public, "/static/*", w.static())

	get(public, "/oauth/authorize", w.authorizeForm, form)
	post(public, "/oauth/authorize", w.authorizeSubmit, form)

	get(public, "/auth/sign_in", w.signInForm, form)
	post(public, "/auth/sign_in", w.signIn, form, w.passwordsOn)
	post(public, "/auth/sign_out", w.signOut, form)
	get(public, "/auth/sign_up", w.signUpForm, form, w.passwordsOn)
	post(public, "/auth/sign_up", w.signUp, form, w.passwordsOn)
	get(public, "/auth/confirm", w.confirm, form)
	get(public, "/auth/password", w.forgotForm, form, w.passwordsOn)
	post(public, "/auth/password", w.forgot, form, w.passwordsOn)
	get(public, "/auth/password/reset", w.resetForm, form, w.passwordsOn)
	post(public, "/auth/password/reset", w.reset, form, w.passwordsOn)
	post(public, "/auth/oidc", w.oidcStart, form)
	get(public, "/auth/oidc/callback", w.oidcCallback, form)
	get(public, "/auth/oidc/choose", w.oidcChooseForm, form)
	post(public, "/auth/oidc/choose", w.oidcChoose, form)

	get(members, "/settings", w.settings, form, w.signedIn)
	post(members, "/settings/profile", w.saveProfile, form, w.signedIn)
	post(members, "/settings/password", w.changePassword, form, w.signedIn)
	post(members, "/settings/sessions/:id/delete", w.endSession, form, w.signedIn)

	get(members, "/admin/registrations", w.registrations, form, w.adminOnly)
	post(members, "/admin/registrations/:name", w.decideRegistration, form, w.adminOnly)
	post(members, "/admin/invites", w.createInvite, form, w.adminOnly)
	w.mountAdmin(get, post, form)
}

// PublicRoutes are the routes anyone may use in allowlist mode, as
// "METHOD /path"; the rest are for members and allowed servers.
func (w *Web) PublicRoutes() []string { return w.public }

// Viewer is the member whose browser session the request carries, or
// nil: server's allowlist gate asks it.
func (w *Web) Viewer(c echo.Context) (*storage.Account, error) { return w.account(c) }

// csrfField is the form field that carries the CSRF token; Mastodon's
// name, so that scripts written for its forms find it.
const (
	csrfField  = "authenticity_token"
	csrfCookie = "commonplace_csrf"
	csrfKey    = "web.csrf"
)

// csrf guards every form. Browsers that send Sec-Fetch-Site are checked by
// it (same-origin only); others by a double-submit token: a random value
// in an HttpOnly, SameSite=Lax cookie that the form must send back.
// Another site can make a browser post a form but can neither read nor set
// the cookie. Neither check needs server state, so any replica can check
// a form another rendered.
func (w *Web) csrf() echo.MiddlewareFunc {
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup:    "form:" + csrfField,
		ContextKey:     csrfKey,
		CookieName:     csrfCookie,
		CookiePath:     "/",
		CookieMaxAge:   int((12 * time.Hour).Seconds()),
		CookieHTTPOnly: true,
		CookieSecure:   w.cfg.Protocol == "https",
		CookieSameSite: http.SameSiteLaxMode,
		ErrorHandler: func(error, echo.Context) error {
			return echo.NewHTTPError(http.StatusForbidden, "The form expired or was not sent from this site. Go back, reload the page and try again.")
		},
	})
}

// csrfToken is the token for the forms of the page being rendered.
func csrfToken(c echo.Context) string {
	t, _ := c.Get(csrfKey).(string)
	return t
}
