// Package server is Commonplace's HTTP layer on Echo: routes, middleware,
// and thin handlers for WebFinger, NodeInfo, actor documents, collections,
// health, and the negotiation of URLs that are both documents and pages. Handlers parse, negotiate, call the
// federation service or storage, and render; errors go to one handler
// (errors.go) that maps error kinds to status codes.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/config"
	"github.com/commonplace/commonplace/federation"
	"github.com/commonplace/commonplace/federation/vocab"
	"github.com/commonplace/commonplace/storage"
)

// Version is the software version published in NodeInfo, set at build time
// with -ldflags "-X github.com/commonplace/commonplace/server.Version=...".
var Version = "dev"

// Options is what New needs.
type Options struct {
	Config  config.Config
	Service *federation.Service
	Logger  *slog.Logger
	// Pages is the browser front end. Nil serves no pages: browsers get
	// JSON errors and actor URLs answer 406 Not Acceptable.
	Pages Pages
}

// Pages is what server needs of the browser front end (package web, which
// server does not import): it mounts its own routes on the Echo instance
// server hands it, renders the HTML side of the URLs that also serve
// ActivityPub JSON, and renders the error page for browsers.
type Pages interface {
	Mount(e *echo.Echo)
	// PublicRoutes are the mounted routes anyone may use in allowlist
	// mode ("GET /path", as for Declare).
	PublicRoutes() []string
	// Viewer is the member signed in to the request's browser session.
	Viewer(c echo.Context) (*storage.Account, error)
	Member(c echo.Context, a *storage.Actor) error
	Community(c echo.Context, com *storage.Community) error
	// Object is the page of a local post (its thread).
	Object(c echo.Context, o *storage.Object) error
	Error(c echo.Context, status int, message string) error
}

// Server holds the Echo instance and what its handlers share.
type Server struct {
	cfg     config.Config
	svc     *federation.Service
	db      *storage.DB
	urls    federation.URLs
	log     *slog.Logger
	echo    *echo.Echo
	pages   Pages
	metrics *metrics
	// access and viewers drive the allowlist gate (access.go).
	access  map[string]Access
	viewers []Viewer
	// bodyLimits are larger body limits of some routes (uploads),
	// "METHOD /path" to bytes; set before serving.
	bodyLimits map[string]int64
	// domain is the configured host[:port], lower-cased: the domain part of
	// every handle on this instance.
	domain string

	shutdownMu    sync.Mutex
	shutdownHooks []func()
	shutdownDone  bool
}

