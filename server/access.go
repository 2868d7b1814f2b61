package server

import (
	"net/http"
	"sort"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Access in allowlist mode.
//
// An instance in allowlist mode shares its members' posts, accounts and
// communities with its allowed peers and its own members, and with no one
// else, through any door: API, page, feed, stream. The gate below enforces
// that for every route, deny by default: a route nobody declared is served
// in allowlist mode only to a request that carries a local account's
// credential. In blocklist mode the gate lets everything through except
// signed fetches by blocked servers.
//
// How a new route declares itself (keep the Public list short; the
// contract test in server/instance walks every route and holds the list):
//
//   - Nothing, if it shows anything of members, posts or communities: it is
//     then Members, the default.
//   - srv.Declare(server.Public, "GET /path") if anyone must reach it in
//     allowlist mode too: discovery, sign-in, static files, health,
//     instance metadata. It must show nothing of members or posts.
//   - srv.Declare(server.Peers, ...) for ActivityPub documents and inboxes.
//
// Packages that cannot import server (web) expose their route strings and
// their Viewer; server/instance passes them to Declare and AddViewer.
type Access int

const (
	// Members: served only to requests with a local account's credential
	// (a member's OAuth token, a web session), never to an application's
	// own token. The default.
	Members Access = iota
	// Peers: ActivityPub documents and inboxes. A GET must carry a
	// signature of an actor on an allowed server (secure fetch), or come
	// from a member; a POST is an inbox delivery, which the inbox pipeline
	// verifies and checks against the policy itself.
	Peers
	// Public: anyone.
	Public
)

func (a Access) String() string {
	switch a {
	case Public:
		return "public"
	case Peers:
		return "peers"
	}
	return "members"
}

// Viewer finds the local account a request acts for, from a credential it
// carries (a member's OAuth token, a web session cookie). It returns nil
// when there is none, or when the credential names no member (an app-only
// token, an expired session); an error only when the lookup itself failed.
type Viewer func(c echo.Context) (*storage.Account, error)

// Declare sets the access of routes, each written "METHOD /path" with the
// path as registered ("GET /u/:name"). GET covers HEAD. Call it before the
// server starts serving.
func (s *Server) Declare(a Access, routes ...string) {
	for _, r := range routes {
		s.access[r] = a
	}
}

// AddViewer adds a way to recognise a member. Call it before the server
// starts serving.
func (s *Server) AddViewer(v Viewer) { s.viewers = append(s.viewers, v) }

// Declared lists the routes declared with access a, sorted, for tests and
// docs.
func (s *Server) Declared(a Access) []string {
	var out []string
	for r, x := range s.access {
		if x == a {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// AccessOf is the access of the route registered as method and path.
func (s *Server) AccessOf(method, path string) Access {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	return s.access[method+" "+path]
}

const viewerKey = "server.viewer"

// viewer runs the viewer hooks until one recognises a member.
func (s *Server) viewer(c echo.Context) (*storage.Account, error) {
	if a, ok := c.Get(viewerKey).(*storage.Account); ok {
		return a, nil
	}
	for _, v := range s.viewers {
		a, err := v(c)
		if err != nil {
			return nil, err
		}
		if a != nil && !a.Disabled {
			c.Set(viewerKey, a)
			return a, nil
		}
	}
	return nil, nil
}

// errMembersOnly answers a request without a member's credential in
// allowlist mode. 401, as Mastodon answers in limited federation mode.
var errMembersOnly = echo.NewHTTPError(http.StatusUnauthorized,
	"This instance shares its content only with its members and allowed servers: sign in, or sign the request as an allowed server")

// gate enforces Access (see above). It runs after routing, so c.Path() is
// the route's template.
func (s *Server) gate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		route := c.Path()
		if route == "" {
			return next(c) // no route: a 404 that tells nothing
		}
		access := s.AccessOf(req.Method, route)
		if access == Public {
			return next(c)
		}
		isGet := req.Method == http.MethodGet || req.Method == http.MethodHead
		allowlist, err := s.allowlistMode(c)
		if err != nil {
			return err
		}
		if !allowlist {
			if access == Peers && isGet && signed(req) {
				// A signed fetch by a blocked server is refused.
				if _, err := s.svc.AuthorizeFetch(req.Context(), req); err != nil {
					return peerError(err)
				}
			}
			return next(c)
		}
		if access == Peers && !isGet {
			return next(c) // inbox deliveries: the pipeline verifies them
		}
		member, err := s.viewer(c)
		if err != nil {
			return err
		}
		if member != nil {
			return next(c)
		}
		if access == Peers && signed(req) {
			if _, err := s.svc.AuthorizeFetch(req.Context(), req); err != nil {
				return peerError(err)
			}
			return next(c)
		}
		return errMembersOnly
	}
}

func (s *Server) allowlistMode(c echo.Context) (bool, error) {
	if s.svc.Policy == nil {
		return false, nil
	}
	mode, err := s.svc.Policy.CurrentMode(c.Request().Context())
	return mode == storage.ModeAllowlist, err
}

// signed reports whether r carries an HTTP signature, in either header
// Mastodon accepts.
func signed(r *http.Request) bool {
	if r.Header.Get("Signature") != "" {
		return true
	}
	for _, a := range r.Header.Values(echo.HeaderAuthorization) {
		if scheme, _, _ := strings.Cut(strings.TrimSpace(a), " "); strings.EqualFold(scheme, "Signature") {
			return true
		}
	}
	return false
}
