package server

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/commonplace/commonplace/storage"
)

// Secure mode: in allowlist mode ActivityPub documents are served only to
// requests signed by an actor of an allowed server (Mastodon's
// "authorized fetch"), verified by the same code as inbox signatures. The
// federation service decides (Service.AuthorizeFetch); this only picks the
// routes.

// alwaysDocuments are routes that serve ActivityPub JSON whatever the
// Accept header says: collections, posts' replies and activities.
var alwaysDocuments = map[string]bool{
	"/u/:name/outbox": true, "/u/:name/followers": true, "/u/:name/following": true,
	"/c/:name/outbox": true, "/c/:name/followers": true, "/c/:name/following": true,
	"/c/:name/featured": true, "/c/:name/moderators": true,
	"/o/:id/replies": true, "/a/:id": true, "/actor/outbox": true,
}

// negotiatedDocuments serve JSON to servers and a page to browsers. The
// pages show what a community is about, never its posts or members, so
// they stay public. The instance actor (/actor) stays public too: servers
// fetch its key to verify our signed fetches, and requiring a signature
// there would make two secure-mode servers wait on each other.
var negotiatedDocuments = map[string]bool{"/u/:name": true, "/c/:name": true, "/o/:id": true}

func (s *Server) secureFetch(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			return next(c)
		}
		route := c.Path()
		if !alwaysDocuments[route] && !(negotiatedDocuments[route] && wantsActivityJSON(req)) {
			return next(c)
		}
		if _, err := s.svc.AuthorizeFetch(req.Context(), req); err != nil {
			return err
		}
		return next(c)
	}
}

// pagePosts lists the posts a community's public HTML page may show: none
// in allowlist mode (the instance shares only with its allowed peers, so
// its content is not for the open web) or when the community is not
// public, and never posts from limited domains.
func (s *Server) pagePosts(ctx context.Context, com *storage.Community, f storage.ObjectFilter) ([]storage.Object, error) {
	if com.Visibility != storage.VisibilityPublic {
		return nil, nil
	}
	if mode, err := s.svc.Policy.CurrentMode(ctx); err != nil || mode == storage.ModeAllowlist {
		return nil, err
	}
	f.HideLimited = true
	return s.db.ListObjects(ctx, f)
}