// New builds the server and mounts every route.
func New(opts Options) (*Server, error) {
	if opts.Service == nil || opts.Service.DB == nil {
		return nil, errors.New("server: Options.Service with a DB is required")
	}
	// Actor ids come from the service, handles and WebFinger from the
	// config; if they disagree, other servers would see two identities.
	if opts.Service.URLs.Base != opts.Config.BaseURL() {
		return nil, fmt.Errorf("server: service base URL %q differs from configured %q", opts.Service.URLs.Base, opts.Config.BaseURL())
	}
	if opts.Config.MaxBodyBytes <= 0 {
		return nil, errors.New("server: Config.MaxBodyBytes must be positive")
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:     opts.Config,
		svc:     opts.Service,
		db:      opts.Service.DB,
		urls:    opts.Service.URLs,
		log:     log,
		echo:    echo.New(),
		pages:   opts.Pages,
		metrics: newMetrics(),
		access:  map[string]Access{},
		domain:  strings.ToLower(opts.Config.Domain),

		bodyLimits: map[string]int64{},
	}
	SetActorDocuments(opts.Service)
	// The client's address is the connection's unless a trusted proxy
	// vouches for it: a header anyone can send must not choose the key
	// rate limits count under.
	proxies, err := opts.Config.ProxyNetworks()
	if err != nil {
		return nil, err
	}
	s.echo.IPExtractor = echo.ExtractIPDirect()
	if len(proxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range proxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		s.echo.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError
	s.routes()
	return s, nil
}

// SetActorDocuments gives svc the renderers of local actors' documents as
// they are served, so that profile and settings edits (from the server or
// an admin command) send them in an Update.
func SetActorDocuments(svc *federation.Service) {
	// Profile edits send the member's Person as we serve it.
	svc.ActorDocument = func(a *storage.Actor) ([]byte, error) {
		doc := personToAS(a)
		svc.ActorImages(a, &doc.Actor)
		return vocab.Marshal(doc)
	}
	// Settings edits send the community's Group as we serve it.
	svc.GroupDocument = func(c *storage.Community) ([]byte, error) {
		doc := groupToAS(c, moderatorsURI(c.Actor))
		svc.ActorImages(c.Actor, &doc.Actor)
		return vocab.Marshal(doc)
	}
}

// OnShutdown registers fn to run when the server begins to shut down:
// long-lived responses (streaming) end there, or they would hold a
// graceful shutdown until its timeout.
func (s *Server) OnShutdown(fn func()) {
	s.shutdownMu.Lock()
	defer s.shutdownMu.Unlock()
	s.shutdownHooks = append(s.shutdownHooks, fn)
}

// ShuttingDown runs the OnShutdown functions, once. Register it with
// http.Server.RegisterOnShutdown.
func (s *Server) ShuttingDown() {
	s.shutdownMu.Lock()
	hooks := s.shutdownHooks
	done := s.shutdownDone
	s.shutdownDone = true
	s.shutdownMu.Unlock()
	if done {
		return
	}
	for _, fn := range hooks {
		fn()
	}
}

// Handler is the Echo instance as an http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Echo exposes the Echo instance so that later packages (the client API,
// the admin API, the inbox) can mount their routes behind the same
// middleware and error handler.
func (s *Server) Echo() *echo.Echo { return s.echo }

func (s *Server) routes() {
	e := s.echo
	// Request id first so that everything after it, including a panic,
	// is logged with it; the access log sees the status the error handler
	// chose; recovery turns a panic into an error the log can report; the
	// gate (access.go) decides who may use each route.
	e.Use(s.requestID, s.accessLog, s.recoverPanic, s.bodyLimit, securityHeaders, s.gate)

	get := func(a Access, path string, h echo.HandlerFunc) {
		e.Match([]string{http.MethodGet, http.MethodHead}, path, h)
		s.Declare(a, "GET "+path)
	}
	post := func(a Access, path string, h echo.HandlerFunc) {
		e.POST(path, h)
		s.Declare(a, "POST "+path)
	}

	// Discovery stays public in allowlist mode: allowed servers find our
	// actors by WebFinger without signing, and it shows no content.
	get(Public, "/.well-known/webfinger", s.webfinger)
	get(Public, "/.well-known/host-meta", s.hostMeta)
	get(Public, "/.well-known/nodeinfo", s.nodeInfoLinks)
	get(Public, "/nodeinfo/2.0", s.nodeInfo("2.0"))
	get(Public, "/nodeinfo/2.1", s.nodeInfo("2.1"))

	get(Peers, "/u/:name", s.person)
	get(Peers, "/u/:name/outbox", s.personOutbox)
	get(Peers, "/u/:name/followers", s.personFollowers)
	get(Peers, "/u/:name/following", s.personFollowing)
	get(Peers, "/u/:name/featured", s.personFeatured)
	get(Peers, "/u/:name/tags", s.personFeaturedTags)

	get(Peers, "/c/:name", s.group)
	get(Peers, "/c/:name/outbox", s.groupOutbox)
	get(Peers, "/c/:name/followers", s.groupFollowers)
	get(Peers, "/c/:name/following", s.groupFollowing)
	get(Peers, "/c/:name/featured", s.groupFeatured)
	get(Peers, "/c/:name/featured/:id", s.groupFeaturedEntry)
	get(Peers, "/c/:name/tags", s.groupFeaturedTags)
	get(Peers, "/c/:name/moderators", s.groupModerators)

	// Inboxes: one pipeline behind the shared and per-actor doors.
	post(Peers, "/inbox", s.sharedInbox)
	post(Peers, "/u/:name/inbox", s.personInbox)
	post(Peers, "/c/:name/inbox", s.groupInbox)
	post(Peers, "/actor/inbox", s.instanceInbox)

	get(Peers, "/o/:id", s.object)
	get(Peers, "/o/:id/replies", s.objectReplies)
	get(Peers, "/o/:id/context", s.objectContext)
	get(Peers, "/a/:id", s.activity)

	// The instance actor stays public: servers fetch its key to verify our
	// signed fetches, and requiring a signature there would make two
	// secure-mode servers wait on each other.
	get(Public, "/actor", s.instanceActor)
	get(Peers, "/actor/outbox", s.instanceOutbox)
	get(Peers, "/actor/featured", s.instanceFeatured)

	get(Public, "/livez", s.livez)
	get(Public, "/readyz", s.readyz)
	// Metrics are not on this listener: MetricsHandler is served on its
	// own address (metrics_listen).

	// The pages mount their own routes; their access defaults to Members
	// like any route, except those they list as public (sign-in, static
	// files), and their session cookie is a way to recognise a member.
	if s.pages != nil {
		s.pages.Mount(e)
		// Pages with upload forms say which routes need larger bodies.
		if l, ok := s.pages.(interface{ BodyLimits() map[string]int64 }); ok {
			for route, n := range l.BodyLimits() {
				s.SetBodyLimit(route, n)
			}
		}
		s.Declare(Public, s.pages.PublicRoutes()...)
		s.AddViewer(s.pages.Viewer)
	}
}
